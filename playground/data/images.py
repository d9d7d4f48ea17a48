"""Image datasets: inputs ``(N, 1, H, W)`` float64 in [0, 1].

``task.noise`` adds Gaussian pixel noise of that standard deviation, then
clips to [0, 1]. The noise is drawn whatever its size, so changing it
changes nothing else.
"""
from __future__ import annotations

import functools
import io

import numpy as np

from .examples import Examples, balanced_labels, randint
from .resources import read_bytes


@functools.lru_cache(maxsize=1)
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The bundled UCI digits: ``(1797, 8, 8)`` uint8 pixels 0..16 and
    ``(1797,)`` int64 labels 0..9. Cached; the arrays are read-only."""
    with np.load(io.BytesIO(read_bytes("digits8x8.npz"))) as archive:
        images = np.array(archive["images"], dtype=np.uint8)
        labels = np.array(archive["labels"], dtype=np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def _add_noise(images: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    images += noise * rng.standard_normal(images.shape)
    return np.clip(images, 0.0, 1.0, out=images)


def digits(task, rng) -> Examples:
    """The handwritten digits; fewer than all 1797 gives a seeded subset
    with the classes as balanced as the data allows."""
    images, labels = load_digits()
    n = task.sample_count
    order = rng.permutation(len(labels))
    # Take examples round by round: every class's first example (in the
    # shuffled order), then every class's second, and so on.
    shuffled = labels[order]
    rank = np.empty(len(order), dtype=np.int64)
    for digit in range(10):
        where = np.flatnonzero(shuffled == digit)
        rank[where] = np.arange(where.size)
    chosen = order[np.argsort(rank, kind="stable")[:n]]
    x = images[chosen][:, None].astype(np.float64) / 16.0
    return Examples(targets=labels[chosen].copy(), inputs=_add_noise(x, task.noise, rng))


# --- shapes ---------------------------------------------------------------------
#
# Pixel (row i, column j) has its centre at (x=j, y=i). A shape is a few line
# segments (or a ring) of thickness t (1 or 2 pixels); a pixel is ink where
# its centre lies within t/2 of the shape. Sizes and positions are drawn so
# that the ink stays inside the image. Horizontal and vertical strokes sit
# on pixel centres (t=1) or between two rows (t=2), so they are crisp.

_SLACK = 0.05  # tolerance on the distance test, so strokes on a centre line count


def _segment_distance(ax, ay, bx, by, size: int) -> np.ndarray:
    """Distance from every pixel centre to each segment: (m, size, size)."""
    ax, ay, bx, by = (np.asarray(v, dtype=np.float64)[:, None, None] for v in (ax, ay, bx, by))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    dx, dy = bx - ax, by - ay
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    along = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
    return np.hypot(xs - ax - along * dx, ys - ay - along * dy)


def _ink(distance: np.ndarray, thickness: np.ndarray) -> np.ndarray:
    return distance <= thickness[:, None, None] / 2.0 + _SLACK


def _bar(rng, m: int, size: int, thickness: np.ndarray, vertical: bool) -> np.ndarray:
    length = randint(rng, max(4, size // 2), size - 1 + np.zeros(m, dtype=np.int64))
    across = randint(rng, 0, size - thickness) + (thickness - 1) / 2.0  # centre line
    start = randint(rng, 0, size - length)
    end = start + length - 1
    if vertical:
        return _ink(_segment_distance(across, start, across, end, size), thickness)
    return _ink(_segment_distance(start, across, end, across, size), thickness)


def _hbar(rng, m, size, thickness):
    return _bar(rng, m, size, thickness, vertical=False)


def _vbar(rng, m, size, thickness):
    return _bar(rng, m, size, thickness, vertical=True)


def _cross(rng, m, size, thickness):
    """A plus sign: two strokes of half-length ``arm`` through one centre."""
    arm = randint(rng, 2, (size - thickness) // 2)
    offset = (thickness - 1) / 2.0
    cx = randint(rng, 0, size - thickness - 2 * arm) + arm + offset
    cy = randint(rng, 0, size - thickness - 2 * arm) + arm + offset
    horizontal = _segment_distance(cx - arm, cy, cx + arm, cy, size)
    vertical = _segment_distance(cx, cy - arm, cx, cy + arm, size)
    return _ink(np.minimum(horizontal, vertical), thickness)


def _circle(rng, m, size, thickness):
    """A ring of radius at least 2 (2.5 when thick)."""
    half = thickness / 2.0
    smallest = 1.5 + half
    radius = smallest + rng.random(m) * (size / 2.0 - half - smallest)
    room = size - 1 - 2 * (radius + half - 0.5)  # where the centre can go, from its lowest value
    cx = radius + half - 0.5 + rng.random(m) * room
    cy = radius + half - 0.5 + rng.random(m) * room
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    distance = np.hypot(xs - cx[:, None, None], ys - cy[:, None, None])
    return _ink(np.abs(distance - radius[:, None, None]), thickness)


def _triangle(rng, m, size, thickness):
    """The outline of an isosceles triangle pointing up."""
    limit = size - 1 - (thickness - 1)
    width = randint(rng, 4, limit)
    height = randint(rng, 4, limit)
    offset = (thickness - 1) / 2.0
    left = randint(rng, 0, limit - width) + offset
    top = randint(rng, 0, limit - height) + offset
    right, bottom, apex = left + width, top + height, left + width / 2.0
    sides = np.minimum(_segment_distance(left, bottom, right, bottom, size),
                       np.minimum(_segment_distance(left, bottom, apex, top, size),
                                  _segment_distance(apex, top, right, bottom, size)))
    return _ink(sides, thickness)


_DRAW = {"hbar": _hbar, "vbar": _vbar, "cross": _cross, "circle": _circle, "triangle": _triangle}


def draw_shapes(kind: str, count: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random shapes of one kind: (count, size, size) float64 0/1."""
    thickness = 1 + randint(rng, np.zeros(count, dtype=np.int64), 1)
    return _DRAW[kind](rng, count, size, thickness).astype(np.float64)


def shapes(task, rng) -> Examples:
    """Shapes drawn at random places and sizes; class = position of the
    kind in the task's ``kinds``; the classes are balanced."""
    n, size, kinds = task.sample_count, task.option("size"), tuple(task.option("kinds"))
    labels = balanced_labels(n, len(kinds))
    x = np.empty((n, 1, size, size))
    for label, kind in enumerate(kinds):
        where = np.flatnonzero(labels == label)
        x[where, 0] = draw_shapes(kind, where.size, size, rng)
    return Examples(targets=labels, inputs=_add_noise(x, task.noise, rng))


GENERATORS = {"digits": digits, "shapes": shapes}
