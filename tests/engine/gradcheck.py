"""Finite-difference gradient checks for the engine (no pytest, so that
they also run inside Pyodide)."""
from __future__ import annotations

import numpy as np

from playground.engine import Model


def _loss_function(model, x, targets):
    """The training loss as a function of the current parameters, with the
    same dropout mask on every call."""
    rng_state = model.dropout_rng.bit_generator.state

    def loss():
        model.dropout_rng.bit_generator.state = rng_state
        a = model.forward(x, training=True)
        return model.head.loss(model.output_layer.pre_activation, a, targets)

    return loss, rng_state


def _probe_indices(model, per_tensor: int, rng) -> np.ndarray:
    """A few entries of every parameter tensor, so each one is covered."""
    picks = []
    offset = 0
    for layer in model.layers:
        for value in layer.params.values():
            count = min(per_tensor, value.size)
            picks.append(offset + rng.choice(value.size, count, replace=False))
            offset += value.size
    return np.concatenate(picks) if picks else np.zeros(0, dtype=int)


def check_parameter_gradients(spec, x, labels, *, per_tensor: int = 8, eps: float = 1e-6,
                              rtol: float = 1e-5, atol: float = 1e-8) -> int:
    """Compare backprop's gradient with central differences; returns the
    number of entries checked, raises AssertionError on a mismatch."""
    model = Model(spec, dtype=np.float64)
    targets = model.head.targets(labels)
    loss, rng_state = _loss_function(model, x, targets)
    model.dropout_rng.bit_generator.state = rng_state
    model.loss_and_gradients(x, targets, training=True)
    analytic = model.grads.copy()
    indices = _probe_indices(model, per_tensor, np.random.default_rng(1))
    numeric = np.empty(len(indices))
    for j, i in enumerate(indices):
        original = model.params[i]
        model.params[i] = original + eps
        plus = loss()
        model.params[i] = original - eps
        minus = loss()
        model.params[i] = original
        numeric[j] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(analytic[indices], numeric, rtol=rtol, atol=atol,
                               err_msg="parameter gradient differs from finite differences")
    return len(indices)


def check_input_gradient(spec, x, labels, *, count: int = 12, eps: float = 1e-6,
                         rtol: float = 1e-5, atol: float = 1e-8) -> int:
    """The gradient with respect to the input (used by saliency)."""
    model = Model(spec, dtype=np.float64)
    targets = model.head.targets(labels)
    x = np.array(x, dtype=np.float64)
    loss, rng_state = _loss_function(model, x, targets)
    model.dropout_rng.bit_generator.state = rng_state
    a = model.forward(x, training=True)
    z = model.output_layer.pre_activation
    analytic = model.backward(model.head.grad(z, a, targets), need_input_grad=True)
    rng = np.random.default_rng(2)
    flat = x.reshape(-1)
    indices = rng.choice(flat.size, min(count, flat.size), replace=False)
    numeric = np.empty(len(indices))
    for j, i in enumerate(indices):
        original = flat[i]
        flat[i] = original + eps
        plus = loss()
        flat[i] = original - eps
        minus = loss()
        flat[i] = original
        numeric[j] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(analytic.reshape(-1)[indices], numeric, rtol=rtol, atol=atol,
                               err_msg="input gradient differs from finite differences")
    return len(indices)
