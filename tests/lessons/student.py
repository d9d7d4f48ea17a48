"""A student on the lesson page: what they click, type and read. The
scripted students of test_students.py are built from these."""
from __future__ import annotations

import re

from tests.browser.learner import press, wait_for_engine, wait_until

#: Training time a browser run may need to reach a goal; generous, for a
#: loaded CI machine. The lessons' solutions reach their goals in far less.
GOAL_SECONDS = 240


class Student:
    def __init__(self, page, app_url: str):
        self.page, self.app_url = page, app_url

    # --- the lesson ------------------------------------------------------------------------

    def open(self, lesson_id: str) -> None:
        self.page.goto(f"{self.app_url}?lesson={lesson_id}")
        self.wait_for_step(0)
        wait_for_engine(self.page)

    def header(self):
        return self.page.locator("[data-role=lesson-header]")

    def step_index(self) -> int:
        return int(self.header().get_attribute("data-step"))

    def wait_for_step(self, index: int) -> None:
        self.page.locator(f"[data-role=lesson-header][data-step='{index}']").wait_for(timeout=60_000)

    def goal_met(self) -> bool:
        return self.page.locator("[data-role=lesson-goal][data-met=true]").count() > 0

    def goal_text(self) -> str:
        goal = self.page.locator("[data-role=lesson-goal]")
        return goal.text_content() if goal.count() else ""

    def wait_for_goal(self, seconds: float = GOAL_SECONDS) -> None:
        try:
            wait_until(self.page, self.goal_met, seconds, "goal not met")
        except AssertionError:
            raise AssertionError(f"the goal was not met in {seconds} s: {self.goal_text()}") from None

    def train_until_goal(self, seconds: float = GOAL_SECONDS) -> None:
        """Press Train and watch the goal; the page pauses by itself when it is met."""
        if not self.goal_met():
            press(self.page, "▶ Train")
        self.wait_for_goal(seconds)
        self.page.get_by_role("button", name="▶ Train", exact=True).wait_for()

    def next_step(self) -> None:
        index = self.step_index()
        self.button("Next step →").click()
        self.wait_for_step(index + 1)

    def finish(self) -> None:
        self.button("Finish lesson").click()
        self.page.get_by_text("Step-by-step lessons with goals").wait_for()

    def button(self, name: str):
        return self.page.get_by_role("button", name=name, exact=True)

    def answer_quiz(self, choice_text: str) -> str:
        """Choose an answer and check it; returns the feedback shown."""
        self.page.get_by_label(choice_text, exact=True).check()
        self.button("Check my answer").first.click()
        feedback = self.page.locator("p", has_text=re.compile(r"^(Right|Not quite)\."))
        feedback.first.wait_for()
        return feedback.first.text_content()

    # --- the controls ------------------------------------------------------------------------

    def choose(self, label: str, value: str) -> None:
        """A menu of the page (Learning rate, Optimizer, Activation (all layers), …), by its value."""
        self.page.get_by_role("combobox", name=label, exact=True).select_option(value)

    def click_role(self, role: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.locator(f"[data-role={role}]").first.click()
            self.settle_edit()

    def settle_edit(self) -> None:
        """An edit goes to Python and its spec comes back: wait for the round trip."""
        self.page.wait_for_timeout(400)

    def slider(self, label: str):
        """A slider by the label above it ("Noise (%)"), found through its widget's text."""
        for handle in self.page.get_by_role("slider").all():
            text = handle.evaluate("""el => { let n = el;
                for (let i = 0; i < 12; i++) { n = n.parentNode || n.host; if (!n) return "";
                  const t = (n.textContent || "").trim(); if (t.length > 2) return t; } return ""; }""")
            if text.startswith(label + ":"):
                return handle
        raise AssertionError(f"there is no slider {label!r} on the page")

    def slide(self, label: str, value: float) -> None:
        """Move a slider with the arrow keys until it shows ``value``."""
        handle = self.slider(label)
        handle.focus()
        for _ in range(60):
            now = float(handle.get_attribute("aria-valuenow"))
            if now == value:
                break
            handle.press("ArrowRight" if now < value else "ArrowLeft")
            self.page.wait_for_timeout(60)
        assert float(handle.get_attribute("aria-valuenow")) == value, f"{label} did not reach {value}"
        self.settle_edit()

    def toggle_feature(self, name: str) -> None:
        self.page.locator(f"[data-node=feature-{name}]").click()
        self.settle_edit()

    def type_weight(self, selector: str, value: float) -> None:
        field = self.page.locator(selector)
        field.fill(str(value))
        field.press("Enter")
        self.page.wait_for_timeout(150)

    def close_editor(self) -> None:
        self.page.locator(".pg-editor [aria-label=Close]").click()
