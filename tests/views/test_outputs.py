"""Multiclass output as a learner reads it: the surface coloured by class,
the accuracy, and a confusion matrix that counts every test example."""
from playground.spec import Dense, Spec, Task, Training

from ..browser.learner import link, pause, train, wait_for_engine, wait_until


def confusion(page):
    cells = page.locator(".pg-confusion-table td")
    return [[int(cells.nth(i * 4 + j).text_content()) for j in range(4)] for i in range(4)]


def test_confusion_matrix_counts_every_test_example(app_url, new_page):
    spec = Spec(task=Task("blobs", options={"classes": 4}, noise=0.2), layers=(Dense(6),),
                training=Training(learning_rate=0.1))
    page = new_page(link(app_url, spec))
    wait_for_engine(page)
    page.locator(".pg-confusion-table").wait_for()
    assert page.locator(".pg-confusion-table td").count() == 16
    before = confusion(page)
    assert sum(map(sum, before)) == 250, "every test example is counted once"
    train(page)
    wait_until(page, lambda: "Test accuracy" in page.locator("[data-role=accuracy]").text_content()
               and float(page.locator("[data-role=accuracy]").text_content().split()[2]) > 85, 60,
               "blobs: the accuracy shown did not pass 85 %")
    pause(page)
    after = confusion(page)
    assert sum(map(sum, after)) == 250
    assert sum(after[i][i] for i in range(4)) > 0.85 * 250, "most test examples sit on the diagonal"
    assert "rows are the true classes" in page.locator("[data-role=confusion] p").text_content()
    legend = page.locator(".pg-legend-box").text_content()
    assert all(f"class {i}" in legend for i in range(1, 5))
