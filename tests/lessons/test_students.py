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


def learning_rate(s: Student) -> None:
    s.train_until_goal()  # 1. tiny steps
    s.next_step()
    s.choose("Learning rate", "0.3")  # 2. too large: it blows up
    s.train_until_goal()
    s.next_step()
    s.choose("Learning rate", "0.03")  # 3. just right
    s.train_until_goal()
    s.next_step()
    s.choose("Learning rate", "0.1")  # 4. a network on the circle
    s.train_until_goal()


def features_or_depth(s: Student) -> None:
    s.click_role("add-layer", times=2)  # 1. two hidden layers of 4 tanh
    s.choose("Learning rate", "0.1")
    s.train_until_goal()
    s.next_step()
    for feature in ("x1_squared", "x2_squared", "x1", "x2"):  # 2. better inputs, no hidden layer
        s.toggle_feature(feature)
    s.train_until_goal()
    s.next_step()
    s.toggle_feature("sin_x1")  # 3. a feature for the moons
    s.train_until_goal()
    s.next_step()
    s.train_until_goal()  # 4. the spiral: guessing stops


def overfitting_regularisation(s: Student) -> None:
    s.slide("Noise (%)", 40)  # 1. little, noisy data
    s.slide("Training data (%)", 10)
    s.train_until_goal()
    s.next_step()
    s.slide("Training data (%)", 90)  # 2. more data
    s.train_until_goal()
    s.next_step()
    s.choose("Regularization", "L2")  # 3. L2
    s.choose("Regularization rate", "0.03")
    s.train_until_goal()
    s.next_step()
    s.choose("Regularization", "L1")  # 4. L1
    s.choose("Regularization rate", "0.1")
    s.train_until_goal()


def spiral_challenge(s: Student) -> None:
    s.train_until_goal()  # 1. brute force
    s.next_step()
    s.click_role("remove-layer")  # 2. one layer of 8 tanh, sines in
    s.click_role("add-neuron-0", times=4)
    s.toggle_feature("sin_x1")
    s.toggle_feature("sin_x2")
    s.choose("Learning rate", "0.3")
    s.train_until_goal()
    s.next_step()
    s.click_role("remove-neuron-0", times=3)  # 3. cut it down to 5
    s.train_until_goal()


def multiclass_softmax(s: Student) -> None:
    s.train_until_goal()  # 1. three clouds
    s.next_step()
    s.train_until_goal()  # 2. confidence
    s.next_step()
    s.slide("Noise (%)", 30)  # 3. five overlapping classes
    s.train_until_goal()
    s.next_step()
    s.click_role("add-neuron-0", times=2)  # 4. widen the bottleneck to 3
    s.train_until_goal()


def initialisation_symmetry(s: Student) -> None:
    s.train_until_goal()  # 1. from zero
    s.next_step()
    # 2. break the twins' symmetry by hand: neuron 1.2 takes −0.5 from x1, neuron 1.3 −0.5 from x2.
    s.page.locator("[data-node='0-1']").click()
    s.type_weight("[data-param=W-1]", -0.5)
    s.close_editor()
    s.page.locator("[data-node='0-2']").click()
    s.type_weight("[data-param=W-6]", -0.5)
    s.train_until_goal()
    s.next_step()
    s.choose("Initialisation", "he")  # 3. random starts
    s.train_until_goal()
    s.next_step()  # 4. a step to read and try


def optimisers_landscape(s: Student) -> None:
    s.train_until_goal()  # 1. plain SGD
    s.next_step()
    s.choose("Optimizer", "momentum")  # 2. momentum
    s.train_until_goal()
    s.next_step()
    s.choose("Optimizer", "adam")  # 3. Adam
    s.choose("Learning rate", "0.1")
    s.train_until_goal()
    s.next_step()  # 4. a step to read and try


def vanishing_gradients(s: Student) -> None:
    s.click_role("add-layer", times=5)  # 1. seven sigmoid layers
    s.train_until_goal()
    s.next_step()
    s.choose("Activation (all layers)", "relu")  # 2. slope one
    s.train_until_goal()
    s.next_step()
    s.choose("Activation (all layers)", "swish")  # 3. relu's own trap
    s.train_until_goal()


STUDENTS.update({
    "learning-rate": learning_rate,
    "features-or-depth": features_or_depth,
    "overfitting-regularisation": overfitting_regularisation,
    "spiral-challenge": spiral_challenge,
    "multiclass-softmax": multiclass_softmax,
    "initialisation-symmetry": initialisation_symmetry,
    "optimisers-landscape": optimisers_landscape,
    "vanishing-gradients": vanishing_gradients,
})


def type_kernel(s: Student, cells: dict) -> None:
    """Type weights of the first conv layer's first filter: {(row, column): value}."""
    s.page.locator("[data-role=cnn-filter][data-position='0'][data-unit='0']").click()
    s.page.locator("[data-role=cnn-kernel-editor]").wait_for()
    for (row, column), value in cells.items():
        s.type_weight(f"[data-role=filter-weight-0-{row}-{column}]", value)


def convolution(s: Student) -> None:
    type_kernel(s, {(0, 1): 1, (1, 1): 1, (2, 1): 1})  # 1. a vertical bar detector, by hand
    s.wait_for_goal(60)
    s.next_step()
    type_kernel(s, {(0, 1): 0, (2, 1): 0, (1, 0): 1, (1, 2): 1})  # 2. turned: it finds the other bars
    s.wait_for_goal(60)
    s.next_step()
    s.click_role("more-filters-0", times=3)  # 3. four filters, trained
    s.train_until_goal()
    s.next_step()  # 4. a step to look


def tiny_cnn_digits(s: Student) -> None:
    s.click_role("add-conv")  # 1. conv, then pool, before the flatten
    s.click_role("add-pool")
    s.train_until_goal()
    s.next_step()
    s.next_step()  # 2. and 3. steps to look and draw
    s.next_step()
    s.click_role("fewer-filters-0", times=2)  # 4. two filters are enough
    s.train_until_goal()


def pooling_receptive_fields(s: Student) -> None:
    s.train_until_goal()  # 1. no pooling
    s.next_step()
    s.click_role("add-pool")  # 2. pooling shrinks the maps
    s.train_until_goal()
    s.next_step()
    s.page.locator("[data-role=pool-size-1]").select_option("4")  # 3. pool too much
    s.settle_edit()
    s.train_until_goal()
    s.next_step()
    s.click_role("add-conv")  # 4. a second conv and pool see further
    s.click_role("add-pool")
    s.click_role("more-filters-2", times=4)
    s.train_until_goal()


def saliency(s: Student) -> None:
    s.train_until_goal()  # 1. a shape detector
    s.next_step()
    s.page.locator("[data-role=cnn-saliency]").wait_for()  # 2. the saliency map is there to read
    s.next_step()
    s.next_step()  # 3. drawings (a step to try)
    s.train_until_goal()  # 4. noisy images


def sequences_hidden_state(s: Student) -> None:
    s.train_until_goal()  # 1. no memory
    s.next_step()
    s.click_role("remove-layer-0")  # 2. a recurrent layer instead, of plain rnn cells
    s.click_role("add-recurrent")
    s.page.locator("[data-role=cell-0]").select_option("rnn")
    s.settle_edit()
    s.train_until_goal()
    s.next_step()
    s.page.locator("[data-role=state]").first.wait_for()  # 3. the state unrolled
    s.next_step()
    s.train_until_goal()  # 4. remember the first symbol


def gradients_through_time(s: Student) -> None:
    s.train_until_goal()  # 1. twenty steps back
    s.next_step()
    s.page.locator("[data-role=cell-0]").select_option("gru")  # 2. a gated cell
    s.settle_edit()
    s.train_until_goal()
    s.next_step()  # 3. a step to look at the gates


def char_model_server(s: Student) -> None:
    s.train_until_goal()  # 1. small, in the browser
    s.next_step()
    s.click_role("more-units-0", times=16)  # 2. 32 units: too big for the browser, to the server
    s.page.locator("[data-role=where]", has_text="On the server").wait_for(timeout=60_000)
    s.train_until_goal()
    s.next_step()  # 3. a step to read the predictions


STUDENTS.update({
    "convolution": convolution,
    "tiny-cnn-digits": tiny_cnn_digits,
    "pooling-receptive-fields": pooling_receptive_fields,
    "saliency": saliency,
    "sequences-hidden-state": sequences_hidden_state,
    "gradients-through-time": gradients_through_time,
    "char-model-server": char_model_server,
})
