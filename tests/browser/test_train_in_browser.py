"""A learner builds a network by clicking, trains it in the browser, and
sees it learn; the surface moves frame by frame; a weight edited by click
changes the surface."""
import pytest

from playground.spec import Dense, Spec, Task

from .learner import (click_an_edge, link, pause, settle, shown_test_loss, step, surface_image, train,
                      wait_for_engine, wait_until)


@pytest.mark.parametrize("dataset", ["circle", "xor"])
def test_network_built_by_clicking_learns(app_url, new_page, dataset):
    page = new_page(link(app_url, Spec(task=Task(dataset))))  # a single neuron: it cannot solve either
    wait_for_engine(page)
    page.locator("[data-role=add-layer]").click()
    page.locator("[data-node='0-3']").wait_for()  # a hidden layer of 4 neurons appeared
    page.locator("[data-role=add-neuron-0]").click()
    page.locator("[data-role=add-neuron-0]").click()
    page.locator("[data-node='0-5']").wait_for()
    assert page.locator("[data-node^='0-']").count() == 6
    assert page.get_by_text("1 hidden layer", exact=True).is_visible()
    start_loss = shown_test_loss(page)
    train(page)
    wait_until(page, lambda: shown_test_loss(page) < 0.05, 90,
               f"{dataset}: the test loss shown did not fall below 0.05 (started at {start_loss})")
    assert start_loss > 0.2


def test_surface_changes_from_frame_to_frame(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("spiral"), layers=(Dense(8), Dense(8)))))
    wait_for_engine(page)
    train(page)
    images = []
    for _ in range(4):
        page.wait_for_timeout(400)
        images.append(surface_image(page))
    assert len(set(images)) == 4, "every look at the surface during training should show a new picture"
    assert step(page) > 0


def test_editing_a_weight_by_click_changes_the_surface(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("circle"), layers=(Dense(3),))))
    wait_for_engine(page)
    settle(page)
    before = surface_image(page)
    click_an_edge(page, 0)
    field = page.locator(".pg-editor [data-param='W-0']")
    field.wait_for()
    assert page.locator(".pg-editor").get_by_text("weight from x₁").is_visible()
    field.fill("4.5")
    field.press("Enter")
    wait_until(page, lambda: surface_image(page) != before, 10, "the surface did not change after the weight edit")
    # the edge now shows the new weight when hovered
    assert step(page) == 0, "editing a weight does not train"


def test_editing_a_bias_from_the_keyboard(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("xor"), layers=(Dense(2),))))
    wait_for_engine(page)
    before = surface_image(page)
    page.locator("[data-node='0-0']").focus()
    page.keyboard.press("Enter")
    bias = page.locator(".pg-editor [data-param='b-0']")
    bias.wait_for()
    assert bias.evaluate("input => document.activeElement === input || input.getRootNode().activeElement === input")
    bias.fill("-3")
    page.keyboard.press("Enter")
    wait_until(page, lambda: surface_image(page) != before, 10, "the surface did not change after the bias edit")
    page.keyboard.press("Escape")
    assert page.locator(".pg-editor").is_hidden()


def test_training_pauses_and_steps(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("gauss"), layers=(Dense(2),))))
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: step(page) > 100, 30, "training did not start")
    pause(page)
    paused_at = step(page)
    settle(page)
    assert step(page) == paused_at, "a paused run must not train"
    page.get_by_role("button", name="Step", exact=True).click()
    wait_until(page, lambda: step(page) == paused_at + 25, 10, "Step should train exactly one epoch (25 batches of 10)")
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_until(page, lambda: step(page) == 0, 10, "Reset should start again at step 0")


def test_problem_types_multiclass_and_regression(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("circle"), layers=(Dense(6),))))
    wait_for_engine(page)
    page.get_by_role("combobox", name="Problem type").select_option("multiclass")
    legend = page.locator(".pg-legend-box")
    wait_until(page, lambda: "class 3" in (legend.text_content() or ""), 15, "no legend of the 3 classes")
    assert page.get_by_role("combobox", name="Dataset").evaluate(
        "select => select.options[select.selectedIndex].text") == "Blobs"
    assert page.locator("[data-node^='1-']").count() == 3, "one output per class"
    train(page)
    wait_until(page, lambda: shown_test_loss(page) < 0.2, 60, "blobs: the loss did not fall")
    assert "Test accuracy" in page.locator("[data-role=accuracy]").text_content()
    pause(page)
    page.get_by_role("combobox", name="Problem type").select_option("regression")
    wait_until(page, lambda: page.locator("[data-role=surface]").get_attribute("data-dataset") == "plane", 15,
               "regression did not switch to the plane data")
    assert page.locator("[data-role=accuracy]").text_content() == "", "no accuracy for regression"
    assert "orange negative, blue positive" in legend.text_content()


def test_page_needs_nothing_from_the_internet(app_url, new_page):
    page = new_page("about:blank")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(link(app_url, Spec(task=Task("xor"), layers=(Dense(2),))))
    wait_for_engine(page)
    train(page)
    page.wait_for_timeout(1000)
    outside = [url for url in requests if not url.startswith(app_url) and not url.startswith(("blob:", "data:"))]
    assert not outside, f"requests outside the app: {outside[:5]}"
    assert any("pyodide.asm.wasm" in url for url in requests)
