"""Inputs computed from the 2-D points, and the grid the decision maps are drawn on."""
from __future__ import annotations

import numpy as np

from ..spec.catalogue import FEATURES, POINT_DOMAIN

_COLUMNS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1_squared": lambda x1, x2: x1 * x1,
    "x2_squared": lambda x1, x2: x2 * x2,
    "x1_x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}
assert tuple(_COLUMNS) == FEATURES


def point_features(points: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
    """``(N, 2)`` coordinates ``(x1, x2)`` -> ``(N, len(features))`` float64
    columns in the order given, computed on the raw coordinates as the
    classic playground does."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {points.shape}")
    unknown = [name for name in features if name not in _COLUMNS]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0]!r}; known: {', '.join(FEATURES)}")
    out = np.empty((len(points), len(features)), dtype=np.float64)
    x1, x2 = points[:, 0], points[:, 1]
    for column, name in enumerate(features):
        out[:, column] = _COLUMNS[name](x1, x2)
    return out


def grid_points(resolution: int, domain: tuple[float, float] = POINT_DOMAIN) -> np.ndarray:
    """``(resolution², 2)`` cell-centre coordinates covering the square
    ``domain²``, row-major with row 0 at the top (largest x2) and column 0 at
    the left (smallest x1): ``values.reshape(resolution, resolution)`` is an
    image in display order."""
    resolution = int(resolution)
    if resolution < 1:
        raise ValueError(f"resolution must be at least 1, got {resolution}")
    low, high = float(domain[0]), float(domain[1])
    cell = (high - low) / resolution
    centres = (np.arange(resolution) + 0.5) * cell
    x1 = low + centres  # left to right
    x2 = high - centres  # top to bottom
    grid = np.empty((resolution, resolution, 2), dtype=np.float64)
    grid[:, :, 0] = x1[None, :]
    grid[:, :, 1] = x2[:, None]
    return grid.reshape(-1, 2)
