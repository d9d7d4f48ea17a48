"""A model too big for the browser trains on the server and the page shows
it live; the learner ends the job, or closes the page, and the job ends."""
import time

import pytest

from playground.routing import BROWSER_BUDGET, epoch_cost
from playground.spec import Conv2D, Dense, Flatten, MaxPool, Spec, Task, Training

from ..browser.learner import link, pause, shown_test_loss, step, train, wait_for_engine, wait_until

pytestmark = pytest.mark.usefixtures("no_server_errors")

BIG_CNN = Spec(task=Task("digits"),
               layers=(Conv2D(16, 3, padding="same"), Conv2D(32, 3, padding="same"), MaxPool(2), Flatten(),
                       Dense(64, activation="relu")),
               training=Training(optimizer="adam", learning_rate=0.003, batch_size=32))


def wait_for_jobs(runner, count: int, timeout: float) -> float:
    """Seconds until the runner has ``count`` jobs (fails after ``timeout``)."""
    started = time.monotonic()
    while len(runner.jobs()) != count:
        assert time.monotonic() - started < timeout, f"the runner still has {runner.jobs()}"
        time.sleep(0.02)
    return time.monotonic() - started


def test_the_cnn_is_too_big_for_the_browser():
    assert epoch_cost(BIG_CNN) > BROWSER_BUDGET


def test_a_big_cnn_trains_on_the_server_and_the_page_shows_it(server_app, new_page):
    url, runner = server_app
    page = new_page(link(url, BIG_CNN))
    where = page.locator("[data-role=where]")
    wait_until(page, lambda: where.text_content().startswith("On the server"), 30, "the run goes to the server")
    assert "over the browser's budget" in page.locator("[data-role=route]").text_content()
    wait_for_engine(page)
    assert len(runner.jobs()) == 1
    first_loss = float(page.locator("[data-role=train-loss]").text_content())
    train(page)
    wait_until(page, lambda: step(page) >= 120, 120, "the server trains")
    # Live frames: the step shown moves while it trains.
    seen = {step(page)}
    for _ in range(10):
        page.wait_for_timeout(300)
        seen.add(step(page))
    assert len(seen) >= 3, f"the page showed only steps {sorted(seen)}"
    pause(page)
    assert float(page.locator("[data-role=train-loss]").text_content()) < first_loss
    # The CNN view draws the server's feature maps like the browser's.
    assert page.locator(".pg-view-area canvas").count() > 0
    job = runner.jobs()[0]
    assert job["step"] == step(page)

    train(page)
    wait_until(page, lambda: runner.jobs() and runner.jobs()[0]["playing"], 10, "the job plays again")
    page.locator("[data-role=cancel-job]").click()
    seconds = wait_for_jobs(runner, 0, timeout=1.0)
    print(f"the job ended {seconds:.3f} s after the click")
    wait_until(page, lambda: "ended: cancelled" in page.locator(".pg-notice").text_content(), 10, "the page says so")


def test_closing_the_page_ends_its_job(server_app, new_page):
    url, runner = server_app
    page = new_page(link(url, BIG_CNN))
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: runner.jobs() and runner.jobs()[0]["step"] > 0, 60, "the job trains")
    page.close()
    seconds = wait_for_jobs(runner, 0, timeout=10)
    print(f"the job ended {seconds:.2f} s after the page closed")


def test_a_run_moves_to_the_server_and_back_keeping_its_weights(server_app, new_page):
    url, runner = server_app
    page = new_page(link(url, Spec(task=Task("circle"), layers=(Dense(4), Dense(2)))))
    where = page.locator("[data-role=where]")
    assert where.text_content() == "In this browser"
    assert "within the browser's budget" in page.locator("[data-role=route]").text_content()
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: step(page) >= 200, 60, "the browser trains")
    pause(page)
    in_browser = step(page), shown_test_loss(page)

    page.get_by_role("combobox", name="Train in").select_option("The server")
    wait_until(page, lambda: where.text_content() == "On the server (CPU)", 30, "the run moves to the server")
    wait_until(page, lambda: len(runner.jobs()) == 1, 10, "a server job opens")
    assert "you chose the server" in page.locator("[data-role=route]").text_content()
    wait_until(page, lambda: runner.jobs()[0]["step"] == in_browser[0], 10, "the job resumes at the same step")
    assert (step(page), shown_test_loss(page)) == pytest.approx(in_browser, rel=1e-4), "same weights, same loss"
    train(page)
    wait_until(page, lambda: step(page) >= in_browser[0] + 200, 60, "the server trains on")
    pause(page)
    on_server = step(page), shown_test_loss(page)

    page.get_by_role("combobox", name="Train in").select_option("This browser")
    wait_until(page, lambda: where.text_content() == "In this browser", 30, "the run comes back")
    wait_until(page, lambda: len(runner.jobs()) == 0, 10, "the server job ends")
    page.wait_for_timeout(1000)
    assert (step(page), shown_test_loss(page)) == pytest.approx(on_server, rel=1e-4)


def test_the_page_says_when_there_is_no_server_trainer(app_url, new_page):
    page = new_page(link(app_url, BIG_CNN))
    route = page.locator("[data-role=route]")
    wait_until(page, lambda: "no server trainer" in route.text_content(), 30, "the page says so")
    assert "training will be slow" in route.text_content()
    assert page.get_by_role("combobox", name="Train in").is_disabled()
    assert page.locator("[data-role=where]").text_content() == "In this browser"
