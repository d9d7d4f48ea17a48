"""The 2-D point datasets: coordinates in the square ``POINT_DOMAIN`` and their targets.

Each generator takes the task and the data's random generator and returns
``Examples`` with ``points`` (N, 2) float64 and ``targets``: int64 class
indices (class 1 is the classic playground's positive class) or float64
regression values in [-1, 1]. The classic datasets follow the TensorFlow
Playground's recipes; noise is the spec's fraction in [0, 1], of which the
classic slider covered 0 to 0.5.

Noise only moves the point used for the label (circle, xor, checkerboard,
plane, multigauss) or scales random draws made anyway, so moving the noise
slider changes no other random number: the same points, the same split.
"""
from __future__ import annotations

import math

import numpy as np

from ..spec.catalogue import POINT_DOMAIN
from .examples import Examples, balanced_labels, uniform

LOW, HIGH = POINT_DOMAIN


def _in_square(rng: np.random.Generator, centres: np.ndarray, std: np.ndarray,
               tries: int = 64) -> np.ndarray:
    """Gaussian points around ``centres`` (N, 2) with per-point ``std``,
    redrawn where they fall outside the square (clipped if still outside
    after ``tries`` rounds, which needs an absurd spread)."""
    std = np.broadcast_to(np.asarray(std, dtype=np.float64), (len(centres),))[:, None]
    points = centres + std * rng.standard_normal(centres.shape)
    for _ in range(tries):
        outside = np.flatnonzero(((points < LOW) | (points > HIGH)).any(axis=1))
        if outside.size == 0:
            break
        points[outside] = centres[outside] + std[outside] * rng.standard_normal((outside.size, 2))
    return np.clip(points, LOW, HIGH)


def _polar(radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """The classic playground's convention: x = r sin t, y = r cos t."""
    return np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)


def circle(task, rng) -> Examples:
    """A disc (class 1, r < 2.5) inside a ring (class 0, 3.5 < r < 5)."""
    n, radius = task.sample_count, 5.0
    wanted = balanced_labels(n, 2)
    u = rng.random(n)
    r = np.where(wanted == 1, radius * 0.5 * u, radius * (0.7 + 0.3 * u))
    points = _polar(r, 2 * math.pi * rng.random(n))
    shifted = points + uniform(rng, -radius, radius, (n, 2)) * task.noise
    labels = (np.hypot(shifted[:, 0], shifted[:, 1]) < radius * 0.5).astype(np.int64)
    return Examples(targets=labels, points=points)


def xor(task, rng) -> Examples:
    """The four quadrants; class 1 where x1 and x2 have the same sign."""
    n = task.sample_count
    points = uniform(rng, -5.0, 5.0, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)  # keep clear of the axes
    shifted = points + uniform(rng, -5.0, 5.0, (n, 2)) * task.noise
    labels = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return Examples(targets=labels, points=points)


def gauss(task, rng) -> Examples:
    """Two clouds, class 1 at (2, 2) and class 0 at (-2, -2); the variance
    grows linearly from 0.5 (noise 0) through 4 (noise 0.5)."""
    n = task.sample_count
    labels = balanced_labels(n, 2)
    centres = np.where(labels[:, None] == 1, 2.0, -2.0) * np.ones((n, 2))
    variance = 0.5 + 7.0 * task.noise
    return Examples(targets=labels, points=_in_square(rng, centres, math.sqrt(variance)))


def spiral(task, rng) -> Examples:
    """Two interleaved spirals of 1.75 turns; class 1 starts at angle 0,
    class 0 half a turn later."""
    n = task.sample_count
    labels = balanced_labels(n, 2)
    points = np.empty((n, 2))
    for label, delta in ((1, 0.0), (0, math.pi)):
        index = np.flatnonzero(labels == label)
        m = index.size
        i = np.arange(m)
        r = 5.0 * i / m
        t = 1.75 * 2 * math.pi * i / m + delta
        points[index] = _polar(r, t) + uniform(rng, -1.0, 1.0, (m, 2)) * task.noise
    return Examples(targets=labels, points=points)


def moons(task, rng) -> Examples:
    """Two interlocking half circles of radius 3.5: class 1 arches up,
    class 0 hangs below; noise adds Gaussian jitter of up to half a radius."""
    n, scale = task.sample_count, 3.5
    labels = balanced_labels(n, 2)
    t = math.pi * rng.random(n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    curve = np.where(labels[:, None] == 1, upper, lower)
    centres = (curve - [0.5, 0.25]) * scale  # centred on the origin
    return Examples(targets=labels, points=_in_square(rng, centres, 0.5 * scale * task.noise))


def checkerboard(task, rng) -> Examples:
    """A 4×4 board of 3×3 cells over the square, alternating classes; noise
    shifts the point used for the label by up to a cell."""
    n, cell = task.sample_count, (HIGH - LOW) / 4
    points = uniform(rng, LOW, HIGH, (n, 2))
    shifted = points + uniform(rng, -cell, cell, (n, 2)) * task.noise
    index = np.floor((shifted - LOW) / cell)
    labels = ((index[:, 0] + index[:, 1]) % 2).astype(np.int64)
    return Examples(targets=labels, points=points)


def blobs(task, rng) -> Examples:
    """One Gaussian cloud per class, the centres evenly spaced on a circle of
    radius 3.5 (class 0 at the top); the spread grows with noise."""
    n, k = task.sample_count, task.option("classes")
    labels = balanced_labels(n, k)
    angle = math.pi / 2 + 2 * math.pi * labels / k
    centres = 3.5 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return Examples(targets=labels, points=_in_square(rng, centres, 0.5 + 2.0 * task.noise))


def plane(task, rng) -> Examples:
    """Regression: the target (x1 + x2) / 10 of the noise-shifted point, clipped to [-1, 1]."""
    n = task.sample_count
    points = uniform(rng, LOW, HIGH, (n, 2))
    shifted = points + uniform(rng, LOW, HIGH, (n, 2)) * task.noise
    targets = np.clip(shifted.sum(axis=1) / 10.0, -1.0, 1.0)
    return Examples(targets=targets, points=points)


#: (x1, x2, sign) of the multigauss bumps.
BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                  [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)


def bump_value(points: np.ndarray) -> np.ndarray:
    """The multigauss target: of the six signed bumps (1 at the centre,
    falling linearly to 0 at distance 2), the value largest in magnitude."""
    distance = np.hypot(points[:, None, 0] - BUMPS[:, 0], points[:, None, 1] - BUMPS[:, 1])
    values = BUMPS[:, 2] * np.clip(1.0 - distance / 2.0, 0.0, 1.0)
    strongest = np.abs(values).argmax(axis=1)
    return values[np.arange(len(points)), strongest]


def multigauss(task, rng) -> Examples:
    """Regression: six bumps of alternating sign, read at the noise-shifted point."""
    n = task.sample_count
    points = uniform(rng, LOW, HIGH, (n, 2))
    shifted = points + uniform(rng, LOW, HIGH, (n, 2)) * task.noise
    return Examples(targets=bump_value(shifted), points=points)


GENERATORS = {
    "circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral, "moons": moons,
    "checkerboard": checkerboard, "blobs": blobs, "plane": plane, "multigauss": multigauss,
}
