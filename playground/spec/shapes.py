"""Shapes through the whole stack, parameter shapes, and the size limits.

Shapes are per example (no batch axis): a vector is ``(features,)``, a
sequence ``(steps, features)``, an image ``(channels, height, width)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .catalogue import LIMITS, TEXT_ALPHABET
from .errors import Place, SpecError, describe
from .schema import (AvgPool, Conv2D, Dense, Dropout, Flatten, GRU, LSTM, MaxPool, Recurrent,
                     SimpleRNN, Spec, Task, layer_place)

# --- what the task feeds in and expects out ------------------------------------

_INPUT_SHAPES = {
    "digits": lambda task: (1, 8, 8),
    "digits28": lambda task: (1, 28, 28),
    "shapes": lambda task: (1, task.option("size"), task.option("size")),
    "sine": lambda task: (task.option("length"), 1),
    "parity": lambda task: (task.option("length"), 1),
    "echo": lambda task: (task.option("delay") + 1, task.option("symbols")),
    "brackets": lambda task: (task.option("length"), 2),
    "text": lambda task: (task.option("length"), len(TEXT_ALPHABET)),
    "corpus": lambda task: (task.option("length"), len(TEXT_ALPHABET)),
}

_CLASSES = {
    "blobs": lambda task: task.option("classes"),
    "digits": lambda task: 10,
    "digits28": lambda task: 10,
    "shapes": lambda task: len(task.option("kinds")),
    "echo": lambda task: task.option("symbols"),
    "text": lambda task: len(TEXT_ALPHABET),
    "corpus": lambda task: len(TEXT_ALPHABET),
}


def task_input_shape(task: Task) -> tuple:
    if task.info.kind == "points":
        return (len(task.input_features),)
    return _INPUT_SHAPES[task.dataset](task)


def task_classes(task: Task) -> int:
    """Number of classes, 0 for a regression task."""
    if task.info.problem == "regression":
        return 0
    return _CLASSES.get(task.dataset, lambda task: 2)(task)


def output_units(task: Task, activation: str) -> int:
    """Two classes need one output unit, except with softmax (one per class)."""
    classes = task_classes(task)
    if classes > 2 or (classes == 2 and activation == "softmax"):
        return classes
    return 1


def describe_shape(shape: tuple) -> str:
    if len(shape) == 1:
        return f"a vector of {shape[0]} values"
    if len(shape) == 2:
        return f"a sequence of {shape[0]} steps × {shape[1]} features"
    channels = "channel" if shape[0] == 1 else "channels"
    return f"an image of {shape[0]} {channels} × {shape[1]}×{shape[2]} pixels"


# --- the plan: every layer with its shapes and parameters --------------------

@dataclass(frozen=True)
class LayerPlan:
    """One layer as the engine builds it (the output layer included)."""

    index: int  # position in spec.layers; len(spec.layers) for the output layer
    label: str  # "layer 3 (conv2d)" or "output layer"
    layer: object  # the layer spec (a Dense for the output layer)
    input_shape: tuple
    output_shape: tuple
    params: dict  # parameter name -> shape, in storage order
    return_sequences: bool = False  # resolved, for recurrent layers

    @property
    def parameter_count(self) -> int:
        return sum(math.prod(shape) for shape in self.params.values())

    @property
    def is_output(self) -> bool:
        return self.label == "output layer"


def plan_layers(spec: Spec) -> tuple[LayerPlan, ...]:
    """Infer every layer's shapes; raise ``SpecError`` naming the first layer
    that cannot take its input, or the limit that the model exceeds."""
    task = spec.task
    shape = task_input_shape(task)
    plans = []
    layers = spec.layers
    for index, layer in enumerate(layers):
        place = layer_place(index, layer)
        return_sequences = False
        if isinstance(layer, Recurrent):
            return_sequences = _resolve_return_sequences(spec, index)
        out_shape, params = _infer(layer, shape, place, plans, return_sequences)
        plans.append(LayerPlan(index, place.label, layer, shape, out_shape, params, return_sequences))
        shape = out_shape
    plans.append(_output_plan(spec, shape, plans))
    _check_limits(spec, plans)
    return tuple(plans)


def _resolve_return_sequences(spec: Spec, index: int) -> bool:
    layer = spec.layers[index]
    if layer.return_sequences is not None:
        return layer.return_sequences
    later_recurrent = any(isinstance(other, Recurrent) for other in spec.layers[index + 1:])
    return later_recurrent or spec.task.info.per_step


def _infer(layer, shape, place: Place, plans, return_sequences):
    if isinstance(layer, Dense):
        if len(shape) == 3:
            raise place.error(f"needs a vector or a sequence, got {describe_shape(shape)}; "
                              "add a flatten layer before it")
        return shape[:-1] + (layer.units,), {"W": (shape[-1], layer.units), "b": (layer.units,)}
    if isinstance(layer, Conv2D):
        channels, height, width = _need_image(shape, place)
        kernel, stride = layer.kernel, layer.stride
        if kernel > height or kernel > width:
            raise place.error(f"kernel {kernel} is larger than its {height}×{width} input", "kernel")
        if layer.padding == "same":
            out_h, out_w = -(-height // stride), -(-width // stride)
        else:
            out_h, out_w = (height - kernel) // stride + 1, (width - kernel) // stride + 1
        return ((layer.filters, out_h, out_w),
                {"W": (layer.filters, channels, kernel, kernel), "b": (layer.filters,)})
    if isinstance(layer, (MaxPool, AvgPool)):
        channels, height, width = _need_image(shape, place)
        if layer.size > height or layer.size > width:
            raise place.error(f"window {layer.size} is larger than its {height}×{width} input", "size")
        step = layer.step
        return (channels, (height - layer.size) // step + 1, (width - layer.size) // step + 1), {}
    if isinstance(layer, Flatten):
        if len(shape) == 1:
            raise place.error(f"its input is already flat ({describe_shape(shape)}); remove this layer")
        return (math.prod(shape),), {}
    if isinstance(layer, Dropout):
        return shape, {}
    if isinstance(layer, Recurrent):
        if len(shape) != 2:
            hint = ""
            previous = [p for p in plans if isinstance(p.layer, Recurrent)]
            if previous and not previous[-1].return_sequences:
                hint = f"; set return_sequences true on {previous[-1].label}"
            raise place.error(f"needs a sequence (steps × features), got {describe_shape(shape)}{hint}")
        steps, features = shape
        units = layer.units
        gates = {SimpleRNN: 1, GRU: 3, LSTM: 4}[type(layer)]
        params = {"W_x": (features, gates * units), "W_h": (units, gates * units)}
        if isinstance(layer, GRU):  # separate input and hidden biases, as torch's GRU
            params.update(b_x=(gates * units,), b_h=(gates * units,))
        else:
            params["b"] = (gates * units,)
        return ((steps, units) if return_sequences else (units,)), params
    raise place.error(f"is not a layer the engine knows ({describe(layer)})")


def _need_image(shape, place: Place):
    if len(shape) != 3:
        raise place.error(f"needs an image (channels × height × width), got {describe_shape(shape)}")
    return shape


def _output_plan(spec: Spec, shape, plans) -> LayerPlan:
    task, output = spec.task, spec.output
    place = Place("output layer", "output")
    info = task.info
    if len(shape) == 3:
        raise place.error(f"needs a vector or a sequence, got {describe_shape(shape)}; "
                          "add a flatten layer before it")
    recurrent = [p for p in plans if isinstance(p.layer, Recurrent)]
    if info.per_step and len(shape) != 2:
        hint = f"; set return_sequences true on {recurrent[-1].label}" if recurrent else ""
        raise place.error(f"task {task.dataset!r} predicts at every step, but the layers end with "
                          f"{describe_shape(shape)}{hint}")
    if info.kind == "sequence" and not info.per_step and len(shape) == 2:
        hint = (f"set return_sequences false on {recurrent[-1].label} or add a flatten layer"
                if recurrent else "add a recurrent or a flatten layer")
        raise place.error(f"task {task.dataset!r} predicts one label per sequence, but the layers end "
                          f"with {describe_shape(shape)}; {hint}")
    _check_output_for_task(task, output)
    units = output_units(task, output.activation)
    layer = Dense(units, output.activation)
    out_shape = shape[:-1] + (units,)
    return LayerPlan(len(spec.layers), place.label, layer, shape, out_shape,
                     {"W": (shape[-1], units), "b": (units,)})


def _check_output_for_task(task: Task, output) -> None:
    place = Place("output", "output")
    classes = task_classes(task)
    if classes == 0:
        if output.loss != "squared_error":
            raise place.error(f"loss {output.loss} needs a classification task; {task.dataset!r} is a "
                              "regression task: use squared_error", "loss")
    elif classes > 2 and output.activation != "softmax":
        raise place.error(f"{task.dataset!r} has {classes} classes: use a softmax output "
                          "with the cross_entropy loss", "activation")


def _check_limits(spec: Spec, plans) -> None:
    task = spec.task
    values = task.sample_count * math.prod(plans[0].input_shape)
    limit = LIMITS["input_values"]
    if values > limit:
        raise SpecError(f"task: {task.sample_count:,} samples × {math.prod(plans[0].input_shape):,} input values "
                        f"is more than the limit of {limit:,}; use fewer samples"
                        f"{' or shorter sequences' if task.info.kind == 'sequence' else ''}", "task.samples")
    total = sum(plan.parameter_count for plan in plans)
    limit = LIMITS["parameters"]
    if total > limit:
        largest = max(plans, key=lambda plan: plan.parameter_count)
        raise SpecError(f"model: {total:,} parameters is more than the limit of {limit:,}; "
                        f"{largest.label} alone has {largest.parameter_count:,}: use fewer units or "
                        "filters, a smaller kernel, or pool before the dense layers", "layers")
    per_example = sum(math.prod(plan.output_shape) for plan in plans)
    limit = LIMITS["activations_per_example"]
    if per_example > limit:
        raise SpecError(f"model: {per_example:,} activations per example is more than the limit of "
                        f"{limit:,}; use fewer filters or units, or pool earlier", "layers")
    per_batch = per_example * spec.training.batch_size
    limit = LIMITS["activations_per_batch"]
    if per_batch > limit:
        raise SpecError(f"training: batch_size {spec.training.batch_size:,} × {per_example:,} "
                        f"activations per example is more than the limit of {limit:,}; "
                        "use a smaller batch", "training.batch_size")


# --- weights ---------------------------------------------------------------------

def check_weights(spec: Spec, plans) -> None:
    """Weights, when the spec has them, must match the plan exactly."""
    weights = spec.weights
    if weights is None:
        return
    if len(weights) != len(plans):
        raise SpecError(f"weights: expected {len(plans)} entries (one per layer and one for the "
                        f"output layer), got {len(weights)}", "weights")
    for plan, entry in zip(plans, weights):
        place = Place(f"weights for {plan.label}", f"weights.{plan.index}")
        if not plan.params:
            if entry not in (None, {}):
                raise place.error(f"this layer has no parameters, so its entry must be null, "
                                  f"got {describe(entry)}")
            continue
        if not isinstance(entry, dict):
            raise place.error(f"must be an object with {', '.join(plan.params)}, got {describe(entry)}")
        for name in entry:
            if name not in plan.params:
                raise place.error(f"unknown parameter {describe(name)}; this layer has "
                                  f"{', '.join(plan.params)}", str(name))
        for name, shape in plan.params.items():
            if name not in entry:
                raise place.error(f"{name} is missing", name)
            _check_array(entry[name], shape, place, name)


def _check_array(value, shape, place: Place, name: str) -> None:
    """Walk a nested list level by level (no recursion, so depth is harmless)."""
    shown = "×".join(map(str, shape))
    level = [value]
    for depth, size in enumerate(shape):
        below = []
        for item in level:
            if not isinstance(item, (list, tuple)):
                raise place.error(f"{name} must be a {shown} nested list of numbers; found "
                                  f"{describe(item)} at depth {depth + 1}", name)
            if len(item) != size:
                raise place.error(f"{name} must be a {shown} nested list of numbers; found a list of "
                                  f"{len(item)} where {size} were expected", name)
            below.extend(item)
        level = below
    for number in level:
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise place.error(f"{name} holds {describe(number)}, which is not a finite number", name)
