"""The Gradient flow tab: a learner sees the gradient vanish through 8 sigmoid
layers and not through 8 relu layers, the chart grow while the network
trains, and (on the network tab) the gradients drawn over the graph."""
import re

import pytest

from playground.spec import Dense, Spec, Task, Training

from ..browser.learner import link, press, settle, step, train, wait_for_engine, wait_until

SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def deep(activation: str) -> Spec:
    return Spec(task=Task("circle"), layers=(Dense(8, activation),) * 8, training=Training(init="glorot"))


def open_gradients(page) -> None:
    page.get_by_role("tab", name="Gradient flow").click()
    page.locator("[data-role=gradient-table] tr[data-layer='0'][data-norm]").wait_for(timeout=60_000)


def row(page, layer: int):
    return page.locator(f"[data-role=gradient-table] tr[data-layer='{layer}']")


def shown_norm(page, layer: int) -> float:
    """The norm as the row shows it ("1.23 × 10⁻⁵"), checked against its data-norm."""
    text = row(page, layer).locator(".pg-gradients-norm").text_content().translate(SUPERSCRIPTS)
    match = re.fullmatch(r"(-?[\d.]+)(?: × 10(-?\d+))?", text.strip())
    assert match, f"layer {layer + 1}: the norm shown is not a number: {text!r}"
    value = float(match[1]) * 10 ** int(match[2] or 0)
    exact = float(row(page, layer).get_attribute("data-norm"))
    assert value == pytest.approx(exact, rel=0.01)
    return value


def flags_shown(page) -> list[str]:
    return [text.strip() for text in page.locator("[data-role=gradient-table] .pg-gradients-flag").all_text_contents()]


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_the_gradient_vanishes_through_eight_sigmoid_layers(app_url, new_page, activation):
    page = new_page(link(app_url, deep(activation)))
    wait_for_engine(page)
    open_gradients(page)
    assert row(page, 8).text_content().strip().startswith("output")
    assert "layer 1 (dense)" in row(page, 0).text_content()
    first, last_hidden = shown_norm(page, 0), shown_norm(page, 7)
    sentence = page.locator("[data-role=gradient-ratio]").text_content()
    if activation == "sigmoid":
        assert first * 100 <= last_hidden, f"sigmoid: first {first}, last hidden {last_hidden}"
        assert any("vanishing" in flag for flag in flags_shown(page)), flags_shown(page)
        assert row(page, 0).get_attribute("data-flag") == "vanishing"
        assert "the gradient vanishes on its way back" in sentence
        assert re.search(r"1/[\d,]+ of the last hidden layer's", sentence), sentence
    else:
        assert first * 100 > last_hidden, f"relu: first {first}, last hidden {last_hidden}"
        assert not any("vanishing" in flag for flag in flags_shown(page)), flags_shown(page)
        assert "vanishes" not in sentence


def test_the_chart_grows_while_training_and_starts_again_after_reset(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("xor"), layers=(Dense(4), Dense(4)))))
    wait_for_engine(page)
    open_gradients(page)
    chart = page.locator("[data-role=gradient-chart]")

    def points() -> int:
        return int(chart.get_attribute("data-points"))

    before, picture = points(), chart.evaluate("canvas => canvas.toDataURL()")
    legend = page.locator(".pg-gradients-legend").text_content()
    assert "layer 1 (dense)" in legend and "layer 2 (dense)" in legend and "output" in legend
    train(page)
    wait_until(page, lambda: points() >= before + 5, 60, "the gradient chart did not record the training steps")
    assert chart.evaluate("canvas => canvas.toDataURL()") != picture, "the chart's picture did not change"
    assert int(chart.get_attribute("data-step")) > 0
    chart.hover()
    tooltip = page.locator(".pg-tooltip")
    wait_until(page, tooltip.is_visible, 10, "hovering the chart shows no values")
    assert re.match(r"Step [\d,]+ — gradient norms: layer 1 \(dense\) [\d.]+", tooltip.text_content())
    press(page, "Reset")
    wait_until(page, lambda: chart.get_attribute("data-step") == "0" and points() == 1, 30,
               "after Reset the chart should start again at step 0")
    assert step(page) == 0


def test_try_it_builds_eight_sigmoid_layers(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("circle"), layers=(Dense(4), Dense(2)))))
    wait_for_engine(page)
    open_gradients(page)
    assert page.locator("[data-role=gradient-table] tr[data-layer]").count() == 3
    page.get_by_role("button", name="Try it: 8 sigmoid layers").click()
    wait_until(page, lambda: page.locator("[data-role=gradient-table] tr[data-layer]").count() == 9, 60,
               "the experiment's 8 hidden layers did not appear in the table")
    wait_until(page, lambda: row(page, 0).get_attribute("data-flag") == "vanishing", 30,
               "with 8 sigmoid layers the first layer's gradient should be flagged as vanishing")
    page.get_by_role("tab", name="Network").click()
    assert page.get_by_text("8 hidden layers", exact=True).is_visible()
    assert page.locator("select.pg-activation").evaluate_all("selects => selects.map(s => s.value)") == ["sigmoid"] * 8


def test_show_gradients_changes_the_network_picture(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("circle"), layers=(Dense(4), Dense(4)))))
    wait_for_engine(page)
    settle(page)
    canvas = page.locator(".pg-graph-canvas")

    def picture() -> str:
        return canvas.evaluate("canvas => canvas.toDataURL()")

    before = picture()
    page.locator("[data-role=gradient-overlay]").check()
    wait_until(page, lambda: picture() != before, 30, "ticking “Show gradients” did not change the graph's picture")
    assert "gradient" in page.locator(".pg-graph-options").text_content()
    page.locator("[data-role=gradient-overlay]").uncheck()
    wait_until(page, lambda: picture() == before, 30, "unticking “Show gradients” should bring the weights back")
