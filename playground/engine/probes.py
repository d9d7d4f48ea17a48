"""Probes: what the views show, each computed in as few batched passes as possible.

Probes that run a backward pass put the training gradients back afterwards,
so calling one between training steps changes nothing but the layers'
recorded inputs and outputs.
"""
from __future__ import annotations

import numpy as np

from .layers import Dense, Dropout
from .recurrent import Recurrent


def layer_outputs(model, x) -> list[np.ndarray]:
    """Every layer's output for a batch, in one forward pass (no dropout)."""
    model.forward(x, training=False)
    return [layer.output for layer in model.layers]


def neuron_grid(model, grid_inputs) -> list[np.ndarray]:
    """Every neuron's output over a 2-D grid in one batched pass.

    ``grid_inputs`` is (M, features) — the grid points already turned into
    the model's input features. Returns, for every layer, an array
    (units, M); reshape each row to the grid to draw it."""
    if all(isinstance(layer, (Dense, Dropout)) for layer in model.layers):
        return _dense_grid(model, grid_inputs)
    return [np.moveaxis(output, -1, 0) for output in layer_outputs(model, grid_inputs)]


def _dense_grid(model, grid_inputs) -> list[np.ndarray]:
    """The same for a stack of dense layers, with the points as columns:
    each layer's (units, M) comes out directly, and numpy's loops run along
    the long axis — in the browser 2–6× faster than thousands of short rows."""
    h = np.ascontiguousarray(np.asarray(grid_inputs, dtype=model.dtype).T)
    out = []
    for layer in model.layers:
        if isinstance(layer, Dense):  # dropout passes values through when not training
            z = layer.params["W"].T @ h
            z += layer.params["b"][:, None]
            if layer.activation.name == "softmax":  # over the units, now the first axis
                h = layer.activation.forward(z.T).T
            else:
                h = layer.activation.forward(z)
        out.append(h)
    return out


def activations_for(model, example) -> list[dict]:
    """Everything each layer computes for one example (no batch axis):
    pre-activation (None where a layer has none) and activation, and for
    recurrent layers the hidden state and gate values at every step."""
    model.forward(np.asarray(example)[None], training=False)
    out = []
    for layer in model.layers:
        entry = {
            "label": layer.plan.label,
            "pre_activation": None if layer.pre_activation is None else layer.pre_activation[0],
            "activation": layer.output[0],
        }
        if isinstance(layer, Recurrent):
            entry["states"] = layer.states[0]
            entry["gates"] = {name: value[0] for name, value in layer.gates.items()}
        out.append(entry)
    return out


class KeepGradients:
    """Put the model's training gradients back after a probe's backward pass."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.saved = self.model.grads.copy()

    def __exit__(self, *exc):
        self.model.grads[...] = self.saved


def saliency(model, x, class_index=None) -> np.ndarray:
    """d(score)/d(input) for a batch: how much each input value moves the
    score of ``class_index`` (the predicted class when None; the single
    output for one-unit models). The score is the output layer's
    pre-activation (the logit), so saturation of the output does not hide it."""
    with KeepGradients(model):
        a = model.forward(x, training=False)
        z = model.output_layer.pre_activation
        seed = np.zeros_like(z)
        if z.shape[-1] == 1:
            seed[..., 0] = 1.0
        else:
            chosen = a.argmax(axis=-1) if class_index is None else np.full(a.shape[:-1], class_index)
            np.put_along_axis(seed, chosen[..., None], 1.0, axis=-1)
        return model.backward(seed, need_input_grad=True)


def gradient_by_distance(model, x, labels) -> dict[int, np.ndarray]:
    """For every recurrent layer, how much of its weight gradient comes from
    each number of steps back (the RNNbow view).

    Entry k of the returned array is the norm of the part of the layer's
    gradient (all its weights and biases) that the loss at step s sends to
    step s − k, summed over s. Keys are layer positions in ``model.layers``."""
    parts = gradient_parts_by_distance(model, x, labels)
    return {position: np.sqrt(np.sum(part * part, axis=1)) for position, part in parts.items()}


def gradient_parts_by_distance(model, x, labels) -> dict[int, np.ndarray]:
    """The parts behind ``gradient_by_distance``: for each recurrent layer an
    array (steps, parameters) whose row k is the gradient part from k steps
    back, flattened in the layer's parameter order; the rows add up to the
    layer's whole gradient.

    Each output step's loss is traced separately: the batch runs once per
    output step (as copies in one batch), with the other steps' losses
    masked out of each copy."""
    x = np.asarray(x, dtype=model.dtype)
    n, steps = x.shape[:2]
    per_step = model.spec.task.info.per_step
    sources = np.arange(steps) if per_step else np.array([steps - 1])
    copies = len(sources)
    targets = model.head.targets(np.asarray(labels), model.dtype)
    with KeepGradients(model):
        a = model.forward(np.concatenate([x] * copies), training=False)
        z = model.output_layer.pre_activation
        # The head averages over all copies; scale back to one batch's mean.
        grad = model.head.grad(z, a, np.concatenate([targets] * copies)) * copies
        if per_step:  # keep, in copy s, only the loss at step s
            mask = np.zeros((copies, 1, steps, 1), dtype=grad.dtype)
            mask[np.arange(copies), 0, sources, 0] = 1.0
            grad = (grad.reshape((copies, n) + grad.shape[1:]) * mask).reshape(grad.shape)
        model.backward(grad)
        return {position: _split_by_distance(layer, sources, n)
                for position, layer in enumerate(model.layers) if isinstance(layer, Recurrent)}


def _split_by_distance(layer, sources, n) -> np.ndarray:
    copies = len(sources)
    steps = layer.states.shape[1]
    grad_x = layer.step_grad_x.reshape((copies, n) + layer.step_grad_x.shape[1:])
    grad_h = layer.step_grad_h.reshape((copies, n) + layer.step_grad_h.shape[1:])
    inputs = layer.input[:n]  # every copy saw the same forward pass
    previous = layer.previous_states()[:n]
    size = sum(value.size for value in layer.params.values())
    parts = np.zeros((steps, size), dtype=grad_x.dtype)
    for k in range(steps):
        copy_index = np.nonzero(sources >= k)[0]
        if len(copy_index) == 0:
            continue
        step_index = sources[copy_index] - k
        gx = grad_x[copy_index, :, step_index]  # (pairs, n, gates·units)
        gh = grad_h[copy_index, :, step_index]
        pieces = {
            "W_x": np.einsum("nmf,mng->fg", inputs[:, step_index], gx),
            "W_h": np.einsum("nmh,mng->hg", previous[:, step_index], gh),
            "b": gx.sum(axis=(0, 1)), "b_x": gx.sum(axis=(0, 1)), "b_h": gh.sum(axis=(0, 1)),
        }
        parts[k] = np.concatenate([pieces[name].ravel() for name in layer.params])
    return parts
