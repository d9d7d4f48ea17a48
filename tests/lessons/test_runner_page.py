"""The lesson runner in a real page: a step's locks hold against the
widgets and against forged messages, hints and quiz answers show, the goal
is checked live, and progress survives a reload."""
from __future__ import annotations

import pytest

from tests.browser.learner import step, train, wait_until

from .student import Student

pytestmark = pytest.mark.usefixtures("no_server_errors")


def test_a_step_locks_and_hides_what_it_names_and_python_refuses_forged_edits(app_url, new_page):
    page = new_page(app_url)
    student = Student(page, app_url)
    student.open("hidden-layers-xor")  # step 1: only Train and the learning rate are free
    assert page.get_by_role("combobox", name="Learning rate", exact=True).is_enabled()
    for name in ("Dataset", "Optimizer", "Activation (all layers)", "Initialisation"):
        assert page.get_by_role("combobox", name=name, exact=True).is_disabled(), name
    assert page.get_by_role("combobox", name="Problem type", exact=True).count() == 0  # hidden
    assert page.locator("[data-role=add-layer]").is_disabled()
    assert page.locator("[data-node=feature-x1_x2]").is_disabled()
    tabs = page.locator(".pg-tab:visible")
    assert tabs.all_text_contents() == ["Network"]
    # A message the disabled button would have sent, forged from the console:
    page.evaluate("window.playgroundViews[0].edit('add_layer')")
    page.get_by_text("This lesson step keeps adding and removing hidden layers as they are").wait_for()
    assert page.locator("[data-role=add-layer]").is_disabled()
    assert "0 hidden layers" in page.locator(".pg-layers-header").text_content().lower()
    # Leaving the lesson frees every control again.
    student.button("All lessons").click()
    page.locator("[data-role=add-layer]:enabled").wait_for()
    assert page.get_by_role("combobox", name="Dataset", exact=True).is_enabled()
    assert page.get_by_role("combobox", name="Problem type", exact=True).is_visible()


def test_hints_come_one_at_a_time_and_the_quiz_explains(app_url, new_page):
    page = new_page(app_url)
    student = Student(page, app_url)
    student.open("single-neuron")
    assert page.get_by_text("Hint 1.").count() == 0
    student.button("Show a hint (1 of 3)").click()
    page.get_by_text("Hint 1.").wait_for()
    assert page.get_by_text("Hint 2.").count() == 0
    feedback = student.answer_quiz("It turns around the origin.")
    assert "Not quite." in feedback and "direction of the line" in feedback, feedback
    assert student.button("Next step →").is_disabled()


def test_the_goal_is_checked_live_and_progress_survives_a_reload(app_url, new_page):
    page = new_page(app_url)
    student = Student(page, app_url)
    student.open("single-neuron")
    assert not student.goal_met() and "needs at least 90 %" in student.goal_text()
    # Solve step 1 by hand, as its text asks: weights 0.5 and 0.5 on the output.
    page.locator("[data-node='0-0']").click()
    student.type_weight("[data-param=W-0]", 0.5)
    student.type_weight("[data-param=W-1]", 0.5)
    student.wait_for_goal(30)
    page.get_by_text("Goal reached!").wait_for()
    assert student.step_index() == 0
    student.next_step()
    page.reload()
    student.wait_for_step(1)  # the lesson reopens where the learner was
    assert "step 2 of" in student.header().text_content()
    student.button("All lessons").click()
    state = page.locator("[data-lesson=single-neuron].pg-lesson-state")
    wait_until(page, lambda: "1 of" in (state.text_content() or ""), 10, "the list shows no progress")
    page.reload()
    # The list first shows without progress, then again once the browser has handed over what it kept.
    state = page.locator("[data-lesson=single-neuron].pg-lesson-state")
    wait_until(page, lambda: "1 of" in (state.text_content() or ""), 10, "the progress did not survive the reload")


def test_the_network_the_learner_built_in_a_step_survives_a_reload(app_url, new_page):
    page = new_page(app_url)
    student = Student(page, app_url)
    student.open("hidden-layers-xor")
    student.train_until_goal()
    student.next_step()
    student.click_role("add-layer")
    student.choose("Activation (all layers)", "relu")
    student.settle_edit()
    layers = page.locator(".pg-layers-header")
    assert "1 hidden layer" in layers.text_content().lower()
    # The goal follows the edit at once, and drops the old network's figures.
    wait_until(page, lambda: "hidden layers 1" in student.goal_text(), 10, student.goal_text())
    page.reload()
    student.wait_for_step(1)
    wait_until(page, lambda: "1 hidden layer" in (layers.text_content() or "").lower(), 20,
               "the hidden layer the learner added was lost in the reload")
    assert page.get_by_role("combobox", name="Activation (all layers)", exact=True).input_value() == "relu"
    # The step's own model is one press away.
    student.button("Reset this step").click()
    wait_until(page, lambda: "0 hidden layers" in (layers.text_content() or "").lower(), 20,
               "Reset this step did not bring back the step's own model")


def test_reset_this_step_starts_the_step_again(app_url, new_page):
    page = new_page(app_url)
    student = Student(page, app_url)
    student.open("hidden-layers-xor")
    train(page)
    # The goal (500 steps) pauses training by itself; pausing by hand
    # would race it.
    student.wait_for_goal(90)
    page.get_by_role("button", name="▶ Train", exact=True).wait_for()
    assert step(page) >= 500
    student.button("Reset this step").click()
    wait_until(page, lambda: step(page) == 0, 10, "the step counter did not go back to 0")
    wait_until(page, lambda: "training steps 0" in student.goal_text(), 10, student.goal_text())
    assert not student.goal_met()


def test_the_lessons_fold_away_and_come_back(app_url, new_page):
    page = new_page(app_url)
    page.get_by_text("Step-by-step lessons with goals").wait_for()
    page.get_by_role("button", name="Hide lessons ›").click()
    page.get_by_text("Step-by-step lessons with goals").wait_for(state="hidden")
    page.get_by_role("button", name="‹", exact=True).click()
    page.get_by_text("Step-by-step lessons with goals").wait_for()
