"""When the browser's engine breaks after it started — a Python exception
inside it, a worker that dies, a worker that hangs — the learner reads what
happened in plain words and gets a working page: a new engine takes over from
the run's last kept state. The faults are made on purpose through the
worker's fault hooks, which the page turns on for ?faults=1 only."""
from __future__ import annotations

import re

import pytest

from .learner import pause, step, train, wait_for_engine, wait_until

#: Seconds for a fault to be noticed (a hang: the page's hang timeout of 5 s
#: with ?faults=1) and for a new engine to start.
RECOVERY_SECONDS = 90
INTERNAL_WORDS = re.compile(r"[A-Z]\w*Error|Traceback|undefined|NoneType|[Pp]yodide")  # an exception's name, a stack


@pytest.mark.parametrize("fault", ["raise", "die", "hang"])
def test_a_broken_engine_is_replaced_and_the_run_goes_on(app_url, new_page, fault):
    page = new_page(app_url + "?faults=1")
    wait_for_engine(page)
    train(page)
    wait_until(page, lambda: step(page) > 200, 60, "the run did not train")
    pause(page)
    kept = wait_until(page, lambda: page.evaluate("() => window.playgroundViews[0].keptStep") == step(page)
                      and step(page), 15, "the paused run was not kept")

    page.evaluate(f"() => window.playgroundViews[0].worker.postMessage({{type: 'fault', kind: '{fault}'}})")
    notice = page.locator(".pg-notice")
    wait_until(page, lambda: "training engine stopped" in (notice.text_content() or ""), RECOVERY_SECONDS,
               f"no word of the engine's {fault}: {notice.text_content()!r}")
    text = notice.text_content()
    assert f"from step {kept}" in text and not INTERNAL_WORDS.search(text), text

    # A working page: the new engine has the run where it was kept, and trains on.
    wait_until(page, lambda: page.evaluate("() => window.playgroundViews[0].engineReady.browser"), RECOVERY_SECONDS,
               "no new engine started")
    wait_until(page, lambda: step(page) == kept, 15, f"the new engine is not at step {kept}")
    train(page)
    wait_until(page, lambda: step(page) > kept + 50, 60, "the new engine does not train")
    assert page.locator(".pg-notice[data-kind=error]").count() == 0
