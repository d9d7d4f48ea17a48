"""Guided lessons: the lesson file format, its validation and goal checking.

A lesson is one Markdown file in ``lessons/`` (the format is described for
teachers in ``lessons/FORMAT.md``): YAML front matter with the lesson's id,
title, level, minutes and prerequisites, then one ``## Step title`` section
per step, each with an optional fenced ``yaml`` block of settings: a
*preset* (a patch to the model spec, and which controls are locked or hidden
and which views are shown), a *goal*, *hints*, a *quiz* and a *solution*.

Why this shape:

- Teachers write lessons, not programmers, so the file reads as a text with
  a few settings, and every mistake is reported with the file, the step
  (number and title), the field and the line, in words.
- A goal is data in a tiny condition language (metric, comparison, value),
  never ``eval``: lesson files may come from anyone, and the same goal must
  be checkable on the server from the few numbers a summary carries.
- A preset is a patch on the spec and is validated by the spec itself, so a
  lesson cannot put the playground into a state the spec refuses.

Standard library, PyYAML and the spec package only: no numpy, no panel.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, NamedTuple

import yaml

from playground.spec import (ACTIVATIONS, DATASETS, INITS, OPTIMIZERS, Conv2D, Dense, Pool, Recurrent, Spec,
                             SpecError, Task, plan_layers)
from playground.spec.edits import set_task

LEVELS = ("beginner", "intermediate", "advanced")

#: The controls a step can lock (shown, not changeable) or hide, by name.
#: The page maps each name to its widgets; a lesson naming anything else is
#: refused, so that a typo never leaves a control silently unlocked.
CONTROLS = {
    "run": "the Train, Step and Reset buttons",
    "learning_rate": "the learning-rate menu",
    "optimizer": "the optimizer menu",
    "activation": "the activation menu",
    "regularization": "the regularization kind and rate",
    "init": "how the weights start (the initialisation menu)",
    "problem": "the problem-type menu",
    "train_in": "where the model trains (this browser or the server)",
    "dataset": "the dataset menu and the dataset's own settings",
    "ratio": "the share of the data used for training",
    "noise": "the noise slider",
    "batch_size": "the batch-size slider",
    "regenerate": "the Regenerate data button",
    "layers": "adding and removing hidden layers",
    "neurons": "adding and removing neurons",
    "features": "switching input features on and off",
    "weights": "typing a weight or a bias",
}

#: The view tabs a step can show.
VIEWS = ("network", "gradients", "activations", "landscape")

#: Every lesson starts from this spec, whatever the learner had before, so
#: that a lesson plays the same for everyone (it is the page's first model).
LESSON_START = Spec(task=Task("circle"), layers=(Dense(4), Dense(2)))

#: The lessons that ship with the playground.
LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"

#: Markdown files in the lessons folder that are not lessons.
NOT_LESSONS = frozenset({"FORMAT.md", "README.md"})

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_MINUTES = 600
MAX_SOLUTION_STEPS = 100_000


class LessonError(ValueError):
    """A lesson file that cannot be used. ``str(error)`` names the file, the
    step and the field; ``path`` and ``line`` (1-based, or None) locate it."""

    def __init__(self, message: str, path, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line


# --- what a lesson is ---------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    """What a step sets up. ``spec_patch`` is merged into the learner's spec
    (see ``apply_preset``); ``locked``, ``hidden`` and ``views`` are already
    resolved: a step that does not name them keeps the previous step's."""

    spec_patch: dict = field(default_factory=dict)
    locked: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    views: tuple[str, ...] = VIEWS
    #: Start training again from fresh weights at step 0 when the step begins.
    reset: bool = False
    #: Reset starts from the same weights every time (else it draws a new seed).
    same_start: bool = False


class GoalPart(NamedTuple):
    """One condition of a goal as the learner reads it."""

    text: str  # "test loss 0.134 — needs below 0.1"
    met: bool
    value: object  # the measured value, None when not known yet


@dataclass(frozen=True)
class GoalStatus:
    met: bool
    parts: tuple[GoalPart, ...]


@dataclass(frozen=True)
class Condition:
    """``metric`` compared by ``test`` (below, above, at_most, at_least,
    equals, one_of) with ``target``; checked against a summary and a spec."""

    metric: str
    test: str
    target: object

    def check(self, summary: dict, spec: Spec) -> GoalPart:
        metric = METRICS[self.metric]
        value = metric.read(summary or {}, spec)
        met = value is not None and TESTS[self.test](value, self.target)
        wanted = _requirement(metric, self.test, self.target)
        shown = f"{metric.label} {metric.show(value)}"
        return GoalPart(f"{shown} — {wanted}, as needed" if met else f"{shown} — needs {wanted}", met, value)


@dataclass(frozen=True)
class Goal:
    """Conditions that must all hold; no conditions: a step to read and go on."""

    conditions: tuple[Condition, ...] = ()

    def check(self, summary: dict, spec: Spec) -> GoalStatus:
        parts = tuple(condition.check(summary, spec) for condition in self.conditions)
        return GoalStatus(all(part.met for part in parts), parts)


@dataclass(frozen=True)
class QuizQuestion:
    """A multiple-choice question. ``answer`` indexes ``choices`` from 0 (the
    file counts from 1, as a teacher does)."""

    question: str
    choices: tuple[str, ...]
    answer: int
    explanation: str

    @property
    def correct_choice(self) -> str:
        return self.choices[self.answer]


@dataclass(frozen=True)
class Solution:
    """One way to meet the goal: a patch on the step's spec, then so many
    training steps. The tests replay it, so every lesson stays solvable."""

    spec_patch: dict = field(default_factory=dict)
    train: int = 0


@dataclass(frozen=True)
class Step:
    """One ``## Title`` section: text to read, what it sets up, what to reach."""

    title: str
    text: str  # Markdown, formulas ($…$) included
    preset: Preset
    goal: Goal
    hints: tuple[str, ...] = ()
    quiz: tuple[QuizQuestion, ...] = ()
    solution: Solution | None = None
    line: int = 0  # of its heading


@dataclass(frozen=True)
class Lesson:
    """One lesson file, validated: its front matter and its steps in order."""

    id: str
    title: str
    level: str
    minutes: int
    prerequisites: tuple[str, ...]
    steps: tuple[Step, ...]
    path: Path
    intro: str = ""  # Markdown before the first step
    #: Lines of front-matter fields, for errors found across lessons.
    lines: dict = field(default_factory=dict, repr=False, compare=False)

    def spec_at(self, index: int, start: Spec = LESSON_START) -> Spec:
        """The spec at step ``index`` (from 0) for a learner who changed
        nothing: the presets of steps 0..index applied in turn."""
        spec = start
        for step in self.steps[:index + 1]:
            spec = apply_preset(spec, step.preset)
        return spec

    def solution_spec(self, index: int, start: Spec = LESSON_START) -> Spec | None:
        """The spec of step ``index``'s solution, None when it has none."""
        solution = self.steps[index].solution
        if solution is None:
            return None
        return apply_patch(self.spec_at(index, start), solution.spec_patch)


# --- presets --------------------------------------------------------------------------

def apply_patch(spec: Spec, patch: dict) -> Spec:
    """``spec`` with ``patch`` deep-merged into its JSON form (objects merge,
    lists and values replace), validated again (raises ``SpecError``).

    A patch that changes the dataset first switches it as the dataset menu
    does (the new dataset's own settings, and the output and starter model
    for another kind of problem), so a patch needs to name only what the
    lesson cares about. The spec's weights are dropped unless the patch gives
    some: a running model keeps its own weights wherever the shapes allow.
    """
    if not patch:
        return spec
    task_patch = patch.get("task")
    if isinstance(task_patch, dict):
        dataset = task_patch.get("dataset")
        if isinstance(dataset, str) and dataset in DATASETS and dataset != spec.task.dataset:
            spec = set_task(spec, dataset=dataset)
    return Spec.from_dict(_merge(spec.to_dict(weights=False), patch))


def apply_preset(spec: Spec, preset: Preset) -> Spec:
    """The spec a step starts from: its preset's patch applied to ``spec``."""
    return apply_patch(spec, preset.spec_patch)


def _merge(base, patch):
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else _plain(value)
        return merged
    return _plain(patch)


def _plain(value):
    """Plain dicts and lists (YAML gives line-remembering dicts)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# --- metrics and goals ----------------------------------------------------------------

@dataclass(frozen=True)
class Metric:
    """A number (or word) a goal can test, read from a summary and a spec.

    ``kind``: "number", "share" (a fraction shown in per cent), "count",
    "flag" (true/false) or "word" (one of ``words``).
    """

    name: str
    label: str
    kind: str
    read: Callable[[dict, Spec], object]
    words: tuple[str, ...] = ()
    help: str = ""

    def show(self, value) -> str:
        if value is None:
            return "not measured yet"
        if self.kind == "share":  # 91.96 % must not read as the 92 % it falls short of
            return f"{value * 100:.4g} %"
        if self.kind == "number":
            return f"{value:.3g}"
        if self.kind == "flag":
            return "yes" if value else "no"
        return str(value)


def _number(value):
    """A finite number from a summary, else None (missing, NaN, diverged)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value


def _summary(key: str):
    return lambda summary, spec: _number(summary.get(key))


def _diverged(summary: dict, spec: Spec):
    value = summary.get("diverged")
    return value if isinstance(value, bool) else None


def _gradient_ratio(summary: dict, spec: Spec):
    """First layer's gradient norm over the last's; layers without parameters
    (None) do not count. None before any gradient (the last is 0)."""
    norms = [_number(n) for n in summary.get("gradient_norms") or () if n is not None]
    if not norms or None in norms or not norms[-1] > 0:
        return None
    return norms[0] / norms[-1]


def _loss_gap(summary: dict, spec: Spec):
    train, test = _number(summary.get("train_loss")), _number(summary.get("test_loss"))
    return None if train is None or test is None else test - train


def _units(layer) -> int:
    """Neurons of a hidden layer: units, or filters for a convolution."""
    if isinstance(layer, (Dense, Recurrent)):
        return layer.units
    if isinstance(layer, Conv2D):
        return layer.filters
    return 0  # pooling, flatten, dropout: no neurons of their own


def _one_name(names: set) -> str:
    """The one name of a set; "mixed" when there are several, "none" without any."""
    return names.pop() if len(names) == 1 else ("mixed" if names else "none")


def _recurrent_cell(summary: dict, spec: Spec) -> str:
    return _one_name({layer.type for layer in spec.layers if isinstance(layer, Recurrent)})


TRAIN_PLACES = ("browser", "server")


def _trains_on(summary: dict, spec: Spec):
    """Where the page trained the run the summary describes (the page adds it)."""
    value = summary.get("trains_on")
    return value if value in TRAIN_PLACES else None


def _activation(summary: dict, spec: Spec) -> str:
    """The hidden layers' activation; "mixed" when they differ, "none" without any."""
    return _one_name({layer.activation for layer in spec.layers if getattr(layer, "has_activation", False)})


METRICS: dict[str, Metric] = {m.name: m for m in (
    # from the summary the engine reports
    Metric("step", "training steps", "count", _summary("step")),
    Metric("epoch", "epochs", "number", _summary("epoch")),
    Metric("train_loss", "training loss", "number", _summary("train_loss")),
    Metric("test_loss", "test loss", "number", _summary("test_loss")),
    Metric("train_accuracy", "training accuracy", "share", _summary("train_accuracy")),
    Metric("test_accuracy", "test accuracy", "share", _summary("test_accuracy")),
    Metric("loss_gap", "test loss minus training loss", "number", _loss_gap,
           help="how much worse the model does on data it did not train on"),
    Metric("diverged", "diverged", "flag", _diverged),
    Metric("first_to_last_gradient_ratio", "first-to-last gradient ratio", "share", _gradient_ratio,
           help="the first layer's gradient norm as a share of the last layer's; "
                "small values: the gradient vanishes on its way back"),
    # from the spec the learner built
    Metric("hidden_layers", "hidden layers", "count",
           lambda summary, spec: sum(1 for layer in spec.layers if _units(layer))),
    Metric("hidden_neurons", "hidden neurons", "count",
           lambda summary, spec: sum(_units(layer) for layer in spec.layers)),
    Metric("parameters", "parameters", "count",
           lambda summary, spec: sum(plan.parameter_count for plan in plan_layers(spec))),
    Metric("input_features", "input features", "count",
           lambda summary, spec: len(spec.task.input_features)),
    Metric("activation", "activation", "word", _activation, words=ACTIVATIONS + ("mixed", "none")),
    Metric("conv_layers", "convolution layers", "count",
           lambda summary, spec: sum(1 for layer in spec.layers if isinstance(layer, Conv2D))),
    Metric("pooling_layers", "pooling layers", "count",
           lambda summary, spec: sum(1 for layer in spec.layers if isinstance(layer, Pool))),
    Metric("recurrent_cell", "recurrent cell", "word", _recurrent_cell, words=("rnn", "gru", "lstm", "mixed", "none")),
    Metric("init", "initialisation", "word", lambda summary, spec: spec.training.init, words=INITS),
    Metric("trains_on", "trains on", "word", _trains_on, words=TRAIN_PLACES,
           help="where the model trained: this browser, or the server for models too big for it"),
    Metric("dataset", "dataset", "word", lambda summary, spec: spec.task.dataset, words=tuple(DATASETS)),
    Metric("optimizer", "optimizer", "word", lambda summary, spec: spec.training.optimizer, words=OPTIMIZERS),
    Metric("learning_rate", "learning rate", "number", lambda summary, spec: spec.training.learning_rate),
    Metric("batch_size", "batch size", "count", lambda summary, spec: spec.training.batch_size),
    Metric("noise", "noise", "share", lambda summary, spec: spec.task.noise),
)}

#: The comparisons a condition can make, by the word a lesson writes.
TESTS: dict[str, Callable[[object, object], bool]] = {
    "below": lambda value, target: value < target,
    "above": lambda value, target: value > target,
    "at_most": lambda value, target: value <= target,
    "at_least": lambda value, target: value >= target,
    "equals": lambda value, target: value == target,
    "one_of": lambda value, target: value in target,
}
#: Which comparisons suit which kind of metric.
TESTS_FOR_KIND = {
    "number": ("below", "above", "at_most", "at_least"),
    "share": ("below", "above", "at_most", "at_least"),
    "count": ("below", "above", "at_most", "at_least", "equals"),
    "flag": ("equals",),
    "word": ("equals", "one_of"),
}


def _requirement(metric: Metric, test: str, target) -> str:
    if test == "one_of":
        return "one of " + ", ".join(target)
    if test == "equals":
        return f"exactly {target}" if metric.kind == "count" else metric.show(target)
    return f"{test.replace('_', ' ')} {metric.show(target)}"


def check_goal(goal: Goal | None, summary: dict, spec: Spec) -> GoalStatus:
    """Whether the learner's run meets a step's goal, condition by condition.
    ``summary`` is what ``TrainingSession.summary()`` returns (or an empty
    dict before the first one); no goal is met at once."""
    return (goal or Goal()).check(summary, spec)


# --- reading the file -----------------------------------------------------------------

class _Mapping(dict):
    """A YAML mapping that remembers the line (from 0) of each of its keys."""

    lines: dict


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses a key written twice, records key lines, and
    reads 1e-3 as a number (plain YAML 1.1 reads it as text)."""


def _construct_mapping(loader: _Loader, node) -> _Mapping:
    loader.flatten_mapping(node)
    result = _Mapping()
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            seen = key in result
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word", key_node.start_mark) from None
        if seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


@dataclass
class _RawStep:
    title: str
    line: int
    text: list = field(default_factory=list)
    settings: str | None = None
    settings_line: int = 0  # the line of the ```yaml fence


_HEADING = re.compile(r"^##(?:\s+(.*?))?(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")


class _Where:
    """A place in a lesson file — the file, maybe a step, a YAML block — so
    that every error names them and the line."""

    def __init__(self, path, context: str = "", line: int | None = None, base: int | None = None):
        self.path, self.context, self.line, self.base = path, context, line, base

    def error(self, message: str, line: int | None = None) -> LessonError:
        head = f"{self.path}, {self.context}" if self.context else f"{self.path}"
        return LessonError(f"{head}: {message}", self.path, line or self.line)

    def line_of(self, mapping, key) -> int | None:
        lines = getattr(mapping, "lines", None)
        if lines is not None and key in lines and self.base is not None:
            return self.base + lines[key]
        return self.line

    def load_yaml(self, text: str, what: str):
        """YAML text whose first line is file line ``self.base``."""
        try:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as problem:
            # PyYAML says where it gave up and, often, where the broken part began
            # (an unclosed bracket): point at the beginning, mention both.
            found, began = getattr(problem, "problem_mark", None), getattr(problem, "context_mark", None)
            reason = getattr(problem, "problem", None) or str(problem)
            if found is not None:
                reason += f" (line {self.base + found.line})"
            context = getattr(problem, "context", None)
            if context and began is not None:
                reason = f"{context} from line {self.base + began.line}: {reason}"
            mark = began if began is not None else found
            line = self.base + mark.line if mark is not None else self.line
            raise self.error(f"{what} is not valid YAML: {reason}", line) from None


def _split_markdown(text: str, where: _Where):
    """Front matter text, intro lines and raw steps. Headings and ```yaml
    blocks count only outside other fenced blocks (code shown to learners)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise where.error("a lesson starts with front matter: a line '---', then id, title, level, "
                          "minutes and prerequisites, then another '---'", 1)
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise where.error("the front matter has no closing '---' line", 1)
    intro, steps = [], []
    fence, fence_line, settings = None, 0, False  # the open fence, its line, whether it holds settings
    for number, line in enumerate(lines[end + 1:], start=end + 2):
        text_lines = steps[-1].text if steps else intro
        if fence is not None:
            stripped = line.strip()
            closing = stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence)
            if closing:
                fence = None
            if settings:
                settings = not closing
                if not closing:
                    steps[-1].settings += line + "\n"
            else:
                text_lines.append(line)
            continue
        opened = _FENCE.match(line)
        if opened:
            fence, fence_line = opened.group(1), number
            settings = opened.group(2).lower() in ("yaml", "yml")
            if not settings:
                text_lines.append(line)
            elif not steps:
                raise where.error("a ```yaml settings block comes before the first step; "
                                  "start each step with a '## Step title' heading", number)
            elif steps[-1].settings is not None:
                raise _Where(where.path, f'step {len(steps)} "{steps[-1].title}"').error(
                    "has a second ```yaml block; put all of a step's settings in one", number)
            else:
                steps[-1].settings, steps[-1].settings_line = "", number
            continue
        heading = _HEADING.match(line)
        if heading:
            if not heading.group(1):
                raise _Where(where.path, f"step {len(steps) + 1}").error("the '##' heading needs a title", number)
            steps.append(_RawStep(heading.group(1), number))
            continue
        text_lines.append(line)
    if fence is not None:
        raise where.error(f"the fenced block opened at line {fence_line} is never closed", fence_line)
    return "\n".join(lines[1:end]), intro, steps


def _paragraphs(lines) -> str:
    return "\n".join(lines).strip()


# --- checking fields ------------------------------------------------------------------

def _describe(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 30 else value[:27] + "...")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _unknown(kind: str, name, known) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    hint = f' — did you mean "{close[0]}"?' if close else ""
    return f'unknown {kind} "{name}"{hint} (known: {", ".join(map(str, known))})'


class _Fields:
    """One YAML mapping being read, with typed getters: each error names the
    field (``label``) and the line of its key."""

    def __init__(self, mapping, where: _Where, label: str = ""):
        self.mapping, self.where, self.label = mapping, where, label

    def error(self, message: str, key=None, *, named: bool = True, line: int | None = None) -> LessonError:
        """An error at ``key``'s line; ``named``: the message starts with the key."""
        parts = (self.label, str(key) if named and key is not None else "")
        name = ": ".join(part for part in parts if part)
        line = line or self.where.line_of(self.mapping, key)
        return self.where.error(f"{name}: {message}" if name else message, line)

    def only(self, allowed, required=()) -> "_Fields":
        for key in self.mapping:
            if key not in allowed:
                raise self.error(_unknown("key", key, allowed), key, named=False)
        for key in required:
            if key not in self.mapping:
                raise self.error(f'"{key}" is missing', next(iter(self.mapping), None), named=False)
        return self

    def has(self, key) -> bool:
        return key in self.mapping

    def text(self, key, default=None) -> str:
        value = self.mapping.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"must be some text, got {_describe(value)}", key)
        return value.strip()

    def whole(self, key, low: int, high: int, default=None) -> int:
        value = self.mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(f"must be a whole number from {low} to {high}, got {_describe(value)}", key)
        return value

    def flag(self, key, default: bool) -> bool:
        value = self.mapping.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"must be true or false, got {_describe(value)}", key)
        return value

    def listing(self, key) -> list:
        """A list; a single value stands for a list of one."""
        value = self.mapping.get(key)
        if value is None:
            raise self.error("must not be empty", key)
        return value if isinstance(value, list) else [value]

    def names(self, key, known, kind: str) -> tuple[str, ...]:
        value = self.mapping.get(key)
        items = [] if value is None else self.listing(key)
        for item in items:
            if not isinstance(item, str) or item not in known:
                raise self.error(_unknown(kind, item, known), key)
        if len(set(items)) != len(items):
            raise self.error(f"names a {kind} twice", key)
        return tuple(items)

    def mapping_of(self, key, label: str) -> "_Fields":
        value = self.mapping.get(key)
        if not isinstance(value, dict):
            raise self.error(f"must be a mapping of names to values, got {_describe(value)}", key)
        return _Fields(value, self.where, label)


def _mapping(value, where: _Where, label: str, line: int | None) -> _Fields:
    if value is None:
        value = _Mapping()
    if not isinstance(value, dict):
        raise where.error(f"{label} must be a mapping of names to values, got {_describe(value)}", line)
    return _Fields(value, where, "")


FRONT_KEYS = ("id", "title", "level", "minutes", "prerequisites")
STEP_KEYS = ("preset", "goal", "hints", "quiz", "solution")
PRESET_KEYS = ("spec", "locked", "unlocked", "hidden", "views", "reset", "same_start")
QUIZ_KEYS = ("question", "choices", "answer", "explanation")
SOLUTION_KEYS = ("spec", "train")


def _read_front(text: str, where: _Where) -> tuple[dict, dict]:
    front = _mapping(where.load_yaml(text, "the front matter"), where, "the front matter", 1)
    front.only(FRONT_KEYS, required=FRONT_KEYS[:4])
    lesson_id = front.text("id")
    if not ID_PATTERN.match(lesson_id):
        raise front.error(f"{lesson_id!r} must be lower-case words joined by hyphens, like 'hidden-layers'", "id")
    level = front.mapping.get("level")
    if level not in LEVELS:
        raise front.error(_unknown("level", level, LEVELS), "level")
    prerequisites = front.mapping.get("prerequisites") or []
    prerequisites = prerequisites if isinstance(prerequisites, list) else [prerequisites]
    for name in prerequisites:
        if not isinstance(name, str) or not ID_PATTERN.match(name):
            raise front.error(f"must list lesson ids, got {_describe(name)}", "prerequisites")
    if lesson_id in prerequisites:
        raise front.error("a lesson cannot be its own prerequisite", "prerequisites")
    fields_ = {"id": lesson_id, "title": front.text("title"), "level": level,
               "minutes": front.whole("minutes", 1, MAX_MINUTES), "prerequisites": tuple(prerequisites)}
    lines = {key: where.line_of(front.mapping, key) for key in FRONT_KEYS}
    return fields_, lines


def _read_spec_patch(block: _Fields, key: str, spec: Spec) -> tuple[dict, Spec]:
    """A spec patch and the spec it makes from ``spec``; a patch the spec
    refuses is an error carrying the spec's message and field path."""
    patch = block.mapping.get(key)
    if not isinstance(patch, dict):
        raise block.error("must be a part of a spec: a mapping like {task: {dataset: xor}}, "
                          f"got {_describe(patch)}", key)
    try:
        return _plain(patch), apply_patch(spec, patch)
    except SpecError as problem:
        at = f" (spec field {problem.path})" if problem.path else ""
        raise block.error(f"{problem.message}{at}", key, line=_spec_line(block, key, problem.path)) from None


def _spec_line(block: _Fields, key: str, path: str) -> int | None:
    """The line of the deepest key of ``path`` that the patch itself wrote."""
    node, line = block.mapping.get(key), block.where.line_of(block.mapping, key)
    for part in path.split(".") if path else ():
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            line, node = block.where.line_of(node, part), node[part]
        else:
            break
    return line


def _read_preset(step: _Fields, previous: Preset, spec: Spec) -> tuple[Preset, Spec]:
    if not step.has("preset"):
        return Preset({}, previous.locked, previous.hidden, previous.views), spec
    block = step.mapping_of("preset", "preset").only(PRESET_KEYS)
    patch = {}
    if block.has("spec"):
        patch, spec = _read_spec_patch(block, "spec", spec)
    views = block.names("views", VIEWS, "view") if block.has("views") else previous.views
    if not views:
        raise block.error("must show at least one view", "views")
    preset = Preset(patch, _locked(block, previous),
                    block.names("hidden", CONTROLS, "control") if block.has("hidden") else previous.hidden,
                    views, block.flag("reset", False), block.flag("same_start", False))
    return preset, spec


def _locked(block: _Fields, previous: Preset) -> tuple[str, ...]:
    """``locked`` lists the locked controls; ``unlocked``, for a step that
    locks nearly everything, the few left free."""
    if block.has("locked") and block.has("unlocked"):
        raise block.error("give locked or unlocked, not both", "unlocked")
    if block.has("unlocked"):
        free = block.names("unlocked", CONTROLS, "control")
        return tuple(name for name in CONTROLS if name not in free)
    return block.names("locked", CONTROLS, "control") if block.has("locked") else previous.locked


def _read_condition(raw, step: _Fields, index: int) -> Condition:
    if not isinstance(raw, dict):
        raise step.error(f"condition {index} must be a mapping like {{metric: test_loss, below: 0.1}}, "
                         f"got {_describe(raw)}", "goal")
    condition = _Fields(raw, step.where, "goal")
    name = raw.get("metric")
    if name is None:
        raise condition.error(f"condition {index} names no metric, as in {{metric: test_loss, below: 0.1}}",
                              next(iter(raw), None), named=False)
    if not isinstance(name, str) or name not in METRICS:
        raise condition.error(_unknown("metric", name, METRICS), "metric", named=False)
    metric = METRICS[name]
    allowed = TESTS_FOR_KIND[metric.kind]
    tests = [key for key in raw if key != "metric"]
    for key in tests:
        if key not in TESTS:
            raise condition.error(f"{name}: {_unknown('comparison', key, allowed)}", key, named=False)
        if key not in allowed:
            raise condition.error(f"{name} cannot be tested with {key}; use {', '.join(allowed)}", key,
                                  named=False)
    if len(tests) != 1:
        raise condition.error(f"{name}: give exactly one comparison ({', '.join(allowed)}); "
                              "to bound it on both sides, write two conditions", "metric", named=False)
    test = tests[0]
    return Condition(name, test, _check_target(metric, test, raw[test], condition))


def _check_target(metric: Metric, test: str, target, condition: _Fields):
    where = f"{metric.name}: {test}"
    if metric.kind == "word":
        targets = target if test == "one_of" else [target]
        if test == "one_of" and (not isinstance(target, list) or not target):
            raise condition.error(f"{where} must be a list of words, got {_describe(target)}", test, named=False)
        for word in targets:
            if word not in metric.words:
                raise condition.error(f"{metric.name}: {_unknown(metric.name, word, metric.words)}", test, named=False)
        return tuple(target) if test == "one_of" else target
    if metric.kind == "flag":
        if not isinstance(target, bool):
            raise condition.error(f"{where} must be true or false, got {_describe(target)}", test, named=False)
        return target
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target):
        raise condition.error(f"{where} must be a number, got {_describe(target)}", test, named=False)
    if metric.kind == "count" and test == "equals" and not isinstance(target, int):
        raise condition.error(f"{where} must be a whole number, got {_describe(target)}", test, named=False)
    return target


def _read_goal(step: _Fields) -> Goal:
    """A list of conditions; a single condition may stand alone."""
    if not step.has("goal"):
        return Goal()
    raw = step.mapping["goal"]
    conditions = raw if isinstance(raw, list) else [raw]
    if raw is None or not conditions:
        raise step.error("needs at least one condition, like {metric: test_loss, below: 0.1}", "goal")
    return Goal(tuple(_read_condition(item, step, index) for index, item in enumerate(conditions, 1)))


def _read_hints(step: _Fields) -> tuple[str, ...]:
    if not step.has("hints"):
        return ()
    hints = step.listing("hints")
    for index, hint in enumerate(hints, 1):
        if not isinstance(hint, str) or not hint.strip():
            raise step.error(f"hint {index} must be some text, got {_describe(hint)}", "hints")
    return tuple(hint.strip() for hint in hints)


def _read_quiz(step: _Fields) -> tuple[QuizQuestion, ...]:
    if not step.has("quiz"):
        return ()
    questions = []
    for index, raw in enumerate(step.listing("quiz"), 1):
        label = f"quiz question {index}"
        if not isinstance(raw, dict):
            raise step.error(f"question {index} must be a mapping with {', '.join(QUIZ_KEYS)}, "
                             f"got {_describe(raw)}", "quiz")
        quiz = _Fields(raw, step.where, label).only(QUIZ_KEYS, required=QUIZ_KEYS)
        choices = raw["choices"]
        if not isinstance(choices, list) or len(choices) < 2:
            raise quiz.error(f"needs a list of at least two choices, got {_describe(choices)}", "choices")
        for number, choice in enumerate(choices, 1):
            if not isinstance(choice, (str, int, float)) or isinstance(choice, bool) or not str(choice).strip():
                raise quiz.error(f"choice {number} must be some text, got {_describe(choice)}", "choices")
        choices = tuple(str(choice).strip() for choice in choices)
        if len(set(choices)) != len(choices):
            raise quiz.error("lists the same choice twice", "choices")
        answer = raw["answer"]
        if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= len(choices):
            raise quiz.error(f"must be the number of the right choice, from 1 to {len(choices)}, "
                             f"got {_describe(answer)}", "answer")
        questions.append(QuizQuestion(quiz.text("question"), choices, answer - 1, quiz.text("explanation")))
    return tuple(questions)


def _read_solution(step: _Fields, spec: Spec) -> Solution | None:
    if not step.has("solution"):
        return None
    block = step.mapping_of("solution", "solution").only(SOLUTION_KEYS)
    patch = _read_spec_patch(block, "spec", spec)[0] if block.has("spec") else {}
    return Solution(patch, block.whole("train", 0, MAX_SOLUTION_STEPS, default=0))


def _read_step(raw: _RawStep, number: int, path, previous: Preset, spec: Spec) -> tuple[Step, Spec]:
    where = _Where(path, f'step {number} "{raw.title}"', raw.settings_line or raw.line,
                   raw.settings_line + 1 if raw.settings is not None else None)
    settings = where.load_yaml(raw.settings, "the settings block") if raw.settings is not None else None
    step = _mapping(settings, where, "the settings block", where.line).only(STEP_KEYS)
    preset, spec = _read_preset(step, previous, spec)
    result = Step(title=raw.title, text=_paragraphs(raw.text), preset=preset, goal=_read_goal(step),
                  hints=_read_hints(step), quiz=_read_quiz(step), solution=_read_solution(step, spec),
                  line=raw.line)
    return result, spec


# --- loading --------------------------------------------------------------------------

def load_lesson(path, start: Spec = LESSON_START) -> Lesson:
    """Read and validate one lesson file (raises ``LessonError``). Presets
    are checked in turn from ``start``, as a learner meets them."""
    path = Path(path)
    where = _Where(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise where.error(f"cannot be read: {problem}") from None
    front_text, intro, raw_steps = _split_markdown(text, where)
    front, lines = _read_front(front_text, _Where(path, "front matter", 1, 2))
    if not raw_steps:
        raise where.error("a lesson needs at least one step: a '## Step title' heading and its text",
                          len(text.splitlines()) or 1)
    steps, preset, spec = [], Preset(), start
    for number, raw in enumerate(raw_steps, 1):
        step, spec = _read_step(raw, number, path, preset, spec)
        steps.append(step)
        preset = step.preset
    return Lesson(**front, steps=tuple(steps), path=path, intro=_paragraphs(intro), lines=lines)


def lesson_files(folder) -> list[Path]:
    """The lesson files of a folder, in the order of their names."""
    return sorted(p for p in Path(folder).glob("*.md") if p.name not in NOT_LESSONS)


def load_lessons(folder, start: Spec = LESSON_START) -> list[Lesson]:
    """Every lesson of a folder, validated one by one and together: ids are
    unique, prerequisites name lessons that exist and form no cycle."""
    lessons = [load_lesson(path, start) for path in lesson_files(folder)]
    by_id: dict[str, Lesson] = {}
    for lesson in lessons:
        if lesson.id in by_id:
            raise LessonError(f'{lesson.path}: front matter: id: "{lesson.id}" is already the id of '
                              f"{by_id[lesson.id].path}; every lesson needs its own", lesson.path,
                              lesson.lines.get("id"))
        by_id[lesson.id] = lesson
    for lesson in lessons:
        for name in lesson.prerequisites:
            if name not in by_id:
                raise LessonError(f"{lesson.path}: front matter: prerequisites: "
                                  f"{_unknown('lesson', name, by_id)}", lesson.path,
                                  lesson.lines.get("prerequisites"))
    _refuse_cycles(lessons, by_id)
    return lessons


def _refuse_cycles(lessons: list[Lesson], by_id: dict[str, Lesson]) -> None:
    """Depth-first search; a lesson met again on the current path closes a cycle."""
    done: set[str] = set()

    def visit(lesson: Lesson, trail: list[str]) -> None:
        if lesson.id in trail:
            cycle = trail[trail.index(lesson.id):] + [lesson.id]
            first = by_id[cycle[0]]
            raise LessonError(f"{first.path}: front matter: prerequisites form a cycle: "
                              f"{' → '.join(cycle)}", first.path, first.lines.get("prerequisites"))
        if lesson.id in done:
            return
        for name in lesson.prerequisites:
            visit(by_id[name], trail + [lesson.id])
        done.add(lesson.id)

    for lesson in lessons:
        visit(lesson, [])


@lru_cache(maxsize=4)
def _lessons_as_of(folder: str, stamp: tuple) -> tuple[Lesson, ...]:
    return tuple(load_lessons(folder))


def current_lessons(folder=LESSONS_DIR) -> tuple[Lesson, ...]:
    """The lessons of a folder, read again only when a file there changed:
    teachers edit lessons while a server runs, and pages ask for them often."""
    folder = Path(folder)
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.md")))
    return _lessons_as_of(str(folder), stamp)
