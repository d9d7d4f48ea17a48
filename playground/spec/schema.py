"""The spec's parts as frozen dataclasses, with their field checks.

A ``Spec`` validates itself when it is built, so every ``Spec`` object that
exists is usable: field values here, shapes and limits in ``shapes.py``.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields
from typing import ClassVar

from .catalogue import (ACTIVATIONS, DATASETS, FEATURES, INITS, LAYER_TYPES, LIMITS, LOSSES,
                        OPTIMIZERS, OUTPUT_ACTIVATIONS, PADDINGS, SPEC_VERSION)
from .errors import Place, SpecError, describe, list_words, suggest


# --- task ---------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """Which data to learn: dataset, its size and noise, the split and seed."""

    dataset: str = "circle"
    samples: int | None = None  # None: the dataset's default
    noise: float = 0.0
    train_ratio: float = 0.5
    seed: int = 1
    features: tuple[str, ...] | None = None  # point datasets only; None: ("x1", "x2")
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        # Lists from JSON become tuples so that equal tasks compare equal.
        if isinstance(self.features, list):
            object.__setattr__(self, "features", tuple(self.features))
        if isinstance(self.options, dict):
            object.__setattr__(self, "options", {
                k: tuple(v) if isinstance(v, list) else v for k, v in self.options.items()})

    @property
    def info(self):
        return DATASETS[self.dataset]

    def option(self, name: str):
        """The value of a dataset option, its default when not given."""
        return self.options.get(name, self.info.options[name].default)

    @property
    def sample_count(self) -> int:
        return self.info.default_samples if self.samples is None else self.samples

    @property
    def input_features(self) -> tuple[str, ...]:
        if self.info.kind != "points":
            return ()
        return ("x1", "x2") if self.features is None else tuple(self.features)

    def canonical(self) -> "Task":
        """The same task with every default written out, so that a saved spec
        means the same run even if a default changes later."""
        return dataclasses.replace(
            self, samples=self.sample_count, features=self.input_features,
            options={name: self.option(name) for name in self.info.options})

    def check(self) -> None:
        place = Place("task", "task")
        place.choice("dataset", self.dataset, tuple(DATASETS))
        info = self.info
        if self.samples is not None:
            place.whole("samples", self.samples, 10, info.max_samples)
        place.number("noise", self.noise, 0.0, 1.0)
        place.number("train_ratio", self.train_ratio, 0.05, 0.95)
        place.whole("seed", self.seed, 0, 2**32 - 1)
        self._check_features(place, info)
        self._check_options(place, info)
        train = round(self.sample_count * self.train_ratio)
        if train < 1 or train >= self.sample_count:
            raise place.error(f"train_ratio {self.train_ratio:g} of {self.sample_count} samples "
                              "leaves no training or no test data", "train_ratio")

    def _check_features(self, place: Place, info) -> None:
        if self.features is None:
            return
        if info.kind != "points":
            if self.features:
                raise place.error(f"features apply to the 2-D point datasets only; "
                                  f"{self.dataset!r} is a {info.kind} dataset", "features")
            return
        if not isinstance(self.features, (list, tuple)):
            raise place.error(f"features must be a list of names, got {describe(self.features)}", "features")
        if not self.features:
            raise place.error("features must name at least one input, e.g. ['x1', 'x2']", "features")
        for name in self.features:
            place.choice("feature", name, FEATURES)
        if len(set(self.features)) != len(self.features):
            raise place.error("features lists a name twice", "features")

    def _check_options(self, place: Place, info) -> None:
        if not isinstance(self.options, dict):
            raise place.error(f"options must be an object, got {describe(self.options)}", "options")
        for name, value in self.options.items():
            option = info.options.get(name)
            if option is None:
                known = list_words(info.options) or "none"
                raise place.error(f"{self.dataset!r} has no option {name!r}{suggest(name, info.options)}; "
                                  f"its options: {known}", f"options.{name}")
            where = Place("task", "task.options")
            if option.choices:
                self._check_subset(where, name, value, option.choices)
            else:
                where.whole(name, value, option.low, option.high, even=option.even)

    def _check_subset(self, place: Place, name: str, value, choices) -> None:
        if not isinstance(value, (list, tuple)):
            raise place.error(f"{name} must be a list drawn from {list_words(choices)}, got {describe(value)}", name)
        for item in value:
            place.choice(name[:-1] if name.endswith("s") else name, item, choices)
        if len(set(value)) != len(value):
            raise place.error(f"{name} lists an entry twice", name)
        if len(value) < 2:
            raise place.error(f"{name} needs at least two entries to make a classification task", name)


# --- layers ---------------------------------------------------------------------

class Layer:
    """Base of the layer specs; ``type`` is the name used in JSON."""

    type: ClassVar[str] = ""
    has_activation: ClassVar[bool] = False

    def check(self, place: Place) -> None:
        if self.has_activation:
            place.choice("activation", self.activation, ACTIVATIONS)

    def to_dict(self) -> dict:
        return {"type": self.type, **{f.name: getattr(self, f.name) for f in fields(self)}}


@dataclass(frozen=True)
class Dense(Layer):
    units: int = 8
    activation: str = "tanh"
    type: ClassVar[str] = "dense"
    has_activation: ClassVar[bool] = True

    def check(self, place):
        place.whole("units", self.units, 1, LIMITS["units"])
        super().check(place)


@dataclass(frozen=True)
class Conv2D(Layer):
    filters: int = 8
    kernel: int = 3
    stride: int = 1
    padding: str = "same"
    activation: str = "relu"
    type: ClassVar[str] = "conv2d"
    has_activation: ClassVar[bool] = True

    def check(self, place):
        place.whole("filters", self.filters, 1, LIMITS["filters"])
        place.whole("kernel", self.kernel, 1, LIMITS["kernel"])
        place.whole("stride", self.stride, 1, LIMITS["stride"])
        place.choice("padding", self.padding, PADDINGS)
        super().check(place)


@dataclass(frozen=True)
class Pool(Layer):
    size: int = 2
    stride: int | None = None  # None: the window size (non-overlapping windows)

    @property
    def step(self) -> int:
        return self.size if self.stride is None else self.stride

    def check(self, place):
        place.whole("size", self.size, 1, LIMITS["pool"])
        if self.stride is not None:
            place.whole("stride", self.stride, 1, LIMITS["pool"])


@dataclass(frozen=True)
class MaxPool(Pool):
    type: ClassVar[str] = "maxpool"


@dataclass(frozen=True)
class AvgPool(Pool):
    type: ClassVar[str] = "avgpool"


@dataclass(frozen=True)
class Flatten(Layer):
    type: ClassVar[str] = "flatten"


@dataclass(frozen=True)
class Dropout(Layer):
    rate: float = 0.5
    type: ClassVar[str] = "dropout"

    def check(self, place):
        place.number("rate", self.rate, 0.0, 0.95)


@dataclass(frozen=True)
class Recurrent(Layer):
    """Base of the recurrent layers. ``return_sequences`` None means: decided
    by position (true when a later layer or the task needs every step)."""

    units: int = 16
    return_sequences: bool | None = None

    def check(self, place):
        place.whole("units", self.units, 1, LIMITS["units"])
        if self.return_sequences is not None:
            place.flag("return_sequences", self.return_sequences)


@dataclass(frozen=True)
class SimpleRNN(Recurrent):
    activation: str = "tanh"
    type: ClassVar[str] = "rnn"
    has_activation: ClassVar[bool] = True


@dataclass(frozen=True)
class GRU(Recurrent):
    type: ClassVar[str] = "gru"


@dataclass(frozen=True)
class LSTM(Recurrent):
    type: ClassVar[str] = "lstm"


LAYER_CLASSES: dict[str, type] = {cls.type: cls for cls in (
    Dense, Conv2D, MaxPool, AvgPool, Flatten, Dropout, SimpleRNN, GRU, LSTM)}
assert tuple(LAYER_CLASSES) == LAYER_TYPES


# --- output and training --------------------------------------------------------

@dataclass(frozen=True)
class Output:
    """The output layer's activation and the loss; units follow from the task.
    None: the task's default (see ``default_output``)."""

    activation: str | None = None
    loss: str | None = None

    def check(self) -> None:
        place = Place("output", "output")
        place.choice("activation", self.activation, OUTPUT_ACTIVATIONS)
        place.choice("loss", self.loss, LOSSES)
        pairs = {"binary_cross_entropy": "sigmoid", "cross_entropy": "softmax"}
        needed = pairs.get(self.loss)
        if needed and self.activation != needed:
            raise place.error(f"loss {self.loss} needs a {needed} output activation, "
                              f"not {self.activation}", "activation")
        if self.activation == "softmax" and self.loss != "cross_entropy":
            raise place.error("a softmax output needs the cross_entropy loss", "loss")


def default_output(task: Task) -> Output:
    """The classic playground's choices: tanh for two classes (targets ±1),
    softmax for more, linear for regression."""
    if task.info.problem == "regression":
        return Output("linear", "squared_error")
    if classes_of(task) > 2:
        return Output("softmax", "cross_entropy")
    return Output("tanh", "squared_error")


def _complete_output(output: Output, task: Task) -> Output:
    """Fill what the spec left open, keeping activation and loss a valid pair."""
    default = default_output(task)
    activation, loss = output.activation, output.loss
    if activation is None:
        paired = {"binary_cross_entropy": "sigmoid", "cross_entropy": "softmax"}
        activation = paired.get(loss, default.activation) if isinstance(loss, str) else default.activation
    if loss is None:
        loss = "cross_entropy" if activation == "softmax" else (
            default.loss if default.loss != "cross_entropy" else "squared_error")
    return Output(activation, loss)


def classes_of(task: Task) -> int:
    """Number of classes of a classification task, 0 for regression."""
    from .shapes import task_classes
    return task_classes(task)


@dataclass(frozen=True)
class Training:
    optimizer: str = "sgd"
    learning_rate: float = 0.03
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    batch_size: int = 10
    l1: float = 0.0
    l2: float = 0.0
    init: str = "glorot"
    clip_norm: float = 0.0  # 0: no clipping
    #: The seed of the first weights, the batch order and dropout; None: the
    #: task's seed. Reset draws a new one, so that the link still reproduces the run.
    seed: int | None = None

    def check(self) -> None:
        place = Place("training", "training")
        if self.seed is not None:
            place.whole("seed", self.seed, 0, 2**32 - 1)
        place.choice("optimizer", self.optimizer, OPTIMIZERS)
        place.number("learning_rate", self.learning_rate, 0.0, 100.0, low_open=True)
        place.number("momentum", self.momentum, 0.0, 1.0, high_open=True)
        place.number("beta1", self.beta1, 0.0, 1.0, high_open=True)
        place.number("beta2", self.beta2, 0.0, 1.0, high_open=True)
        place.number("epsilon", self.epsilon, 0.0, 1.0, low_open=True)
        place.whole("batch_size", self.batch_size, 1, LIMITS["batch_size"])
        place.number("l1", self.l1, 0.0, 10.0)
        place.number("l2", self.l2, 0.0, 10.0)
        place.choice("init", self.init, INITS)
        place.number("clip_norm", self.clip_norm, 0.0, 1e6)


# --- the whole spec ---------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """Everything a run needs. Built only valid: the constructor checks
    fields, shapes, limits and weights, and raises ``SpecError``."""

    task: Task = field(default_factory=Task)
    layers: tuple = ()  # no hidden layer: a single output neuron
    output: Output = field(default_factory=Output)
    training: Training = field(default_factory=Training)
    #: One entry per layer and one for the output layer: None for a layer
    #: without parameters, else {parameter name: nested lists of numbers}.
    weights: tuple | None = None
    version: int = SPEC_VERSION

    def __post_init__(self):
        # Normalise containers so that equal specs compare equal.
        if isinstance(self.layers, list):
            object.__setattr__(self, "layers", tuple(self.layers))
        if self.weights is not None and isinstance(self.weights, list):
            object.__setattr__(self, "weights", tuple(self.weights))
        self._check()

    def _check(self) -> None:
        from .shapes import check_weights, plan_layers
        Place("spec", "version").whole("version", self.version, SPEC_VERSION, SPEC_VERSION)
        _expect(self.task, Task, "task")
        self.task.check()
        object.__setattr__(self, "task", self.task.canonical())
        if not isinstance(self.layers, tuple):
            raise SpecError(f"layers must be a list, got {describe(self.layers)}", "layers")
        if len(self.layers) > LIMITS["layers"]:
            raise SpecError(f"layers: {len(self.layers)} layers is more than the limit of "
                            f"{LIMITS['layers']}", "layers")
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, Layer) or type(layer) in (Layer, Pool, Recurrent):
                raise SpecError(f"layer {index + 1}: must be a layer, got {describe(layer)}",
                                f"layers.{index}")
            layer.check(layer_place(index, layer))
        _expect(self.output, Output, "output")
        if self.output.activation is None or self.output.loss is None:
            object.__setattr__(self, "output", _complete_output(self.output, self.task))
        self.output.check()
        _expect(self.training, Training, "training")
        self.training.check()
        check_weights(self, plan_layers(self))

    # --- conversions ---

    def to_dict(self, *, weights: bool = True) -> dict:
        task = {f.name: getattr(self.task, f.name) for f in fields(Task)}
        task["features"] = list(self.task.features)
        task["options"] = {name: list(v) if isinstance(v, tuple) else v
                           for name, v in self.task.options.items()}
        training = dataclasses.asdict(self.training)
        if training["seed"] is None:  # the task's seed: links and files written before it stay the same
            del training["seed"]
        out = {"version": self.version, "task": task,
               "layers": [layer.to_dict() for layer in self.layers],
               "output": dataclasses.asdict(self.output), "training": training}
        if weights and self.weights is not None:
            out["weights"] = list(self.weights)
        return out

    def to_json(self, *, indent: int | None = None, weights: bool = True) -> str:
        return json.dumps(self.to_dict(weights=weights), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, raw) -> "Spec":
        return parse_spec(raw)

    @classmethod
    def from_json(cls, text: str) -> "Spec":
        if not isinstance(text, (str, bytes, bytearray)):
            raise SpecError(f"a spec must be JSON text, got {describe(text)}")
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
            where = (f" at line {error.lineno}, column {error.colno}"
                     if hasattr(error, "lineno") else "")
            reason = getattr(error, "msg", "too deeply nested")
            raise SpecError(f"the spec is not valid JSON{where}: {reason}") from None
        return parse_spec(raw)

    def replace(self, **changes) -> "Spec":
        """A copy with some parts changed, validated again."""
        return dataclasses.replace(self, **changes)

    @property
    def run_seed(self) -> int:
        """The seed of the run's first weights, batch order and dropout."""
        return self.task.seed if self.training.seed is None else self.training.seed

    def with_weights(self, weights) -> "Spec":
        return dataclasses.replace(self, weights=None if weights is None else tuple(weights))


def layer_place(index: int, layer) -> Place:
    return Place(f"layer {index + 1} ({layer.type})", f"layers.{index}")


def _expect(value, cls, path: str) -> None:
    if not isinstance(value, cls):
        raise SpecError(f"{path} must be an object, got {describe(value)}", path)


# --- from plain JSON values --------------------------------------------------------

def parse_spec(raw) -> Spec:
    """Build a validated ``Spec`` from JSON-like values (dicts, lists, numbers)."""
    if not isinstance(raw, dict):
        raise SpecError(f"a spec must be a JSON object, got {describe(raw)}")
    _no_unknown(raw, ("version", "task", "layers", "output", "training", "weights"), Place("spec", ""))
    version = raw.get("version", SPEC_VERSION)
    if isinstance(version, int) and not isinstance(version, bool) and version > SPEC_VERSION:
        raise SpecError(f"version: this spec is version {version}, newer than this playground "
                        f"understands ({SPEC_VERSION}); update the playground", "version")
    task = _build(Task, raw.get("task", {}), Place("task", "task"))
    layers_raw = raw.get("layers", [])
    if not isinstance(layers_raw, list):
        raise SpecError(f"layers must be a list, got {describe(layers_raw)}", "layers")
    if len(layers_raw) > LIMITS["layers"]:
        raise SpecError(f"layers: {len(layers_raw)} layers is more than the limit of "
                        f"{LIMITS['layers']}", "layers")
    layers = tuple(_parse_layer(index, item) for index, item in enumerate(layers_raw))
    output = _build(Output, raw.get("output", {}), Place("output", "output"))
    training = _build(Training, raw.get("training", {}), Place("training", "training"))
    weights = raw.get("weights")
    if weights is not None and not isinstance(weights, list):
        raise SpecError(f"weights must be a list with one entry per layer, got {describe(weights)}",
                        "weights")
    return Spec(task=task, layers=layers, output=output, training=training,
                weights=None if weights is None else tuple(weights), version=version)


def _parse_layer(index: int, raw) -> Layer:
    if not isinstance(raw, dict):
        raise SpecError(f"layer {index + 1}: must be an object like {{\"type\": \"dense\", ...}}, "
                        f"got {describe(raw)}", f"layers.{index}")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in LAYER_CLASSES:
        hint = suggest(kind, LAYER_TYPES) if isinstance(kind, str) else ""
        raise SpecError(f"layer {index + 1}: unknown layer type {describe(kind)}{hint}; "
                        f"choose one of {list_words(LAYER_TYPES)}", f"layers.{index}.type")
    cls = LAYER_CLASSES[kind]
    body = {k: v for k, v in raw.items() if k != "type"}
    return _build(cls, body, Place(f"layer {index + 1} ({kind})", f"layers.{index}"))


def _build(cls, raw, place: Place):
    """Instantiate a dataclass from a dict, refusing unknown keys. Whole
    numbers written as 8.0 become 8 where the field is an integer."""
    if not isinstance(raw, dict):
        raise place.error(f"must be an object, got {describe(raw)}")
    names = [f.name for f in fields(cls)]
    _no_unknown(raw, names, place)
    kwargs = {}
    for f in fields(cls):
        if f.name not in raw:
            continue
        value = raw[f.name]
        if "int" in str(f.type) and isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            value = int(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def _no_unknown(raw: dict, known, place: Place) -> None:
    for key in raw:
        if key not in known:
            shown = describe(key) if not isinstance(key, str) else repr(key)
            raise place.error(f"unknown field {shown}{suggest(key, known)}; "
                              f"known fields: {list_words(known)}", str(key))
