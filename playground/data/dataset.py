"""``make_dataset``: a Task's examples, shuffled and split, as arrays."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec.schema import Task
from ..spec.shapes import task_classes, task_input_shape
from . import external, images, points, sequences
from .examples import Examples
from .features import point_features

#: Dataset name -> generator ``(task, rng) -> Examples``; one per name in
#: ``spec.catalogue.DATASETS``. The ``external`` ones read files on the server.
GENERATORS = {**points.GENERATORS, **images.GENERATORS, **sequences.GENERATORS, **external.GENERATORS}


@dataclass
class Dataset:
    """The train and test arrays of a task.

    ``x_*``: ``(N, *task_input_shape(task))`` in the requested dtype.
    ``y_*``: classification: int64 class indices, ``(N,)`` or ``(N, T)`` for
    per-step tasks; regression: floats in [-1, 1] in the requested dtype.
    ``points_*``: the raw ``(N, 2)`` coordinates of point datasets, else None.
    """

    task: Task
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    points_train: np.ndarray | None = None
    points_test: np.ndarray | None = None

    @property
    def classes(self) -> int:
        """Number of classes, 0 for regression."""
        return task_classes(self.task)


def make_dataset(task: Task, dtype=np.float64) -> Dataset:
    """Generate ``task.sample_count`` examples, shuffle them and split off
    the first ``round(n * train_ratio)`` for training. The same task gives
    bit-identical arrays; the data draws from stream 0 of the task's seed.
    Raises ``SpecError`` for an invalid task."""
    task.check()
    dtype = np.dtype(dtype)
    rng = np.random.default_rng([task.seed, 0])
    n = task.sample_count
    # The shuffle is drawn first, so that options which change how many
    # random numbers a generator takes (noise, for instance) keep the split.
    order = rng.permutation(n)
    examples = GENERATORS[task.dataset](task, rng)
    n_train = round(n * task.train_ratio)
    train, test = order[:n_train], order[n_train:]
    x_train, y_train, p_train = _take(task, examples, train, dtype)
    x_test, y_test, p_test = _take(task, examples, test, dtype)
    return Dataset(task, x_train, y_train, x_test, y_test, p_train, p_test)


def _take(task: Task, examples: Examples, index: np.ndarray, dtype: np.dtype):
    """The examples at ``index``: inputs, targets and points."""
    coordinates = None
    if examples.points is not None:
        coordinates = examples.points[index]
        x = point_features(coordinates, task.input_features).astype(dtype, copy=False)
    elif examples.one_hot:
        x = np.eye(examples.one_hot, dtype=dtype)[examples.inputs[index]]
    else:
        x = examples.inputs[index].astype(dtype, copy=False)
    y = examples.targets[index]
    y = y.astype(np.int64 if task_classes(task) else dtype, copy=False)
    expected = (len(index),) + tuple(task_input_shape(task))
    if x.shape != expected:  # the spec and the data layer disagree
        raise RuntimeError(f"dataset {task.dataset!r} made inputs of shape {x.shape}, "
                           f"the spec says {expected}")
    return np.ascontiguousarray(x), np.ascontiguousarray(y), coordinates
