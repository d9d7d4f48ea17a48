"""Weight initialisation schemes, drawn from a seeded generator.

- ``uniform``: U(−0.5, 0.5), biases 0.1 — the classic playground's choice;
- ``glorot``: U(±√(6/(fan_in + fan_out))), biases 0;
- ``he``: N(0, 2/fan_in), biases 0;
- ``zeros``: everything 0, so every unit of a layer stays identical (the
  symmetry lesson).

Only ``Generator.random`` and ``standard_normal`` are used: their streams are
the same in CPython's numpy and in the browser's.
"""
from __future__ import annotations

import numpy as np


def is_weight(name: str) -> bool:
    """Weights (W, W_x, W_h) get initialised and regularised; biases do not."""
    return name.startswith("W")


def initial_value(scheme: str, name: str, shape, fans, rng) -> np.ndarray:
    if not is_weight(name):
        return np.full(shape, 0.1 if scheme == "uniform" else 0.0)
    fan_in, fan_out = fans
    if scheme == "uniform":
        return rng.random(shape) - 0.5
    if scheme == "glorot":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return (rng.random(shape) * 2.0 - 1.0) * limit
    if scheme == "he":
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    return np.zeros(shape)


def initialize(layers, scheme: str, rng) -> None:
    """Fill every layer's parameters in place, in layer order."""
    for layer in layers:
        for name, value in layer.params.items():
            value[...] = initial_value(scheme, name, value.shape, layer.fans(name) if is_weight(name) else None, rng)
