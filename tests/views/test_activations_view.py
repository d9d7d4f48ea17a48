"""The Activations tab, as a learner uses it: pick an example by clicking
the output surface and read every layer's activations for it; see a unit
the learner killed marked dead in the activation matrix; watch the PCA
scatter of a hidden layer and switch the layer; the same tab on image and
sequence tasks."""
import pytest

from playground.spec import GRU, Conv2D, Dense, Flatten, MaxPool, SimpleRNN, Spec, Task
from tests.browser import learner

XOR = Spec(task=Task("xor"), layers=(Dense(4, "relu"), Dense(4, "relu")))
TIMEOUT = 90  # seconds: the engine starts in a browser on a busy 2-core machine

ROW_VALUES = "cells => cells.map(cell => cell.dataset.value)"
PAINTED_PIXELS = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let k = 3; k < data.length; k += 4) if (data[k] > 0) painted += 1;
    return painted;
}"""


def open_activations(new_page, app_url, spec=XOR):
    page = new_page(learner.link(app_url, spec))
    if spec.task.info.kind == "points":
        learner.wait_for_engine(page)
    page.get_by_role("tab", name="Activations").click()
    page.locator("[data-role=matrix][data-rows]").wait_for(state="attached", timeout=TIMEOUT * 1000)
    return page


def row_values(page, layer: str) -> list[str]:
    return page.locator(f".pg-activations-row[data-layer='{layer}'] [data-value]").evaluate_all(ROW_VALUES)


def click_surface(page, fx: float, fy: float) -> None:
    """A real click at a fraction of the output surface (the data points lie over it)."""
    box = page.locator("[data-role=surface]").bounding_box()
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def test_clicking_the_surface_shows_that_example_in_every_layer(new_page, app_url):
    page = open_activations(new_page, app_url)
    example = page.locator("[data-role=example]")
    learner.wait_until(page, lambda: all(row_values(page, "0")), TIMEOUT, "layer 1 shows no values")
    # "of 250" and the class come from the training data the page keeps; without it the
    # surface shows no points and a click picks nothing.
    learner.wait_until(page, lambda: example.text_content().startswith("Training point 1 of 250 (class "), TIMEOUT,
                       f"the page has no training data: it shows {example.text_content()!r}")
    page.get_by_text("Click in the output surface").wait_for()
    # One row per layer that gives a vector: the input, both hidden layers, the output.
    assert [len(row_values(page, layer)) for layer in ("input", "0", "1", "2")] == [2, 4, 4, 1]

    click_surface(page, 0.25, 0.25)  # around (−3, 3)
    learner.wait_until(page, lambda: "Training point 1 of" not in example.text_content(), TIMEOUT,
                       "the example did not change after a click on the surface")
    first = {layer: row_values(page, layer) for layer in ("input", "0")}
    first_text = example.text_content()
    assert all(value != "" for value in first["0"])
    x1, x2 = (float(v) for v in first["input"])
    assert abs(x1 + 3) < 0.5 and abs(x2 - 3) < 0.5, f"the example shown is not where I clicked: {x1}, {x2}"

    click_surface(page, 0.75, 0.75)  # around (3, −3)
    learner.wait_until(page, lambda: example.text_content() != first_text, TIMEOUT,
                       "the example did not change after a second click")
    learner.wait_until(page, lambda: row_values(page, "0") != first["0"] and row_values(page, "input") != first["input"],
                       TIMEOUT, "the activations did not follow the new example")
    x1, x2 = (float(v) for v in row_values(page, "input"))
    assert abs(x1 - 3) < 0.5 and abs(x2 + 3) < 0.5
    assert example.text_content().startswith(("Training point", "The point you placed at"))

    # The buttons step through the training examples (after a placed point: from the first).
    shown = example.get_attribute("data-selected")
    expected = 0 if shown == "custom" else int(shown) + 1
    page.get_by_role("button", name="Next example").click()
    learner.wait_until(page, lambda: example.get_attribute("data-selected") == str(expected), TIMEOUT,
                       "Next example did not show the next training point")
    assert example.text_content().startswith(f"Training point {expected + 1} of 250")
    page.get_by_role("button", name="Next example").click()
    learner.wait_until(page, lambda: example.get_attribute("data-selected") == str(expected + 1), TIMEOUT,
                       "Next example did not move on by one")
    page.get_by_role("button", name="Previous example").click()
    learner.wait_until(page, lambda: example.get_attribute("data-selected") == str(expected), TIMEOUT,
                       "Previous example did not go back")


def test_a_relu_neuron_made_dead_in_the_network_tab_is_marked_dead(new_page, app_url):
    page = new_page(learner.link(app_url, XOR))
    learner.wait_for_engine(page)
    page.locator("[data-node='0-0']").click()
    bias = page.locator("input[data-param='b-0']")
    bias.fill("-20")
    bias.press("Enter")
    page.get_by_role("tab", name="Activations").click()

    flag = page.locator("[data-role=unit-flags] li[data-state=dead][data-layer='0']")
    flag.wait_for(timeout=TIMEOUT * 1000)
    assert "0" in flag.get_attribute("data-units").split()
    text = flag.text_content()
    assert "dead unit" in text and "in layer 1" in text and "neuron 1.1" in text, text
    assert "never active" in text
    assert "0-0" in page.locator("[data-role=matrix]").get_attribute("data-dead").split()
    # Its square for this example is flagged too, and it passes nothing on.
    cell = page.locator(".pg-activations-row[data-layer='0'] [data-unit='0']")
    assert cell.get_attribute("data-state") == "dead"
    assert float(cell.get_attribute("data-value")) == 0.0
    # The marks are explained in words.
    page.get_by_text("dead: never active").wait_for()
    page.get_by_text("always on: acts linearly").wait_for()


def test_the_pca_scatter_draws_the_examples_and_follows_the_chosen_layer(new_page, app_url):
    page = open_activations(new_page, app_url)
    scatter = page.locator("[data-role=pca]")
    learner.wait_until(page, lambda: int(scatter.get_attribute("data-points") or 0) > 0, TIMEOUT, "no PCA points")
    assert int(scatter.get_attribute("data-points")) == 250
    assert scatter.evaluate(PAINTED_PIXELS) > 500, "the PCA scatter is blank"
    shown = page.locator("[data-role=pca-layer]")
    assert shown.get_attribute("data-layer") == "1"  # the last hidden layer at first
    assert shown.text_content().startswith("Layer 2 (dense, 4 neurons, relu)")
    assert page.get_by_text("PC 1 (").text_content().endswith("%)")
    before = scatter.evaluate("canvas => canvas.toDataURL()")

    page.locator("[data-role=pca-layer-select]").select_option("0")
    learner.wait_until(page, lambda: shown.get_attribute("data-layer") == "0", TIMEOUT,
                       "the PCA did not switch to layer 1")
    assert shown.text_content().startswith("Layer 1 (dense, 4 neurons, relu)")
    learner.wait_until(page, lambda: scatter.evaluate("canvas => canvas.toDataURL()") != before, TIMEOUT,
                       "the scatter did not change with the layer")
    page.locator("[data-role=pca-layer-select]").select_option("1")
    learner.wait_until(page, lambda: shown.get_attribute("data-layer") == "1", TIMEOUT,
                       "the PCA did not switch back to layer 2")


@pytest.mark.parametrize("spec, word, layers", [
    (Spec(task=Task("digits"), layers=(Conv2D(4, 3), MaxPool(2), Flatten(), Dense(8, "relu"))), "image", 12),
    (Spec(task=Task("parity"), layers=(GRU(6),)), "sequence", 6),
    (Spec(task=Task("sine"), layers=(SimpleRNN(4), Dense(3, "tanh"))), "sequence", 7),
], ids=["digits", "parity", "sine"])
def test_images_and_sequences_show_what_they_have(new_page, app_url, spec, word, layers):
    page = open_activations(new_page, app_url, spec)
    matrix = page.locator("[data-role=matrix]")
    assert int(matrix.get_attribute("data-columns")) == layers
    assert matrix.evaluate(PAINTED_PIXELS) > 0
    scatter = page.locator("[data-role=pca]")
    learner.wait_until(page, lambda: int(scatter.get_attribute("data-points") or 0) > 0, TIMEOUT, "no PCA points")
    example = page.locator("[data-role=example]")
    assert example.text_content().startswith(f"Training {word} 1 of")
    page.get_by_role("button", name="Next example").click()
    learner.wait_until(page, lambda: example.text_content().startswith(f"Training {word} 2 of"), TIMEOUT,
                       "Next example did not move on")
    # No output surface to click for these tasks.
    assert not page.locator("[data-role=click-hint]").is_visible()


def test_the_view_follows_the_architecture(new_page, app_url):
    page = open_activations(new_page, app_url)
    select = page.locator("[data-role=pca-layer-select]")
    learner.wait_until(page, lambda: select.locator("option").count() == 2, TIMEOUT, "two hidden layers to choose")
    select.select_option("0")
    page.get_by_role("tab", name="Network").click()
    page.locator("[data-role=add-layer]").click()
    page.get_by_role("tab", name="Activations").click()
    learner.wait_until(page, lambda: page.locator(".pg-activations-row[data-layer='3']").count() == 1, TIMEOUT,
                       "no row for the output after a layer was added")
    learner.wait_until(page, lambda: select.locator("option").count() == 3, TIMEOUT, "the new layer is not offered")
    assert page.locator("[data-role=pca-layer]").get_attribute("data-layer") == "0"  # the choice stays
    assert page.locator("[data-role=matrix]").get_attribute("data-columns") == "12"
    page.get_by_role("tab", name="Network").click()
    for _ in range(3):
        page.locator("[data-role=remove-layer]").click()
    learner.wait_until(page, lambda: page.locator(".pg-column-header").count() == 2, TIMEOUT, "layers not removed")
    page.get_by_role("tab", name="Activations").click()
    page.get_by_text("no hidden layer with units yet").first.wait_for(timeout=TIMEOUT * 1000)
    assert not page.locator("[data-role=pca]").is_visible()
    learner.wait_until(page, lambda: row_values(page, "0") and len(row_values(page, "0")) == 1, TIMEOUT,
                       "the output row of a network without hidden layers")
