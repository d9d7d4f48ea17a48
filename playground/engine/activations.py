"""Activation functions: forward and derivative side by side.

``backward(z, a, grad_a)`` turns the gradient with respect to the activation
``a = forward(z)`` into the gradient with respect to ``z``; it gets both ``z``
and ``a`` so that each function can use whichever makes its derivative cheap.
"""
from __future__ import annotations

import sys

import numpy as np

#: In the browser (Pyodide, WebAssembly) np.tanh and logaddexp are 3–4×
#: slower than np.exp on large arrays; there, big arrays (a 100×100 grid
#: through a layer) take formulas built on exp. Small batches keep one call.
IN_BROWSER = sys.platform == "emscripten"
LARGE = 4096


def sigmoid(z):
    # exp(-logaddexp(0, -z)) = 1 / (1 + exp(-z)) without overflow for large |z|
    return np.exp(-np.logaddexp(0.0, -z))


def _tanh_from_exp(z):
    """tanh(z) = 2/(1 + exp(−2z)) − 1, exact to the dtype's precision in
    absolute terms. Where exp overflows (z < −44 in float32) the result is
    2/inf − 1 = −1, the right limit, so the overflow is silenced."""
    with np.errstate(over="ignore"):
        t = np.multiply(z, -2.0)
        np.exp(t, out=t)
        t += 1.0
        np.divide(2.0, t, out=t)
        t -= 1.0
    return t


class Activation:
    name = ""

    def forward(self, z):
        raise NotImplementedError

    def backward(self, z, a, grad_a):
        raise NotImplementedError


class Linear(Activation):
    name = "linear"

    def forward(self, z):
        return z

    def backward(self, z, a, grad_a):
        return grad_a


class ReLU(Activation):
    name = "relu"

    def forward(self, z):
        return np.maximum(z, 0.0)

    def backward(self, z, a, grad_a):
        return grad_a * (z > 0)


class LeakyReLU(Activation):
    name = "leaky_relu"
    slope = 0.01  # as torch's default

    def forward(self, z):
        return np.where(z > 0, z, self.slope * z)

    def backward(self, z, a, grad_a):
        return grad_a * np.where(z > 0, 1.0, self.slope)


class Tanh(Activation):
    name = "tanh"

    def forward(self, z):
        if IN_BROWSER and z.size >= LARGE:
            return _tanh_from_exp(z)
        return np.tanh(z)

    def backward(self, z, a, grad_a):
        return grad_a * (1.0 - a * a)


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, z):
        return sigmoid(z)

    def backward(self, z, a, grad_a):
        return grad_a * a * (1.0 - a)


class Softplus(Activation):
    name = "softplus"

    def forward(self, z):
        return np.logaddexp(0.0, z)

    def backward(self, z, a, grad_a):
        return grad_a * sigmoid(z)


class Swish(Activation):
    """z·sigmoid(z), also called SiLU."""

    name = "swish"

    def forward(self, z):
        return z * sigmoid(z)

    def backward(self, z, a, grad_a):
        s = sigmoid(z)
        return grad_a * (s + a * (1.0 - s))


class Softmax(Activation):
    """Over the last axis; used by the output layer only."""

    name = "softmax"

    def forward(self, z):
        shifted = z - z.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, z, a, grad_a):
        return a * (grad_a - (grad_a * a).sum(axis=-1, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {cls.name: cls() for cls in (
    Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Softplus, Swish, Softmax)}


def get_activation(name: str) -> Activation:
    return ACTIVATIONS[name]
