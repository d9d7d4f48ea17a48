"""What a learner does and sees on the page, as helpers for the tests."""
from __future__ import annotations

import time

from playground.spec import Spec
from playground.spec.sharing import QUERY_KEY, spec_to_link

ENGINE_START_SECONDS = 90


def link(app_url: str, spec: Spec) -> str:
    return f"{app_url}?{QUERY_KEY}={spec_to_link(spec)}"


def wait_for_engine(page, timeout: float = ENGINE_START_SECONDS) -> None:
    """Until the start-up bar is gone and the first frame is on the page
    (for the 2-D tasks: on the surface too)."""
    page.locator(".pg-view[data-step]").wait_for(state="attached", timeout=timeout * 1000)
    page.locator(".pg-status").wait_for(state="hidden", timeout=timeout * 1000)
    if page.locator("[data-role=surface]").is_visible():
        page.locator("[data-role=surface][data-step]").wait_for(state="attached", timeout=timeout * 1000)


def number(page, role: str) -> float:
    text = page.locator(f"[data-role={role}]").text_content()
    return float(text.replace(",", ""))


def shown_test_loss(page) -> float:
    return number(page, "test-loss")


def step(page) -> int:
    return int(number(page, "step"))


def surface_image(page) -> str:
    return page.locator("[data-role=surface]").evaluate("canvas => canvas.toDataURL()")


def press(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def train(page) -> None:
    press(page, "▶ Train")
    page.get_by_role("button", name="❚❚ Pause", exact=True).wait_for()


def pause(page) -> None:
    press(page, "❚❚ Pause")
    page.get_by_role("button", name="▶ Train", exact=True).wait_for()
    settle(page)


def settle(page, seconds: float = 1.0) -> None:
    """Let the frame in flight arrive after a pause."""
    page.wait_for_timeout(seconds * 1000)


def wait_until(page, condition, timeout: float, message: str, interval: float = 0.25):
    """Poll a condition; pausing through the page lets Playwright take in
    the browser's events (time.sleep would freeze them, page.url included)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        page.wait_for_timeout(interval * 1000)


def click_an_edge(page, index: int = 0) -> None:
    """A real mouse click on the middle of an edge (a curve: its box's centre may miss it)."""
    point = page.locator(".pg-edge-hit").nth(index).evaluate("""path => {
        const p = path.getPointAtLength(path.getTotalLength() / 2);
        const m = path.getScreenCTM();
        return {x: p.x * m.a + p.y * m.c + m.e, y: p.x * m.b + p.y * m.d + m.f};
    }""")
    page.mouse.click(point["x"], point["y"])
