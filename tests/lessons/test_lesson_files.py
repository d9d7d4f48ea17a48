"""Lessons: every file in lessons/ loads and can be solved; broken lessons
fail with a message that names the file, the step, the field and the line;
goals read summaries and specs; presets patch specs."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from playground.lessons import (CONTROLS, LESSON_START, METRICS, VIEWS, Condition, Goal, LessonError, Preset,
                                apply_patch, apply_preset, check_goal, load_lesson, load_lessons)
from playground.routing import route
from playground.session import TrainingSession
from playground.spec import Dense, Spec, SpecError, Task

LESSONS = Path(__file__).resolve().parents[2] / "lessons"

# --- the lessons shipped with the playground ------------------------------------------


def shipped():
    return load_lessons(LESSONS)


def test_every_lesson_file_loads_and_validates():
    lessons = shipped()
    # The curriculum, from one neuron to a character-level model on the server.
    assert [lesson.id for lesson in lessons] == [
        "single-neuron", "hidden-layers-xor", "activation-functions", "learning-rate", "features-or-depth",
        "overfitting-regularisation", "spiral-challenge", "multiclass-softmax", "initialisation-symmetry",
        "optimisers-landscape", "vanishing-gradients", "convolution", "tiny-cnn-digits", "pooling-receptive-fields",
        "saliency", "sequences-hidden-state", "gradients-through-time", "char-model-server"]
    for lesson in lessons:
        assert lesson.title and lesson.intro and lesson.minutes > 0
        for step in lesson.steps:
            assert step.title and step.text, (lesson.path, step.title)
            assert "```" not in step.text  # the settings block is not part of the text
            for question in step.quiz:
                assert question.explanation and 0 <= question.answer < len(question.choices)
            if step.goal.conditions:
                assert step.solution is not None, f"{lesson.path}: step {step.title!r} has a goal but no solution"


def test_prerequisites_come_first():
    seen = set()
    for lesson in shipped():
        assert set(lesson.prerequisites) <= seen, lesson.id
        seen.add(lesson.id)


def page_summary(session: TrainingSession, spec: Spec) -> dict:
    """The summary as the page reports it: the engine's, and where the run
    trains when the page has a server trainer."""
    return dict(session.summary(), trains_on=route(spec, "automatic", "server").where)


SOLVABLE = [(lesson.path.name, index) for lesson in load_lessons(LESSONS)
            for index, step in enumerate(lesson.steps) if step.goal.conditions]


@pytest.mark.parametrize("name, index", SOLVABLE, ids=[f"{name}:step{index + 1}" for name, index in SOLVABLE])
def test_each_goal_can_be_met_and_is_not_met_at_the_start(name, index):
    """Documents solvability: the step's preset applied to the lesson's
    starting spec, then the step's solution, then training with the engine."""
    lesson = load_lesson(LESSONS / name)
    step = lesson.steps[index]
    start = lesson.spec_at(index)
    assert not check_goal(step.goal, page_summary(TrainingSession(start), start), start).met, \
        "already met at the start"
    spec = lesson.solution_spec(index)
    session = TrainingSession(spec)
    session.train(step.solution.train)
    status = check_goal(step.goal, page_summary(session, spec), spec)
    assert status.met, [part.text for part in status.parts]


def test_lesson_one_is_solved_by_hand_not_by_training():
    lesson = load_lesson(LESSONS / "01-single-neuron.md")
    first = lesson.steps[0]
    assert "run" in first.preset.locked and "weights" not in first.preset.locked
    assert first.solution.train == 0 and "weights" in first.solution.spec_patch
    assert Condition("step", "at_most", 0) in first.goal.conditions


# --- broken lessons -----------------------------------------------------------------------

GOOD = """\
---
id: tiny
title: A tiny lesson
level: beginner
minutes: 5
prerequisites: []
---

Intro text.

## First look

Some text with $a = \\tanh(z)$.

```yaml
preset:
  spec:
    task: {dataset: xor}
    layers: []
  locked: [layers]
goal:
  - {metric: step, at_least: 10}
hints: [Press Train.]
```

## Try relu

More text.

```yaml
preset:
  spec:
    layers:
      - type: dense
        units: 3
        activation: relu
goal:
  - metric: test_loss
    below: 0.1
quiz:
  - question: Which?
    choices: [a, b, c]
    answer: 2
    explanation: Because.
solution:
  train: 100
```
"""


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "lesson.md") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
        return path
    return write


def broken(write, old: str, new: str) -> LessonError:
    assert GOOD.count(old) == 1, old
    path = write(GOOD.replace(old, new))
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}")
    return caught.value


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_good_lesson_loads(write):
    lesson = load_lesson(write(GOOD))
    assert (lesson.id, lesson.level, lesson.minutes, lesson.prerequisites) == ("tiny", "beginner", 5, ())
    assert lesson.intro == "Intro text."
    assert [step.title for step in lesson.steps] == ["First look", "Try relu"]
    assert lesson.steps[0].text == "Some text with $a = \\tanh(z)$."
    assert lesson.steps[0].hints == ("Press Train.",)
    assert lesson.steps[1].quiz[0].answer == 1 and lesson.steps[1].quiz[0].correct_choice == "b"
    assert lesson.steps[1].line == line_of(GOOD, "## Try relu")


ERRORS = [
    # (replace this, with this, the message contains, the error's line holds this text)
    ("  - metric: test_loss", "  - metric: tst_loss",
     'step 2 "Try relu": goal: unknown metric "tst_loss" — did you mean "test_loss"? (known: step, epoch,',
     "metric: tst_loss"),
    ("level: beginner", "level: expert", 'front matter: level: unknown level "expert" (known: beginner, '
     "intermediate, advanced)", "level: expert"),
    ("minutes: 5\n", "", 'front matter: "minutes" is missing', None),
    ("minutes: 5", "minutes: soon", "front matter: minutes: must be a whole number from 1 to 600, got 'soon'",
     "minutes: soon"),
    ("id: tiny", "id: Tiny Lesson", "front matter: id: 'Tiny Lesson' must be lower-case words joined by hyphens",
     "id: Tiny"),
    ("prerequisites: []", "prerequisites: []\nauthor: me", 'front matter: unknown key "author"', "author: me"),
    ("hints: [Press Train.]", "hnts: [Press Train.]",
     'step 1 "First look": unknown key "hnts" — did you mean "hints"?', "hnts:"),
    ("hints: [Press Train.]", "hints: [Press Train., 3]", 'step 1 "First look": hints: hint 2 must be some text',
     "hints:"),
    ("  locked: [layers]", "  locked: [layrs]",
     'step 1 "First look": preset: locked: unknown control "layrs" — did you mean "layers"? (known: run,',
     "locked: [layrs]"),
    ("  locked: [layers]", "  locked: [layers]\n  unlocked: [run]", "preset: unlocked: give locked or unlocked, "
     "not both", "unlocked: [run]"),
    ("  locked: [layers]", "  views: [network, loss]", 'preset: views: unknown view "loss"', "views: [network"),
    ("  locked: [layers]", "  views: []", "preset: views: must show at least one view", "views: []"),
    ("        units: 3", "        units: 0",
     'step 2 "Try relu": preset: spec: layer 1 (dense): units must be from 1 to 1,024, got 0 '
     "(spec field layers.0.units)", "units: 0"),
    ("    task: {dataset: xor}", "    task: {dataset: xorr}",
     "preset: spec: task: unknown dataset 'xorr' (did you mean 'xor'?)", "task: {dataset: xorr}"),
    ("    task: {dataset: xor}", "    task: {dataset: xor, noize: 0.1}", "preset: spec: task: unknown field 'noize'",
     "task: {dataset"),
    ("    task: {dataset: xor}", "    task: dataset",
     "preset: spec: task: must be an object, got 'dataset' (spec field task)", "task: dataset"),
    ("  spec:\n    layers:\n      - type: dense\n        units: 3\n        activation: relu", "  spec: [dense]",
     'step 2 "Try relu": preset: spec: must be a part of a spec: a mapping like', "spec: [dense]"),
    ("    answer: 2", "    answer: 4", 'step 2 "Try relu": quiz question 1: answer: must be the number of the right '
     "choice, from 1 to 3, got 4", "answer: 4"),
    ("    answer: 2", "    answer: 0", "quiz question 1: answer: must be the number of the right choice", "answer: 0"),
    ("    choices: [a, b, c]", "    choices: [a]", "quiz question 1: choices: needs a list of at least two choices",
     "choices: [a]"),
    ("    choices: [a, b, c]", "    choices: [a, b, a]", "quiz question 1: choices: lists the same choice twice",
     "choices: [a, b, a]"),
    ("    explanation: Because.\n", "", 'quiz question 1: "explanation" is missing', None),
    ("  - {metric: step, at_least: 10}", "  - {metric: step, at_least: 10, below: 20}",
     "goal: step: give exactly one comparison", "metric: step"),
    ("  - {metric: step, at_least: 10}", "  - {metric: step, atleast: 10}",
     'goal: step: unknown comparison "atleast" — did you mean "at_least"?', "atleast"),
    ("  - {metric: step, at_least: 10}", "  - {metric: activation, below: 3}",
     "goal: activation cannot be tested with below; use equals, one_of", "metric: activation"),
    ("  - {metric: step, at_least: 10}", "  - {metric: activation, equals: rel}",
     'goal: activation: unknown activation "rel" — did you mean "relu"?', "equals: rel"),
    ("  - {metric: step, at_least: 10}", "  - {metric: test_loss, below: small}",
     "goal: test_loss: below must be a number, got 'small'", "below: small"),
    ("  - {metric: step, at_least: 10}", "  - {metric: diverged, equals: 1}",
     "goal: diverged: equals must be true or false", "diverged"),
    ("  - {metric: step, at_least: 10}", "  - {below: 10}", "goal: condition 1 names no metric", "below: 10"),
    ("  - {metric: step, at_least: 10}", "  - step > 10", "goal: condition 1 must be a mapping", "goal:"),
    ("  - {metric: step, at_least: 10}", "  []", 'step 1 "First look": goal: needs at least one condition', "goal:"),
    ("  train: 100", "  train: -1", "solution: train: must be a whole number from 0 to 100000, got -1", "train: -1"),
    ("  train: 100", "  train: 100\n  spec: {layers: [{type: pool}]}",
     "solution: spec: layer 1: unknown layer type 'pool'", "spec: {layers"),
    # YAML itself
    ("hints: [Press Train.]", "hints: [Press Train.", 'step 1 "First look": the settings block is not valid YAML',
     "hints: [Press Train."),
    ("hints: [Press Train.]", "hints: [a]\nhints: [b]", "the key 'hints' appears twice", "hints: [b]"),
    ("title: A tiny lesson", "title: [A tiny lesson", "front matter: the front matter is not valid YAML", None),
    # the Markdown around it
    ("---\nid: tiny", "id: tiny", "a lesson starts with front matter", "id: tiny"),
    ("## First look", "##", "step 1: the '##' heading needs a title", None),
    ("More text.", "More text.\n\n```yaml\ngoal: []\n```",
     'step 2 "Try relu": has a second ```yaml block', None),
    ("Intro text.", "Intro text.\n\n```yaml\nhints: [x]\n```", "comes before the first step", None),
    ("  train: 100\n```\n", "  train: 100\n```\n\n```python\nprint(1)\n", "is never closed", "```python"),
]


@pytest.mark.parametrize("old, new, message, line_fragment", ERRORS, ids=[case[2][:40] for case in ERRORS])
def test_each_kind_of_error_has_a_clear_message(write, old, new, message, line_fragment):
    error = broken(write, old, new)
    assert message in str(error)
    if line_fragment is not None:
        assert error.line == line_of(GOOD.replace(old, new), line_fragment), str(error)


def test_a_lesson_needs_a_step(write):
    path = write(GOOD[:GOOD.index("## First look")])
    with pytest.raises(LessonError, match="a lesson needs at least one step"):
        load_lesson(path)


def test_front_matter_must_close(write):
    path = write("---\nid: x\ntitle: y\n")
    with pytest.raises(LessonError, match="no closing '---'") as caught:
        load_lesson(path)
    assert caught.value.line == 1


def test_the_spec_error_points_at_the_line_of_the_field(write):
    text = GOOD.replace("        activation: relu", "        activation: rel")
    with pytest.raises(LessonError) as caught:
        load_lesson(write(text))
    assert "layer 1 (dense): unknown activation 'rel' (did you mean 'relu'?)" in str(caught.value)
    assert "(spec field layers.0.activation)" in str(caught.value)
    assert caught.value.line == line_of(text, "activation: rel")


def test_presets_are_checked_in_turn(write):
    """Step 2 gives a layer of 3 units; a weights patch in step 3 must match it."""
    text = GOOD + "\n## Weights\n\n```yaml\npreset:\n  spec:\n    weights:\n      - {W: [[1.0], [1.0]], b: [0.0]}\n```\n"
    with pytest.raises(LessonError, match=r'step 3 "Weights": preset: spec: weights: expected 2 entries'):
        load_lesson(write(text))


def test_headings_and_yaml_inside_code_blocks_are_text(write):
    text = GOOD.replace("More text.", "More text.\n\n~~~markdown\n## Not a step\n```yaml\nx: 1\n```\n~~~")
    lesson = load_lesson(write(text))
    assert len(lesson.steps) == 2 and "## Not a step" in lesson.steps[1].text


# --- several lessons together ---------------------------------------------------------------


def lesson_text(lesson_id: str, prerequisites=()) -> str:
    return GOOD.replace("id: tiny", f"id: {lesson_id}").replace(
        "prerequisites: []", f"prerequisites: [{', '.join(prerequisites)}]")


def test_lessons_load_in_file_order_and_skip_the_format_notes(write, tmp_path):
    write(lesson_text("second", ["first"]), "02-second.md")
    write(lesson_text("first"), "01-first.md")
    write("# How to write lessons\n", "FORMAT.md")
    assert [lesson.id for lesson in load_lessons(tmp_path)] == ["first", "second"]


def test_duplicate_ids(write, tmp_path):
    write(lesson_text("same"), "01-a.md")
    second = write(lesson_text("same"), "02-b.md")
    with pytest.raises(LessonError, match=r'id: "same" is already the id of .*01-a.md') as caught:
        load_lessons(tmp_path)
    assert caught.value.path == second and caught.value.line == 2


def test_unknown_prerequisite(write, tmp_path):
    write(lesson_text("first"), "01-first.md")
    write(lesson_text("second", ["frist"]), "02-second.md")
    with pytest.raises(LessonError, match=r'02-second.md: front matter: prerequisites: unknown lesson "frist" '
                                          r'— did you mean "first"\?'):
        load_lessons(tmp_path)


def test_prerequisites_in_a_cycle(write, tmp_path):
    write(lesson_text("a", ["c"]), "01-a.md")
    write(lesson_text("b", ["a"]), "02-b.md")
    write(lesson_text("c", ["b"]), "03-c.md")
    with pytest.raises(LessonError, match="prerequisites form a cycle: a → c → b → a"):
        load_lessons(tmp_path)


def test_a_lesson_cannot_require_itself(write):
    with pytest.raises(LessonError, match="cannot be its own prerequisite"):
        load_lesson(write(lesson_text("a", ["a"])))


# --- goals ----------------------------------------------------------------------------------

XOR = Spec.from_dict({"task": {"dataset": "xor"}, "layers": [{"type": "dense", "units": 3, "activation": "relu"}]})
SUMMARY = {"step": 250, "epoch": 10.0, "train_loss": 0.12, "test_loss": 0.134, "train_accuracy": 0.95,
           "test_accuracy": 0.875, "gradient_norms": [0.002, None, 0.5], "diverged": False}


def goal(*conditions) -> Goal:
    return Goal(tuple(Condition(*condition) for condition in conditions))


def test_goal_parts_read_as_sentences():
    status = check_goal(goal(("test_loss", "below", 0.1), ("hidden_neurons", "at_most", 3),
                             ("test_accuracy", "at_least", 0.9), ("first_to_last_gradient_ratio", "below", 0.01)),
                        SUMMARY, XOR)
    assert not status.met
    assert [(part.text, part.met) for part in status.parts] == [
        ("test loss 0.134 — needs below 0.1", False),
        ("hidden neurons 3 — at most 3, as needed", True),
        ("test accuracy 87.5 % — needs at least 90 %", False),
        ("first-to-last gradient ratio 0.4 % — below 1 %, as needed", True),
    ]
    assert [part.value for part in status.parts] == [0.134, 3, 0.875, pytest.approx(0.004)]


def test_a_goal_is_met_when_every_condition_holds():
    summary = dict(SUMMARY, test_loss=0.05, test_accuracy=0.95)
    status = check_goal(goal(("test_loss", "below", 0.1), ("test_accuracy", "at_least", 0.9)), summary, XOR)
    assert status.met and all(part.met for part in status.parts)


def test_values_not_known_yet_never_meet_a_goal():
    status = check_goal(goal(("test_loss", "below", 0.1), ("first_to_last_gradient_ratio", "below", 0.01)), {}, XOR)
    assert not status.met
    assert status.parts[0] == ("test loss not measured yet — needs below 0.1", False, None)
    diverged = dict(SUMMARY, test_loss=None, gradient_norms=[0.0, None, 0.0], diverged=True)
    status = check_goal(goal(("test_loss", "below", 0.1), ("first_to_last_gradient_ratio", "below", 0.01),
                             ("diverged", "equals", False)), diverged, XOR)
    assert [part.met for part in status.parts] == [False, False, False]
    assert status.parts[2].text == "diverged yes — needs no"


def test_goals_on_the_spec():
    conditions = goal(("hidden_layers", "equals", 1), ("activation", "equals", "relu"),
                      ("activation", "one_of", ["relu", "tanh"]), ("dataset", "equals", "xor"),
                      ("input_features", "equals", 2), ("parameters", "equals", 2 * 3 + 3 + 3 + 1),
                      ("optimizer", "equals", "sgd"), ("learning_rate", "at_most", 0.03), ("step", "at_least", 100))
    status = check_goal(conditions, SUMMARY, XOR)
    assert status.met, [part.text for part in status.parts]
    assert status.parts[0].text == "hidden layers 1 — exactly 1, as needed"
    assert status.parts[2].text == "activation relu — one of relu, tanh, as needed"
    mixed = XOR.replace(layers=(Dense(3, "relu"), Dense(2, "tanh")))
    assert check_goal(goal(("activation", "equals", "relu")), SUMMARY, mixed).parts[0].text == \
        "activation mixed — needs relu"


def test_no_goal_is_met_at_once():
    assert check_goal(None, {}, XOR).met and check_goal(Goal(), {}, XOR).parts == ()


def test_a_goal_from_a_file_is_checked(write):
    lesson = load_lesson(write(GOOD.replace("  - metric: test_loss\n    below: 0.1",
                                            "  metric: test_loss\n  below: 1.0e-2")))
    assert lesson.steps[1].goal == goal(("test_loss", "below", 0.01))
    assert check_goal(lesson.steps[1].goal, dict(SUMMARY, test_loss=0.005), XOR).met


def test_yaml_reads_exponents_as_numbers(write):
    lesson = load_lesson(write(GOOD.replace("below: 0.1", "below: 1e-2")))
    assert lesson.steps[1].goal.conditions[0].target == 0.01


def test_the_catalogues():
    assert set(VIEWS) == {"network", "gradients", "activations", "landscape"}
    assert {"dataset", "noise", "ratio", "batch_size", "learning_rate", "optimizer", "activation", "regularization",
            "problem", "layers", "neurons", "features", "weights", "train_in"} <= set(CONTROLS)
    assert {"step", "test_loss", "hidden_neurons", "first_to_last_gradient_ratio", "test_accuracy"} <= set(METRICS)


# --- presets ----------------------------------------------------------------------------------


def test_a_patch_merges_mappings_and_replaces_lists():
    base = Spec.from_dict({"task": {"dataset": "circle", "noise": 0.2, "features": ["x1", "x2", "x1_x2"]},
                           "layers": [{"type": "dense", "units": 4}, {"type": "dense", "units": 2}],
                           "training": {"learning_rate": 0.1, "batch_size": 20}})
    spec = apply_patch(base, {"task": {"features": ["x1"]}, "layers": [{"type": "dense", "units": 3}],
                              "training": {"learning_rate": 0.3}})
    assert spec.task.noise == 0.2 and spec.task.features == ("x1",)
    assert spec.layers == (Dense(3),)
    assert (spec.training.learning_rate, spec.training.batch_size) == (0.3, 20)


def test_a_new_dataset_starts_from_its_own_settings():
    blobs = Spec.from_dict({"task": {"dataset": "blobs", "options": {"classes": 4}}, "layers": []})
    circle = apply_patch(blobs, {"task": {"dataset": "circle"}})
    assert circle.task.options == {} and circle.output.activation == "tanh"
    digits = apply_patch(circle, {"task": {"dataset": "digits"}})
    assert digits.task.features == () and digits.layers  # the image starter model


def test_weights_are_dropped_unless_the_patch_gives_them():
    with_weights = Spec.from_dict({"task": {"dataset": "gauss"}, "layers": [],
                                   "weights": [{"W": [[1.0], [1.0]], "b": [0.0]}]})
    assert apply_patch(with_weights, {}) is with_weights
    assert apply_patch(with_weights, {"training": {"learning_rate": 0.1}}).weights is None
    moved = apply_patch(with_weights, {"weights": [{"W": [[2.0], [0.0]], "b": [1.0]}]})
    assert moved.weights == ({"W": [[2.0], [0.0]], "b": [1.0]},)


def test_an_impossible_preset_fails_with_the_spec_error():
    with pytest.raises(SpecError) as caught:
        apply_preset(LESSON_START, Preset({"layers": [{"type": "dense", "units": 0}]}))
    assert caught.value.path == "layers.0.units"


def test_apply_preset_uses_the_patch():
    spec = apply_preset(LESSON_START, Preset({"task": {"dataset": "xor"}, "layers": []}, locked=("layers",)))
    assert spec.task.dataset == "xor" and spec.layers == ()
    assert LESSON_START.task == Task("circle").canonical()


def test_locks_and_views_carry_over_until_a_step_changes_them(write):
    text = GOOD + "\n## Third\n\n```yaml\npreset:\n  unlocked: [run, weights]\n  views: [network, gradients]\n```\n" \
                  "\n## Fourth\n\nJust text.\n"
    steps = load_lesson(write(text)).steps
    assert [step.preset.locked for step in steps[:2]] == [("layers",), ("layers",)]
    assert steps[0].preset.views == VIEWS
    assert set(steps[2].preset.locked) == set(CONTROLS) - {"run", "weights"}
    assert steps[3].preset.locked == steps[2].preset.locked and steps[3].preset.views == ("network", "gradients")
    assert steps[3].preset.spec_patch == {} and not steps[3].preset.reset and not steps[3].goal.conditions


def test_spec_at_follows_the_presets(write):
    lesson = load_lesson(write(GOOD))
    assert lesson.spec_at(0).task.dataset == "xor" and lesson.spec_at(0).layers == ()
    assert lesson.spec_at(1).layers == (Dense(3, "relu"),)
    assert lesson.solution_spec(0) is None and lesson.solution_spec(1) == lesson.spec_at(1)


def test_lessons_need_neither_numpy_nor_panel():
    """DESIGN §3: lessons are read with the standard library, PyYAML and the spec."""
    from tests.test_layering import import_with_blocked
    run = import_with_blocked(["playground.lessons"], ["numpy", "panel", "bokeh", "param", "torch", "server"])
    assert run.returncode == 0, run.stderr[-2000:]
