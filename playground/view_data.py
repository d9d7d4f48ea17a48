"""What the "see inside" views show, computed for a frame: gradient flow,
unit activity (the activation matrix, dead and saturated units), a PCA of a
hidden layer, CNN filters and feature maps, RNN states, gates and gradient
contributions through time, the loss landscape, the confusion matrix.

numpy only (it runs in the browser worker); each function returns header
fields and named arrays for ``playground.frames``. Probes that run a
backward pass leave the model's training gradients as they were.
"""
from __future__ import annotations

import numpy as np

from playground.engine.layers import AvgPool, Conv2D, Dense, MaxPool
from playground.engine.probes import KeepGradients, gradient_by_distance, saliency
from playground.engine.recurrent import GRU, LSTM, Recurrent, SimpleRNN

#: A layer's gradient below this share of the largest layer's is vanishing.
VANISHING = 1e-2
#: A layer's gradient norm above this is exploding.
EXPLODING = 1e3
#: Saturated: |tanh| above this (or a sigmoid this close to 0 or 1, rescaled)…
SATURATION = 0.97
#: …for at least this share of the inputs.
SATURATED_SHARE = 0.95

UNIT_NORMAL, UNIT_DEAD, UNIT_ALWAYS_ON, UNIT_SATURATED = 0, 1, 2, 3


def _f32(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float32)


# --- gradient flow --------------------------------------------------------------------

def gradient_flow(model, x, targets) -> tuple[dict, dict]:
    """Gradients over a whole set (not one noisy batch): every layer's norm,
    every parameter's gradient and every unit's mean |dL/dz|, with flags."""
    with KeepGradients(model):
        model.loss_and_gradients(x, targets, training=False, with_loss=False)
        norms = model.gradient_norms()
        arrays = {}
        for position, layer in enumerate(model.layers):
            for name, grad in layer.grads.items():
                arrays[f"grad/{position}/{name}"] = _f32(grad)
            dz = layer.grad_pre_activation if isinstance(layer, (Dense, Conv2D)) else None
            if dz is not None:
                axes = tuple(i for i in range(dz.ndim) if i != (1 if isinstance(layer, Conv2D) else dz.ndim - 1))
                arrays[f"unitgrad/{position}"] = _f32(np.abs(dz).mean(axis=axes))
    return {"gradient_flow": [None if not np.isfinite(n) else float(n) for n in norms],
            "gradient_flags": gradient_flags(norms)}, arrays


def gradient_flags(norms) -> list:
    """Per layer: "vanishing", "exploding", "ok", or None (no parameters)."""
    norms = np.asarray(norms, dtype=float)
    known = norms[np.isfinite(norms)]
    largest = float(known.max()) if known.size else 0.0
    flags = []
    for norm in norms:
        if np.isnan(norm):
            flags.append(None)
        elif not np.isfinite(norm) or norm > EXPLODING:
            flags.append("exploding")
        elif largest > 0 and norm < VANISHING * largest:
            flags.append("vanishing")
        else:
            flags.append("ok")
    return flags


# --- unit activity ----------------------------------------------------------------------

def unit_layers(model) -> list[int]:
    """Positions of the hidden layers whose units have an activity to show."""
    return [position for position, layer in enumerate(model.layers[:-1])
            if isinstance(layer, (Dense, Conv2D, Recurrent))]


def _unit_values(layer):
    """(examples, units) activations and pre-activations of a layer's units;
    a filter or a recurrent unit is one unit, averaged over space or time."""
    if isinstance(layer, Conv2D):
        return layer.output.mean(axis=(2, 3)), layer.pre_activation
    if isinstance(layer, Recurrent):
        states = layer.states
        pre = layer.pre_activation if isinstance(layer, SimpleRNN) else None
        return states.mean(axis=1), pre
    output, pre = layer.output, layer.pre_activation
    if output.ndim == 3:  # a dense layer applied at every step
        return output.mean(axis=1), pre
    return output, pre


def _activation_name(layer) -> str:
    if isinstance(layer, (GRU, LSTM)):
        return "tanh"  # their states are bounded by tanh
    return layer.activation.name


def unit_states(layer) -> np.ndarray:
    """Per unit: normal, dead (a ReLU never active), always on (a ReLU
    active for every input: it acts linearly) or saturated (tanh/sigmoid stuck
    at a limit for nearly every input), from the layer's last forward pass."""
    values, pre = _unit_values(layer)
    units = values.shape[1]
    states = np.full(units, UNIT_NORMAL, dtype=np.uint8)
    name = _activation_name(layer)
    if name in ("relu", "leaky_relu") and pre is not None:
        axes = tuple(i for i in range(pre.ndim) if i != (1 if pre.ndim == 4 else pre.ndim - 1))
        active = (pre > 0).any(axis=axes) if axes else pre > 0
        always = (pre > 0).all(axis=axes) if axes else pre > 0
        states[~active] = UNIT_DEAD
        states[always] = UNIT_ALWAYS_ON
    elif name in ("tanh", "sigmoid"):
        full = layer.states if isinstance(layer, Recurrent) else layer.output
        full = np.moveaxis(full, 1 if full.ndim == 4 else -1, 0).reshape(units, -1)
        scaled = full if name == "tanh" else 2.0 * full - 1.0
        stuck = (np.abs(scaled) > SATURATION).mean(axis=1) >= SATURATED_SHARE
        states[stuck] = UNIT_SATURATED
    return states


def unit_activity(model, x, labels, classes: int, rows: int = 48) -> tuple[dict, dict]:
    """The activation matrix (inputs × units and classes × units, each column
    scaled to its largest magnitude), and every hidden unit's state."""
    model.forward(x, training=False)
    positions = unit_layers(model)
    if not positions:
        return {"matrix_layers": []}, {}
    columns, arrays, layout = [], {}, []
    for position in positions:
        layer = model.layers[position]
        values, _ = _unit_values(layer)
        columns.append(values)
        layout.append([position, values.shape[1]])
        arrays[f"units/{position}"] = unit_states(layer)
    matrix = np.concatenate(columns, axis=1)
    scale = np.abs(matrix).max(axis=0)
    matrix = matrix / np.where(scale > 0, scale, 1.0)
    labels = np.asarray(labels)
    per_example = labels if labels.ndim == 1 else None  # per-step tasks: no single class per row
    if per_example is not None and classes:
        order = np.argsort(per_example, kind="stable")
        pick = order[np.linspace(0, len(order) - 1, min(rows, len(order))).astype(int)]
        arrays["matrix/classes"] = _f32([matrix[per_example == c].mean(axis=0) if np.any(per_example == c)
                                         else np.zeros(matrix.shape[1]) for c in range(classes)])
        arrays["matrix/labels"] = per_example[pick].astype(np.int32)
    else:
        pick = np.linspace(0, len(matrix) - 1, min(rows, len(matrix))).astype(int)
    arrays["matrix/inputs"] = _f32(matrix[pick])
    return {"matrix_layers": layout}, arrays


# --- a hidden layer's PCA -----------------------------------------------------------------

def pca_projection(values, previous=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first two principal components of (examples, units) values:
    coordinates (examples, 2), explained variance shares (2,), components
    (2, units). Each component's sign follows ``previous`` (or makes its
    largest loading positive), so the picture does not flip between frames."""
    values = np.asarray(values, dtype=np.float64)
    centered = values - values.mean(axis=0)
    if centered.shape[1] < 2:
        centered = np.concatenate([centered, np.zeros((len(centered), 2 - centered.shape[1]))], axis=1)
    _, singular, vt = np.linalg.svd(centered, full_matrices=False)
    components = vt[:2].copy()
    for i in range(2):
        reference = previous[i] if previous is not None and previous.shape == components.shape else None
        sign = np.sign(components[i] @ reference) if reference is not None else np.sign(
            components[i][np.argmax(np.abs(components[i]))])
        components[i] *= sign if sign != 0 else 1.0
    variance = singular ** 2
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return centered @ components.T, np.pad(explained, (0, 2 - len(explained))), components


# --- CNN ------------------------------------------------------------------------------------

def cnn_data(model, example) -> tuple[dict, dict]:
    """For one image: every conv and pool layer's feature maps, every conv
    layer's filters, the class probabilities and the saliency map."""
    example = np.asarray(example, dtype=model.dtype)
    probabilities = model.forward(example[None], training=False)[0]
    arrays = {"cnn/input": _f32(example), "cnn/output": _f32(probabilities)}
    for position, layer in enumerate(model.layers):
        if isinstance(layer, (Conv2D, MaxPool, AvgPool)):
            arrays[f"cnn/maps/{position}"] = _f32(layer.output[0])
        if isinstance(layer, Conv2D):
            arrays[f"cnn/filters/{position}"] = _f32(layer.params["W"])
        elif isinstance(layer, Dense) and layer.output.ndim == 2:
            arrays[f"cnn/units/{position}"] = _f32(layer.output[0])
    predicted = int(np.argmax(probabilities)) if probabilities.shape[-1] > 1 else int(probabilities[0] > 0)
    gradient = saliency(model, example[None], class_index=predicted if probabilities.shape[-1] > 1 else None)[0]
    strength = np.abs(gradient).sum(axis=0)
    top = strength.max()
    arrays["cnn/saliency"] = _f32(strength / top if top > 0 else strength)
    return {"cnn_prediction": predicted}, arrays


def top_inputs(model, x, layer_position: int, unit: int, count: int = 8) -> tuple[dict, dict]:
    """The training inputs that excite one filter (or unit) the most: by the
    largest value its feature map takes on each input."""
    model.forward(x, training=False)
    output = model.layers[layer_position].output
    values = output[:, unit]
    strength = values.reshape(len(x), -1).max(axis=1) if values.ndim > 1 else values
    best = np.argsort(-strength, kind="stable")[:count]
    return ({"layer": layer_position, "unit": unit, "indices": best.tolist()},
            {"top/inputs": _f32(x[best]), "top/scores": _f32(strength[best])})


# --- RNN -------------------------------------------------------------------------------------

def rnn_data(model, sequence) -> tuple[dict, dict]:
    """For one sequence: every recurrent layer's states and gates at every
    step, and the prediction after each step (the layers after the last
    recurrent one applied to its state at that step)."""
    sequence = np.asarray(sequence, dtype=model.dtype)
    model.forward(sequence[None], training=False)
    arrays = {"rnn/input": _f32(sequence)}
    last = None
    for position, layer in enumerate(model.layers):
        if isinstance(layer, Recurrent):
            arrays[f"rnn/states/{position}"] = _f32(layer.states[0])
            for name, values in layer.gates.items():
                arrays[f"rnn/gates/{position}/{name}"] = _f32(values[0])
            last = position
    if last is not None and all(isinstance(layer, Dense) or layer.plan.layer.type == "dropout"
                                for layer in model.layers[last + 1:]):
        h = model.layers[last].states[0]  # (steps, units)
        for layer in model.layers[last + 1:]:
            if isinstance(layer, Dense):
                h = layer.activation.forward(h @ layer.params["W"] + layer.params["b"])
        arrays["rnn/predictions"] = _f32(h)
    return {}, arrays


def rnn_gradient_bars(model, x, labels) -> tuple[dict, dict]:
    """How much of each recurrent layer's gradient comes from k steps back."""
    return {}, {f"rnn/bow/{position}": _f32(norms) for position, norms in gradient_by_distance(model, x, labels).items()}


# --- the loss landscape -------------------------------------------------------------------------

def landscape(model, x, targets, path, size: int = 21, rng=None) -> tuple[dict, dict]:
    """The loss on a grid around the current weights, along two directions,
    and the optimiser's path projected onto them.

    With a recorded path the directions are its two main directions of
    movement (PCA), so the path shows; otherwise two random directions,
    scaled layer by layer to the weights' size."""
    current = model.params.astype(np.float64).copy()
    path = np.asarray(path, dtype=np.float64) if path is not None and len(path) else np.zeros((0, current.size))
    moves = path - current
    if len(path) >= 3 and np.linalg.norm(moves) > 0:
        _, _, vt = np.linalg.svd(moves - moves.mean(axis=0), full_matrices=False)
        directions = vt[:2] if len(vt) >= 2 else np.vstack([vt[0], _random_direction(model, rng)])
        how = "path"
    else:
        directions = np.vstack([_random_direction(model, rng), _random_direction(model, rng)])
        how = "random"
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    projected = moves @ directions.T
    extent = float(np.abs(projected).max()) * 1.25 if len(projected) and np.abs(projected).max() > 0 else (
        0.5 * float(np.linalg.norm(current)) or 1.0)
    axis = np.linspace(-extent, extent, size)
    losses = np.empty((size, size))
    try:
        for i, b in enumerate(axis):  # rows: second direction, from the bottom up
            for j, a in enumerate(axis):
                model.params[...] = current + a * directions[0] + b * directions[1]
                out = model.forward(x, training=False)
                losses[i, j] = model.head.loss(model.output_layer.pre_activation, out, targets)
    finally:
        model.params[...] = current
    losses[~np.isfinite(losses)] = np.nan
    return {"landscape_directions": how}, {"landscape/loss": _f32(losses), "landscape/axis": _f32(axis),
                                           "landscape/path": _f32(projected)}


def _random_direction(model, rng) -> np.ndarray:
    rng = rng or np.random.default_rng(0)
    direction = np.zeros(model.params.size)
    for start, stop in model.layer_slices:
        if stop > start:
            piece = rng.standard_normal(stop - start)
            size = np.linalg.norm(model.params[start:stop])
            direction[start:stop] = piece / np.linalg.norm(piece) * (size if size > 0 else 1.0)
    return direction


# --- confusion ------------------------------------------------------------------------------------

def confusion(predicted, labels, classes: int) -> list[list[int]]:
    """counts[true][predicted] over a set (every step for per-step tasks)."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels).ravel(), np.asarray(predicted).ravel()), 1)
    return matrix.tolist()
