"""The Loss landscape tab: after training xor a few seconds with the tab open,
"Compute landscape" draws a heat map of the loss with the optimiser's path on
it, and hovering a cell reads the loss there; a failed computation says so."""
import re

from playground.spec import Dense, Spec, Task

from ..browser.learner import link, pause, step, train, wait_for_engine, wait_until

# Distinct colours in the middle of the canvas: a blank (or one-colour) picture has one or two.
COLOURS = """canvas => {
    const data = canvas.getContext("2d").getImageData(canvas.width * 0.2, canvas.height * 0.2,
                                                      canvas.width * 0.6, canvas.height * 0.6).data;
    const seen = new Set();
    for (let k = 0; k < data.length; k += 4) seen.add(data[k] * 65536 + data[k + 1] * 256 + data[k + 2]);
    return seen.size;
}"""


def test_landscape_shows_the_loss_and_the_path(app_url, new_page):
    page = new_page(link(app_url, Spec(task=Task("xor"), layers=(Dense(4), Dense(4)))))
    wait_for_engine(page)
    page.get_by_role("tab", name="Loss landscape").click()
    canvas = page.locator("[data-role=landscape-canvas]")
    canvas.wait_for()
    assert canvas.get_attribute("data-size") == "0"
    train(page)
    started = step(page)
    wait_until(page, lambda: step(page) > started + 300, 60, "xor did not train")
    page.wait_for_timeout(3000)  # a few seconds of training with the tab open: the worker records the path
    pause(page)
    page.get_by_role("button", name="Compute landscape").click()
    page.locator("[data-role=landscape-canvas][data-size='21']").wait_for(timeout=90_000)
    assert page.locator("[data-role=landscape-status]").get_attribute("data-kind") != "error"
    assert canvas.evaluate(COLOURS) > 20, "the heat map looks blank"
    assert int(canvas.get_attribute("data-path-points")) > 2
    assert canvas.get_attribute("data-directions") == "path"
    assert "log scale" in page.locator(".pg-landscape-view .pg-legend").text_content()

    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.35)
    tooltip = page.locator(".pg-tooltip")
    wait_until(page, tooltip.is_visible, 10, "hovering the heat map shows nothing")
    assert re.match(r"Loss \d+\.\d+ at direction 1 = ", tooltip.text_content()), tooltip.text_content()
    readout = page.locator("[data-role=landscape-readout]")
    assert float(readout.get_attribute("data-loss")) >= 0
    assert readout.text_content().startswith("Loss ")


def test_a_failed_computation_says_so(app_url, browser):
    """Without its Pyodide files the engine never starts: the probe fails, and the tab says why."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.route(re.compile(r".*/pyodide/.*"), lambda route: route.abort())
        page = context.new_page()
        page.goto(link(app_url, Spec(task=Task("xor"), layers=(Dense(4),))))
        page.get_by_role("tab", name="Loss landscape").click()
        page.get_by_role("button", name="Compute landscape").click()
        status = page.locator("[data-role=landscape-status][data-kind=error]")
        status.wait_for(timeout=30_000)
        assert "could not be computed" in status.text_content()
        assert "engine" in status.text_content()
        assert page.get_by_role("button", name="Compute landscape").is_enabled()
    finally:
        context.close()
