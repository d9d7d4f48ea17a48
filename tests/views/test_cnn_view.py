"""The network view for image tasks, as a learner uses it: draw a digit and
see the feature maps and the prediction follow; build the network from
blocks; ask what excites a filter."""
import pytest

from playground.spec import Spec, Task, Training
from playground.spec.schema import Conv2D, Flatten, MaxPool

from ..browser.learner import link, wait_until

START_SECONDS = 90
DIGITS = Spec(task=Task("digits"), layers=(Conv2D(6, 3), MaxPool(2), Flatten()),
              training=Training("adam", 0.01, batch_size=32))


def open_digits(new_page, app_url):
    page = new_page(link(app_url, DIGITS))
    # the engine runs and the first frame for this view is drawn: the prediction shows a class
    page.locator("[data-role=cnn-prediction][data-predicted]").wait_for(timeout=START_SECONDS * 1000)
    return page


def shows(page) -> str:
    return page.locator("[data-role=cnn-view]").get_attribute("data-shows") or ""


def feature_maps(page, position: int = 0) -> list[str]:
    return page.locator(f"[data-role=cnn-maps-{position}] canvas").evaluate_all(
        "canvases => canvases.map(canvas => canvas.toDataURL())")


def stroke(page, start, end) -> None:
    """A pen stroke on the pad between two points given as fractions of its size."""
    box = page.locator("[data-role=cnn-pad]").bounding_box()

    def at(point):
        return box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]

    page.mouse.move(*at(start))
    page.mouse.down()
    page.mouse.move(*at(end), steps=12)
    page.mouse.up()


def draw_and_wait(page, start, end) -> list[str]:
    page.locator("[data-role=cnn-clear]").click()
    stroke(page, start, end)
    wait_until(page, lambda: shows(page) == "drawing", 30, "the view never showed the drawn image")
    return feature_maps(page)


def test_feature_maps_and_prediction_follow_the_drawing(app_url, new_page):
    page = open_digits(new_page, app_url)
    assert len(feature_maps(page, 0)) == 6 and len(feature_maps(page, 1)) == 6  # conv and pool: a map per filter

    vertical = draw_and_wait(page, (0.5, 0.1), (0.5, 0.9))
    assert page.locator("[data-role=cnn-caption]").text_content() == "Your drawing"
    horizontal = draw_and_wait(page, (0.1, 0.5), (0.9, 0.5))
    assert vertical != horizontal, "the feature maps should change when another digit is drawn"
    assert sum(a != b for a, b in zip(vertical, horizontal)) >= 3

    # the prediction: a class, and a probability bar for each of the ten digits
    bars = page.locator("[data-role=cnn-prediction]")
    predicted = int(bars.get_attribute("data-predicted"))
    assert 0 <= predicted <= 9
    text = page.locator("[data-role=cnn-prediction-text]").text_content()
    assert text.startswith(f"It says: {predicted} (probability")
    probabilities = [float(v) for v in bars.locator(".pg-cnn-bar-value").all_text_contents()]
    assert len(probabilities) == 10 and sum(probabilities) == pytest.approx(1, abs=0.03)
    assert bars.locator(".pg-cnn-bar-label.pg-cnn-predicted").text_content() == str(predicted)
    assert page.get_by_text("where a change of the pixel would change the score of the predicted class the most").is_visible()

    # back to the training images
    page.get_by_role("button", name="training image ▶").click()
    wait_until(page, lambda: shows(page) == "training-1", 30, "the next training image was not shown")
    assert page.locator("[data-role=cnn-caption]").text_content().startswith("Training image 2 of ")
    assert feature_maps(page) != horizontal


def test_the_pad_works_from_the_keyboard(app_url, new_page):
    page = open_digits(new_page, app_url)
    before = feature_maps(page)
    page.locator("[data-role=cnn-clear]").click()
    page.locator("[data-role=cnn-pad]").focus()
    for key in ["Space", "ArrowDown", "Space", "ArrowDown", "Space"]:
        page.keyboard.press(key)
    wait_until(page, lambda: shows(page) == "drawing", 30, "the keyboard drawing was not shown")
    assert feature_maps(page) != before


def test_the_builder_adds_layers_and_shows_a_refusal(app_url, new_page):
    page = open_digits(new_page, app_url)
    chain = page.locator("[data-role=cnn-chain]")
    assert page.locator("[data-role=cnn-block]").count() == 3
    assert chain.get_attribute("data-layers") == "conv2d,maxpool,flatten"
    assert page.locator("[data-role=shape-1]").text_content() == "→ 6×4×4"

    page.get_by_role("button", name="+ conv").click()
    wait_until(page, lambda: page.locator("[data-role=cnn-block]").count() == 4, 30, "no conv layer was added")
    assert chain.get_attribute("data-layers") == "conv2d,maxpool,conv2d,flatten"  # before the flatten
    assert page.locator("[data-role=shape-2]").text_content() == "→ 4×4×4"
    page.locator("[data-role=cnn-maps-2] canvas").nth(3).wait_for()  # its feature maps show

    page.get_by_role("button", name="+ dense").click()
    wait_until(page, lambda: chain.get_attribute("data-layers") == "conv2d,maxpool,conv2d,flatten,dense", 30,
               "no dense layer was added after the flatten")
    page.get_by_role("button", name="layer 5: units: fewer").click()
    wait_until(page, lambda: page.locator("[data-role=value-units-4]").text_content() == "12", 30,
               "the dense layer's units did not change")

    # a 7×7 kernel on the 4×4 maps after pooling cannot work: the page says why
    page.locator("[data-role=kernel-2]").select_option("7")
    page.get_by_text("kernel 7 is larger than its 4×4 input").first.wait_for(timeout=30_000)
    assert page.locator("[data-role=kernel-2]").input_value() == "3"
    assert chain.get_attribute("data-layers") == "conv2d,maxpool,conv2d,flatten,dense"

    page.get_by_role("button", name="Remove layer 3 (conv)").click()
    wait_until(page, lambda: chain.get_attribute("data-layers") == "conv2d,maxpool,flatten,dense", 30,
               "the conv layer was not removed")


def test_a_filter_shows_the_training_images_that_excite_it(app_url, new_page):
    page = open_digits(new_page, app_url)
    filters = page.locator("[data-role=cnn-filter]")
    assert filters.count() == 6
    filters.nth(2).click()
    top = page.locator("[data-role=cnn-top][data-count]")
    top.wait_for(timeout=30_000)
    assert top.get_attribute("data-count") == "8"
    assert "What excites filter 3 of layer 1" in top.text_content()
    images = top.locator("[data-role=cnn-top-image]")
    assert images.count() == 8
    scores = [float(images.nth(i).get_attribute("data-score")) for i in range(8)]
    assert scores == sorted(scores, reverse=True)
    assert all(text.startswith("score ") for text in images.locator("span:first-of-type").all_text_contents())
    # one of them, clicked, becomes the image the views look at
    chosen = images.nth(1).get_attribute("data-index")
    images.nth(1).click()
    wait_until(page, lambda: shows(page) == f"training-{chosen}", 30, "the chosen image was not shown")
    assert page.locator("[data-role=cnn-caption]").text_content().startswith(f"Training image {int(chosen) + 1} of ")
