"""A scripted student for every lesson: in a real browser, it follows the
steps as the text tells a learner to — clicks, menus, typed weights,
training — and reaches every goal. Proof that each lesson can be solved
as written. A lesson without a student here fails its test."""
from __future__ import annotations

from pathlib import Path

import pytest

from playground.lessons import load_lessons

from .student import Student

pytestmark = pytest.mark.usefixtures("no_server_errors")

LESSONS = load_lessons(Path(__file__).resolve().parents[2] / "lessons")


def single_neuron(s: Student) -> None:
    # 1. Weights by hand: open the output neuron's weights, type 0.5 and 0.5.
    s.page.locator("[data-node='0-0']").click()
    s.type_weight("[data-param=W-0]", 0.5)
    s.type_weight("[data-param=W-1]", 0.5)
    s.wait_for_goal(30)
    s.next_step()
    # 2. Let training find them.
    s.train_until_goal()
    s.next_step()
    # 3. Overlapping clouds: train; the accuracy stops short of 100 %.
    s.train_until_goal()
    s.next_step()
    # 4. The circle: squares in, raw coordinates out.
    for feature in ("x1_squared", "x2_squared", "x1", "x2"):
        s.toggle_feature(feature)
    s.train_until_goal()


def hidden_layers_xor(s: Student) -> None:
    s.train_until_goal()  # 1. one neuron fails for 500 steps
    s.next_step()
    # 2. A hidden layer of 4 relu neurons (a new layer comes with 4).
    s.click_role("add-layer")
    s.choose("Activation (all layers)", "relu")
    s.choose("Learning rate", "0.1")
    s.train_until_goal()
    s.next_step()
    s.next_step()  # 3. a step to look and read
    s.toggle_feature("x1_x2")  # 4. the feature that makes XOR linear
    s.train_until_goal()


def activation_functions(s: Student) -> None:
    s.train_until_goal()  # 1. linear layers
    s.next_step()
    s.choose("Activation (all layers)", "tanh")  # 2. bend them
    s.train_until_goal()
    s.next_step()
    s.click_role("add-neuron-0", times=2)  # 3. relu, 6 neurons a layer
    s.click_role("add-neuron-1", times=2)
    s.choose("Activation (all layers)", "relu")
    s.train_until_goal()
    s.next_step()
    s.train_until_goal()  # 4. eight sigmoid layers: the gradient vanishes
    s.next_step()
    s.choose("Activation (all layers)", "relu")  # 5. relu keeps it flowing
    s.train_until_goal()


STUDENTS = {
    "single-neuron": single_neuron,
    "hidden-layers-xor": hidden_layers_xor,
    "activation-functions": activation_functions,
}


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_a_student_reaches_every_goal_of_the_lesson(lesson, lesson_app_url, new_page):
    script = STUDENTS.get(lesson.id)
    assert script is not None, f"lesson {lesson.id} has no scripted student in {__file__}"
    page = new_page(lesson_app_url)
    student = Student(page, lesson_app_url)
    student.open(lesson.id)
    script(student)
    assert student.step_index() == len(lesson.steps) - 1, "the script stopped before the last step"
    if lesson.steps[-1].goal.conditions:
        assert student.goal_met()
    student.finish()
    state = page.locator(f"[data-lesson={lesson.id}].pg-lesson-state")
    assert state.get_attribute("data-completed") == "true", state.text_content()
