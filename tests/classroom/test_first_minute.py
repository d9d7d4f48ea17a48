"""The first minute of a class: a student who joins through the page is in
the class's lesson at once, and their very first run reaches the
instructor — over the real HTTP API, as a dashboard reads it."""
from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browser.learner import press, wait_until

from .conftest import LESSON
from .test_class_in_browsers import class_server, join  # noqa: F401  (the fixture is used here)

pytestmark = pytest.mark.usefixtures("no_server_errors")
#: Seconds for a student's first summaries to reach the instructor once they train.
FIRST_SUMMARY_SECONDS = 3


def call(url: str, method: str, path: str, body=None, token: str | None = None) -> dict:
    request = urllib.request.Request(url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode())


def test_a_student_is_in_the_lesson_at_once_and_their_first_run_reaches_the_instructor(class_server, new_page):
    created = call(class_server, "POST", "/api/classroom/sessions", {"title": "Period 1", "lesson": LESSON})
    token = created["instructor_token"]

    def student_entry():
        roster = call(class_server, "GET", "/api/classroom/session", token=token)["students"]
        return next((entry for entry in roster if entry["name"] == "Ada"), None)

    ada = join(new_page, class_server, created["code"], "Ada")
    # The class's lesson opens on joining, at its first step, and the instructor's card names it.
    ada.locator(f"[data-role=lesson-header][data-lesson='{LESSON}'][data-step='0']").wait_for(timeout=5000)
    wait_until(ada, lambda: (student_entry() or {}).get("progress", {}).get("lesson") == LESSON, 5,
               "the instructor's roster does not name the student's lesson")

    press(ada, "▶ Train")
    ada.get_by_role("button", name="❚❚ Pause", exact=True).wait_for()
    entry = wait_until(ada, lambda: (lambda entry: entry if entry and (entry["summary"] or {}).get("step", 0) > 0
                                     and isinstance(entry["summary"].get("test_loss"), float) else None)(
                                         student_entry()),
                       FIRST_SUMMARY_SECONDS, "the student's first run did not reach the instructor")
    assert entry["summary"]["train_loss"] > 0
