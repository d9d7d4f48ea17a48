"""What every generator returns, and the small random helpers they share.

Randomness comes only from ``np.random.Generator`` methods whose streams
numpy keeps stable across versions (``random``, ``standard_normal``,
``integers``, ``permutation``, ``choice``), so a task gives the same arrays
here and in the browser (Pyodide's numpy).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Examples(NamedTuple):
    """All examples of a dataset, in generation order (``make_dataset`` shuffles).

    ``inputs`` holds the network inputs as float64, or integer tokens
    ``(N, T)`` when ``one_hot`` is the alphabet size (encoded after the
    split, directly in the requested dtype); point datasets give ``points``
    instead and the inputs are computed from the task's features.
    """

    targets: np.ndarray
    inputs: np.ndarray | None = None
    points: np.ndarray | None = None
    one_hot: int = 0


def uniform(rng: np.random.Generator, low, high, size) -> np.ndarray:
    """Uniform floats in [low, high)."""
    return low + (high - low) * rng.random(size)


def randint(rng: np.random.Generator, low, high) -> np.ndarray:
    """Uniform integers in [low, high], inclusive, element-wise over arrays
    ``low`` and ``high`` of one shape (drawn from ``rng.random``)."""
    low, high = np.broadcast_arrays(np.asarray(low, dtype=np.int64), np.asarray(high, dtype=np.int64))
    if np.any(high < low):
        raise ValueError("randint: empty range")
    span = high - low + 1
    return low + np.minimum((rng.random(low.shape) * span).astype(np.int64), span - 1)


def balanced_labels(n: int, classes: int) -> np.ndarray:
    """``n`` int64 labels, class sizes differing by at most one, in blocks
    (class 0 first); the caller's order does not matter as the data is shuffled."""
    counts = [n // classes + (c < n % classes) for c in range(classes)]
    return np.repeat(np.arange(classes, dtype=np.int64), counts)
