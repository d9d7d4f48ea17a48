"""The recurrent network view, as a learner uses it in the browser: the
gradient-through-time bars show the gradient vanishing through a simple RNN
but reaching far back through a GRU; the time line follows the chosen
sequence; the builder switches a cell's kind and its gates show."""
from __future__ import annotations

from playground.spec import Spec
from playground.spec.schema import GRU, SimpleRNN, Task, Training

from ..browser.learner import link, pause, train, wait_until

TIMEOUT = 90  # seconds: the engine starts in a worker; the machine is shared
DELAY = 16
STEPS = DELAY + 1


def echo(cell) -> Spec:
    """Recall the first of 17 symbols. Seed 2: in CPython, float32 and
    float64 alike, from training step 100 to 1,500 the simple RNN's far half
    stays under 3 % of its bars while the GRU's stays above 20 %."""
    return Spec(task=Task("echo", options={"delay": DELAY}, seed=2), layers=(cell(16),),
                training=Training("adam", 0.01, batch_size=32))


def open_view(new_page, app_url, spec):
    page = new_page(link(app_url, spec))
    page.locator("[data-role=rnn-view][data-step]").wait_for(timeout=TIMEOUT * 1000)
    page.locator("[data-role=bow-chart] .pg-rnn-bar").first.wait_for(timeout=TIMEOUT * 1000)
    wait_until(page, lambda: page.locator("[data-role=input-tokens] [data-t]").count() > 0, TIMEOUT,
               "the time line never showed the sequence")
    return page


def shown_bars(page) -> list[float]:
    """The bars' values, k = 0 … T−1, from what the page shows."""
    bars = page.locator("[data-role=bow-chart] .pg-rnn-bar")
    return [float(value) for value in bars.evaluate_all(
        "bars => bars.sort((a, b) => a.dataset.k - b.dataset.k).map(b => b.dataset.value)")]


def far_share(values: list[float]) -> float:
    """The share of the bars k ≥ T/2 in all of them."""
    steps = len(values)
    total = sum(values)
    assert total > 0, f"the bars are all zero: {values}"
    return sum(v for k, v in enumerate(values) if k >= steps / 2) / total


def bars_after_training(page, from_step: int = 200) -> list[float]:
    """Train until the bars were measured at `from_step` or later, then pause."""
    train(page)
    wait_until(page, lambda: int(page.locator("[data-role=bow]").get_attribute("data-step") or 0) >= from_step,
               TIMEOUT, f"the gradient bars were never measured at step {from_step} or later")
    pause(page)
    return shown_bars(page)


def test_gradient_vanishes_through_a_simple_rnn_but_not_through_a_gru(new_page, app_url):
    shares, sentences = {}, {}
    for name, cell in (("rnn", SimpleRNN), ("gru", GRU)):
        page = open_view(new_page, app_url, echo(cell))
        chart = page.locator("[data-role=bow-chart]")
        assert chart.count() == 1 and chart.get_attribute("data-cell") == name
        assert chart.locator(".pg-rnn-bar").count() == STEPS  # k = 0 … 16 steps back
        assert "steps back" in page.locator("[data-role=bow]").text_content()
        values = bars_after_training(page)
        assert len(values) == STEPS and max(values) > 0
        shares[name] = far_share(values)
        sentences[name] = page.locator("[data-role=bow-sentence]").text_content()
        page.close()
    print("far-half shares of the bars:", shares)
    assert shares["rnn"] < shares["gru"], shares
    assert "vanishes" in sentences["rnn"], sentences["rnn"]
    assert "vanishes" not in sentences["gru"], sentences["gru"]


def test_the_time_line_follows_the_chosen_sequence(new_page, app_url):
    page = open_view(new_page, app_url, echo(GRU))
    tokens = page.locator("[data-role=input-tokens] [data-t]")
    assert tokens.count() == STEPS
    assert page.locator("[data-row=steps] [data-t]").last.text_content() == str(STEPS)
    first = tokens.all_text_contents()
    assert set(first) <= set("ABCD"), first
    # One answer per sequence: the target sits under the last step, and it is the first symbol.
    targets = page.locator("[data-role=targets] [data-t]").all_text_contents()
    assert targets[:-1] == [""] * (STEPS - 1) and targets[-1] == first[0]
    assert page.locator("[data-role=predictions] [data-t]").count() == STEPS
    state = page.locator("canvas[data-role=state]")
    assert state.count() == 1
    before = state.evaluate("canvas => canvas.toDataURL()")
    assert page.locator("[data-role=sequence-number]").text_content().startswith("training sequence 1 of")

    # Hovering the state heatmap tells the step, the unit and the value.
    state.scroll_into_view_if_needed()
    box = state.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + 3)
    tooltip = page.locator(".pg-tooltip")
    wait_until(page, lambda: tooltip.is_visible() and "Step 1, unit 1" in tooltip.text_content(), TIMEOUT,
               "hovering the heatmap showed no step and unit")

    page.get_by_role("button", name="next sequence ▶").click()
    wait_until(page, lambda: page.locator("[data-role=rnn-view]").get_attribute("data-selected") == "1", TIMEOUT,
               "the view never showed the next sequence")
    assert page.locator("[data-role=sequence-number]").text_content().startswith("training sequence 2 of")
    wait_until(page, lambda: state.evaluate("canvas => canvas.toDataURL()") != before, TIMEOUT,
               "the hidden state did not change with the sequence")
    second = tokens.all_text_contents()
    assert second != first
    assert page.locator("[data-role=targets] [data-t]").last.text_content() == second[0]

    page.get_by_role("button", name="◀ previous sequence").click()
    wait_until(page, lambda: page.locator("[data-role=rnn-view]").get_attribute("data-selected") == "0", TIMEOUT,
               "the view never went back to the first sequence")
    wait_until(page, lambda: tokens.all_text_contents() == first, TIMEOUT, "the first sequence did not come back")


def test_the_builder_switches_a_gru_to_an_lstm_and_its_gates_appear(new_page, app_url):
    spec = Spec(task=Task("text", options={"length": 12}), layers=(GRU(8),),
                training=Training("adam", 0.01, batch_size=32))
    page = open_view(new_page, app_url, spec)
    gates = page.locator("canvas[data-role=gate]")

    def shown_gates():
        return sorted(gates.evaluate_all("nodes => nodes.map(n => n.dataset.gate)"))

    wait_until(page, lambda: shown_gates() == ["candidate", "reset", "update"], TIMEOUT, "the GRU's gates are not shown")
    assert "text: predict the next character" in page.locator("[data-role=task]").text_content()
    assert page.locator("[data-role=shape-0]").text_content() == "→ 12 steps × 8"
    assert "⏎" in page.locator("[data-role=task]").text_content()  # how a new line is written

    page.get_by_label("Cell of layer 1").select_option("lstm")
    wait_until(page, lambda: shown_gates() == ["cell", "cell_input", "forget", "input", "output"], TIMEOUT,
               f"the LSTM's gates did not appear (shown: {shown_gates()})")
    assert page.get_by_label("Cell of layer 1").input_value() == "lstm"
    assert page.locator("[data-role=bow-chart]").get_attribute("data-cell") == "lstm"
    assert "forget gate" in page.locator("[data-role=timeline]").text_content()

    # More units: the heatmaps grow a row.
    page.get_by_role("button", name="More units in layer 1").click()
    wait_until(page, lambda: page.locator("canvas[data-role=state]").get_attribute("height") == "9", TIMEOUT,
               "the state heatmap did not grow to 9 units")
    assert page.locator("[data-role=units-0]").text_content() == "9"

    # A second recurrent layer: two states, two sets of bars.
    page.get_by_role("button", name="+ recurrent").click()
    wait_until(page, lambda: page.locator("canvas[data-role=state]").count() == 2
               and page.locator("[data-role=bow-chart]").count() == 2, TIMEOUT,
               "a second recurrent layer did not show")
    assert page.locator("[data-role=shape-1]").text_content() == "→ 12 steps × 16"
