"""Edits a learner makes by direct manipulation, as functions Spec -> Spec.

Every edit returns a new, validated spec (or raises ``SpecError``), so the
page, lessons and the classroom all change a model the same way. The
builder's limits (at most 8 hidden layers, 16 units each) are looser in the
spec itself; these functions keep a model the builder can draw.
"""
from __future__ import annotations

import dataclasses

from .catalogue import DATASETS, FEATURES
from .errors import SpecError
from .schema import (GRU, LAYER_CLASSES, Conv2D, Dense, Flatten, MaxPool, Output, Spec, Task, Training,
                     classes_of, layer_place, _build)

MAX_HIDDEN_LAYERS = 8
MAX_UNITS = 16
MAX_FILTERS = 16
MAX_KERNEL = 7

#: The builder's problem types and the datasets each offers, first the default.
PROBLEMS = {
    "classification": ("circle", "xor", "gauss", "spiral", "moons", "checkerboard"),
    "multiclass": ("blobs",),
    "regression": ("plane", "multigauss"),
    "images": ("digits", "shapes", "digits28"),
    "sequences": ("echo", "parity", "sine", "brackets", "text", "corpus"),
}

#: What a new model of each kind of data starts as: layers and training.
STARTERS = {
    "points": ((Dense(4), Dense(2)), Training()),
    "image": ((Conv2D(6, 3), MaxPool(2), Flatten()), Training(optimizer="adam", learning_rate=0.01, batch_size=32)),
    "sequence": ((GRU(16),), Training(optimizer="adam", learning_rate=0.01, batch_size=32)),
}


def problem_of(spec: Spec) -> str:
    for problem, datasets in PROBLEMS.items():
        if spec.task.dataset in datasets:
            return problem
    return "regression" if spec.task.info.problem == "regression" else "classification"


def insert_layer(spec: Spec, index: int, layer: dict) -> Spec:
    """Insert a layer, given as its JSON form ({"type": "conv2d", ...}), before position ``index``."""
    if len(spec.layers) >= MAX_HIDDEN_LAYERS:
        raise SpecError(f"layers: the builder holds at most {MAX_HIDDEN_LAYERS} hidden layers", "layers")
    if not 0 <= index <= len(spec.layers):
        raise SpecError(f"layers: a layer cannot go at position {index + 1}", "layers")
    if not isinstance(layer, dict) or layer.get("type") not in LAYER_CLASSES:
        raise SpecError(f"layers: unknown layer type {layer.get('type') if isinstance(layer, dict) else layer!r}",
                        "layers")
    body = {key: value for key, value in layer.items() if key != "type"}
    new = _build(LAYER_CLASSES[layer["type"]], body, layer_place(index, LAYER_CLASSES[layer["type"]]))
    _check_builder_limits(index, new)
    return spec.replace(layers=spec.layers[:index] + (new,) + spec.layers[index:], weights=None)


def set_layer(spec: Spec, index: int, **fields) -> Spec:
    """Change fields of one layer (units, filters, kernel, activation, type of cell …)."""
    _check_position(spec, index)
    layer = spec.layers[index]
    kind = fields.pop("type", None)
    if kind is not None and kind != layer.type:  # e.g. a recurrent cell becomes another kind of cell
        if kind not in LAYER_CLASSES:
            raise SpecError(f"layer {index + 1}: unknown layer type {kind!r}", f"layers.{index}.type")
        keep = {name: getattr(layer, name) for name in ("units", "return_sequences") if hasattr(layer, name)}
        layer = LAYER_CLASSES[kind](**{name: value for name, value in keep.items()
                                       if name in LAYER_CLASSES[kind].__dataclass_fields__})
    known = layer.__dataclass_fields__
    for name in fields:
        if name not in known:
            raise SpecError(f"layer {index + 1} ({layer.type}): has no field {name!r}", f"layers.{index}.{name}")
    new = dataclasses.replace(layer, **fields)
    _check_builder_limits(index, new)
    layers = list(spec.layers)
    layers[index] = new
    return spec.replace(layers=tuple(layers), weights=None)


def _check_builder_limits(index: int, layer) -> None:
    place = layer_place(index, layer)
    if isinstance(layer, Conv2D):
        if isinstance(layer.filters, int) and not 1 <= layer.filters <= MAX_FILTERS:
            raise place.error(f"the builder holds 1 to {MAX_FILTERS} filters per layer", "filters")
        if isinstance(layer.kernel, int) and not 1 <= layer.kernel <= MAX_KERNEL:
            raise place.error(f"the builder's kernels are 1 to {MAX_KERNEL} pixels wide", "kernel")
    elif hasattr(layer, "units") and isinstance(layer.units, int) and not 1 <= layer.units <= MAX_UNITS * 4:
        raise place.error(f"the builder holds 1 to {MAX_UNITS * 4} units per layer", "units")


def _dense_positions(spec: Spec) -> list[int]:
    return [i for i, layer in enumerate(spec.layers) if isinstance(layer, Dense)]


def _check_position(spec: Spec, index: int) -> None:
    if not 0 <= index < len(spec.layers):
        raise SpecError(f"layers: there is no layer {index + 1}; the model has {len(spec.layers)}", "layers")


def add_layer(spec: Spec) -> Spec:
    """A hidden dense layer before the output, like the last one (4 tanh units for the first)."""
    if len(spec.layers) >= MAX_HIDDEN_LAYERS:
        raise SpecError(f"layers: the builder holds at most {MAX_HIDDEN_LAYERS} hidden layers", "layers")
    dense = [spec.layers[i] for i in _dense_positions(spec)]
    template = dense[-1] if dense else Dense(4, "tanh")
    return spec.replace(layers=spec.layers + (Dense(template.units, template.activation),), weights=None)


def remove_layer(spec: Spec, index: int | None = None) -> Spec:
    """Remove a hidden layer (the last when no index is given)."""
    if not spec.layers:
        raise SpecError("layers: there is no hidden layer to remove", "layers")
    index = len(spec.layers) - 1 if index is None else index
    _check_position(spec, index)
    return spec.replace(layers=spec.layers[:index] + spec.layers[index + 1:], weights=None)


def set_units(spec: Spec, index: int, units: int) -> Spec:
    _check_position(spec, index)
    layer = spec.layers[index]
    if not isinstance(layer, Dense):
        raise SpecError(f"layer {index + 1} ({layer.type}): only dense layers have neurons to add or remove",
                        f"layers.{index}")
    if not 1 <= units <= MAX_UNITS:
        raise SpecError(f"layer {index + 1} (dense): the builder holds 1 to {MAX_UNITS} neurons per layer",
                        f"layers.{index}.units")
    layers = list(spec.layers)
    layers[index] = dataclasses.replace(layer, units=units)
    return spec.replace(layers=tuple(layers), weights=None)


def add_neuron(spec: Spec, index: int) -> Spec:
    _check_position(spec, index)
    return set_units(spec, index, getattr(spec.layers[index], "units", 0) + 1)


def remove_neuron(spec: Spec, index: int) -> Spec:
    _check_position(spec, index)
    return set_units(spec, index, getattr(spec.layers[index], "units", 2) - 1)


def set_activation(spec: Spec, activation: str, index: int | None = None) -> Spec:
    """One layer's activation, or every hidden dense layer's when no index is given."""
    positions = _dense_positions(spec) if index is None else [index]
    layers = list(spec.layers)
    for position in positions:
        _check_position(spec, position)
        layers[position] = dataclasses.replace(layers[position], activation=activation)
    return spec.replace(layers=tuple(layers), weights=None)


def toggle_feature(spec: Spec, feature: str) -> Spec:
    """Switch one engineered input on or off (at least one stays on)."""
    if feature not in FEATURES:
        raise SpecError(f"task: unknown feature {feature!r}", "task.features")
    current = spec.task.features
    if feature in current:
        if len(current) == 1:
            raise SpecError("task: at least one input feature must stay on", "task.features")
        chosen = tuple(name for name in current if name != feature)
    else:
        chosen = tuple(name for name in FEATURES if name in current or name == feature)
    return spec.replace(task=dataclasses.replace(spec.task, features=chosen), weights=None)


def set_task(spec: Spec, **changes) -> Spec:
    """Change the data. When the dataset changes kind of problem (classes or
    regression), the output goes back to that problem's default."""
    if "dataset" in changes and changes["dataset"] != spec.task.dataset:
        new = DATASETS.get(changes["dataset"])
        if new is None:
            raise SpecError(f"task: unknown dataset {changes['dataset']!r}", "task.dataset")
        changes.setdefault("options", {})
        changes.setdefault("samples", None)  # the new dataset's default
        if new.kind != "points":
            changes.setdefault("features", ())
        elif spec.task.info.kind != "points":
            changes.setdefault("features", ("x1", "x2"))
    task = dataclasses.replace(spec.task, **changes)
    output = spec.output
    if _problem_shape(task) != _problem_shape(spec.task):
        output = Output()
    layers, training = spec.layers, spec.training
    if task.info.kind != spec.task.info.kind:  # another kind of data needs another kind of model
        layers, training = STARTERS[task.info.kind]
    return spec.replace(task=task, output=output, layers=layers, training=training, weights=None)


def _problem_shape(task: Task):
    return task.info.problem, classes_of(task)


def set_problem(spec: Spec, problem: str) -> Spec:
    """Switch to a problem type's first dataset; a new kind of data (points,
    images, sequences) starts from that kind's starter model."""
    if problem not in PROBLEMS:
        raise SpecError(f"task: unknown problem type {problem!r}; choose one of {', '.join(PROBLEMS)}",
                        "task.dataset")
    if problem_of(spec) == problem:
        return spec
    return set_task(spec, dataset=PROBLEMS[problem][0])





def set_training(spec: Spec, **changes) -> Spec:
    """Hyper-parameters; the weights are kept (a run goes on)."""
    return spec.replace(training=dataclasses.replace(spec.training, **changes))
