"""The data layer: every dataset the spec names, with the shapes and labels the spec promises."""
from __future__ import annotations

import numpy as np
import pytest

from playground.data import (GENERATORS, grid_points, is_balanced, load_corpus, load_digits,
                             make_dataset, point_features)
from playground.data.resources import read_bytes
from playground.spec import (DATASETS, POINT_DOMAIN, SHAPE_KINDS, TEXT_ALPHABET, SpecError, Task,
                             task_classes, task_input_shape)

# Datasets made here need no files; the server-only ones (files in the data
# folder) are tested with fixture files in tests/server/test_data_files.py.
BUNDLED = [name for name, info in DATASETS.items() if not info.server_only]

# Every dataset with its defaults, plus a few non-default settings.
CASES = [Task(name) for name in BUNDLED] + [
    Task("circle", samples=123, noise=0.4, train_ratio=0.7, features=("x1_squared", "x2_squared", "x1_x2")),
    Task("xor", noise=1.0, features=("x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2")),
    Task("spiral", samples=301, noise=0.5, train_ratio=0.8, features=("sin_x2",)),
    Task("blobs", samples=200, noise=0.3, options={"classes": 5}),
    Task("blobs", options={"classes": 4}),
    Task("gauss", noise=1.0),
    Task("moons", noise=1.0, train_ratio=0.3),
    Task("checkerboard", noise=0.7),
    Task("plane", noise=1.0),
    Task("multigauss", noise=0.6),
    Task("digits", samples=100, noise=0.2, train_ratio=0.8),
    Task("shapes", samples=150, noise=0.3, options={"size": 8, "kinds": ["circle", "cross"]}),
    Task("shapes", samples=200, options={"size": 16, "kinds": ["triangle", "hbar", "vbar"]}),
    Task("sine", samples=60, noise=0.3, options={"length": 4}),
    Task("parity", samples=64, options={"length": 2}),
    Task("parity", samples=200, options={"length": 32}),
    Task("echo", samples=90, options={"delay": 1, "symbols": 2}),
    Task("echo", samples=160, options={"delay": 60, "symbols": 8}),
    Task("brackets", samples=100, options={"length": 4}),
    Task("brackets", samples=300, options={"length": 32}),
    Task("text", samples=50, options={"length": 64}),
]


def _id(task: Task) -> str:
    extra = ",".join(f"{k}={v}" for k, v in task.options.items())
    return f"{task.dataset}-{task.sample_count}-{task.noise:g}" + (f"-{extra}" if extra else "")


@pytest.fixture(scope="module")
def made():
    """Each case's dataset, made once for the whole module."""
    return {id(task): make_dataset(task) for task in CASES}


def test_every_dataset_of_the_spec_has_a_generator():
    assert set(GENERATORS) == set(DATASETS)


@pytest.mark.parametrize("task", CASES, ids=_id)
def test_shapes_sizes_and_label_ranges(task, made):
    data = made[id(task)]
    n = task.sample_count
    n_train = round(n * task.train_ratio)
    shape = task_input_shape(task)
    assert data.x_train.shape == (n_train, *shape)
    assert data.x_test.shape == (n - n_train, *shape)
    assert data.x_train.dtype == data.x_test.dtype == np.float64
    assert np.isfinite(data.x_train).all() and np.isfinite(data.x_test).all()
    per_step = (shape[0],) if task.info.per_step else ()
    assert data.y_train.shape == (n_train, *per_step)
    assert data.y_test.shape == (n - n_train, *per_step)
    classes = task_classes(task)
    assert data.classes == classes
    y = np.concatenate([data.y_train, data.y_test])
    if classes:
        assert y.dtype == np.int64
        assert y.min() >= 0 and y.max() < classes
    else:
        assert y.dtype == np.float64
        assert y.min() >= -1.0 and y.max() <= 1.0
    if task.info.kind == "points":
        assert data.points_train.shape == (n_train, 2) and data.points_test.shape == (n - n_train, 2)
        low, high = POINT_DOMAIN
        points = np.concatenate([data.points_train, data.points_test])
        assert points.min() >= low and points.max() <= high
        np.testing.assert_array_equal(data.x_train, point_features(data.points_train, task.input_features))
    else:
        assert data.points_train is None and data.points_test is None
    if task.info.kind == "image":
        assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0


@pytest.mark.parametrize("task", [Task(name, samples=40, noise=0.3) for name in BUNDLED], ids=_id)
def test_same_task_same_arrays_other_seed_other_arrays(task):
    first, again = make_dataset(task), make_dataset(task)
    other = make_dataset(Task(task.dataset, samples=40, noise=0.3, seed=task.seed + 1))
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.x_train, other.x_train)


def test_dtype_applies_to_inputs_and_regression_targets():
    data = make_dataset(Task("plane", samples=50), dtype=np.float32)
    assert data.x_train.dtype == data.y_train.dtype == np.float32
    text = make_dataset(Task("text", samples=20), dtype=np.float32)
    assert text.x_train.dtype == np.float32 and text.y_train.dtype == np.int64


def test_invalid_task_is_refused():
    with pytest.raises(SpecError):
        make_dataset(Task("blobs", options={"classes": 9}))


@pytest.mark.parametrize("task", [t for t in CASES if task_classes(t) and t.dataset != "text"], ids=_id)
def test_classes_roughly_balanced(task, made):
    data = made[id(task)]
    counts = np.bincount(np.concatenate([data.y_train, data.y_test]), minlength=data.classes)
    expected = task.sample_count / data.classes
    noisy = task.dataset in ("xor", "checkerboard", "circle")  # labels follow the noise-shifted point
    assert counts.min() >= expected * (0.7 if noisy else 0.9)


def test_noise_moves_labels_not_points():
    quiet = make_dataset(Task("circle", noise=0.0))
    noisy = make_dataset(Task("circle", noise=0.5))
    np.testing.assert_array_equal(quiet.points_train, noisy.points_train)
    assert not np.array_equal(quiet.y_train, noisy.y_train)
    # without noise the disc and the ring are the two classes
    radius = np.hypot(*quiet.points_train.T)
    np.testing.assert_array_equal(quiet.y_train, (radius < 2.5).astype(np.int64))


def test_classic_point_labels_without_noise():
    xor = make_dataset(Task("xor"))
    x1, x2 = xor.points_train.T
    np.testing.assert_array_equal(xor.y_train, (x1 * x2 >= 0).astype(np.int64))
    assert np.abs(xor.points_train).min() >= 0.3
    gauss = make_dataset(Task("gauss"))
    np.testing.assert_array_equal(gauss.y_train, (gauss.points_train.sum(axis=1) > 0).astype(np.int64))
    plane = make_dataset(Task("plane"))
    expected = np.clip(plane.points_train.sum(axis=1) / 10, -1, 1)
    np.testing.assert_allclose(plane.y_train, expected)
    multi = make_dataset(Task("multigauss", samples=2000))
    near = np.hypot(*(multi.points_train - [-4, 2.5]).T) < 0.5
    assert near.any() and (multi.y_train[near] > 0.7).all()
    board = make_dataset(Task("checkerboard"))
    cells = np.floor((board.points_train + 6) / 3)
    np.testing.assert_array_equal(board.y_train, (cells.sum(axis=1) % 2).astype(np.int64))


def test_sine_targets_are_the_next_values():
    data = make_dataset(Task("sine", samples=30))
    np.testing.assert_allclose(data.x_train[:, 1:, 0], data.y_train[:, :-1])
    assert np.abs(data.x_train).max() <= 1.0


def test_parity_labels_are_the_bit_sum_mod_2():
    data = make_dataset(Task("parity", options={"length": 9}))
    bits = data.x_train[..., 0]
    assert set(np.unique(bits)) == {0.0, 1.0}
    np.testing.assert_array_equal(data.y_train, bits.sum(axis=1).astype(np.int64) % 2)


def test_echo_labels_are_the_first_symbol():
    data = make_dataset(Task("echo", options={"delay": 7, "symbols": 5}))
    np.testing.assert_array_equal(data.x_train.sum(axis=2), 1.0)  # one-hot
    np.testing.assert_array_equal(data.y_train, data.x_train[:, 0].argmax(axis=1))
    assert len(np.unique(data.x_train[:, 1:].argmax(axis=2))) == 5  # the distractors vary


@pytest.mark.parametrize("length", [4, 10, 24])
def test_brackets_labels_are_a_real_balance_check(length):
    data = make_dataset(Task("brackets", samples=400, options={"length": length}))
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    np.testing.assert_array_equal(x.sum(axis=2), 1.0)
    tokens = x.argmax(axis=2)  # 0 '(' and 1 ')'
    balanced = []
    for row in tokens:
        depth, ok = 0, True
        for token in row:
            depth += 1 if token == 0 else -1
            ok = ok and depth >= 0
        balanced.append(ok and depth == 0)
    np.testing.assert_array_equal(y, np.array(balanced, dtype=np.int64))
    np.testing.assert_array_equal(is_balanced(tokens), y.astype(bool))
    assert y.sum() == 200
    unbalanced = tokens[y == 0]
    equal_counts = (unbalanced == 0).sum(axis=1) == length // 2
    assert equal_counts.mean() >= 0.5


def test_text_targets_are_the_next_characters():
    data = make_dataset(Task("text", samples=40, options={"length": 12}))
    corpus = load_corpus()
    np.testing.assert_array_equal(data.x_train.sum(axis=2), 1.0)
    inputs = data.x_train.argmax(axis=2)
    np.testing.assert_array_equal(inputs[:, 1:], data.y_train[:, :-1])
    for row_in, row_out in zip(inputs, data.y_train):
        window = "".join(TEXT_ALPHABET[i] for i in row_in) + TEXT_ALPHABET[row_out[-1]]
        assert window in corpus


def test_corpus_is_small_lowercase_text_in_the_alphabet():
    raw = read_bytes("corpus.txt").decode("utf-8")
    assert 10_000 <= len(raw.encode("utf-8")) <= 14_000
    assert set(raw) <= set(TEXT_ALPHABET)
    assert load_corpus() == raw
    assert len(set(raw.split())) > 300  # real prose, not a repeated phrase


def test_digits_bundle():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.max() == 16 and images.min() == 0
    assert np.bincount(labels).min() >= 170
    assert load_digits()[0] is images  # cached
    data = make_dataset(Task("digits", samples=1797, train_ratio=0.5))
    pixels = np.concatenate([data.x_train, data.x_test])
    assert np.isin(pixels * 16, np.arange(17)).all()
    # all of them: the same multiset of images
    np.testing.assert_array_equal(np.sort((pixels * 16).round().reshape(1797, -1).sum(axis=1)),
                                  np.sort(images.reshape(1797, -1).sum(axis=1).astype(float)))


def test_shapes_are_drawn_inside_and_look_like_their_kind():
    kinds = list(SHAPE_KINDS)
    data = make_dataset(Task("shapes", samples=250, options={"size": 10, "kinds": kinds}))
    images, labels = data.x_train[:, 0], data.y_train
    assert set(np.unique(images)) == {0.0, 1.0}  # no noise: clean ink
    ink = images.sum(axis=(1, 2))
    assert ink.min() >= 4
    rows = images.any(axis=2).sum(axis=1)  # height of the ink's bounding box
    cols = images.any(axis=1).sum(axis=1)
    hbar, vbar = labels == kinds.index("hbar"), labels == kinds.index("vbar")
    assert (cols[hbar] >= 2 * rows[hbar]).all()
    assert (rows[vbar] >= 2 * cols[vbar]).all()
    # bars are solid rectangles, the others are not
    assert (ink[hbar] == rows[hbar] * cols[hbar]).all()
    circle = labels == kinds.index("circle")
    assert (images[circle].sum(axis=(1, 2)) < rows[circle] * cols[circle]).all()


def test_point_features_columns():
    points = np.array([[1.0, 2.0], [-3.0, 0.5]])
    names = ("x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2")
    x1, x2 = points.T
    expected = np.stack([x1, x2, x1 ** 2, x2 ** 2, x1 * x2, np.sin(x1), np.sin(x2)], axis=1)
    np.testing.assert_allclose(point_features(points, names), expected)
    np.testing.assert_array_equal(point_features(points, ("x1_x2", "x1")), np.stack([x1 * x2, x1], axis=1))
    with pytest.raises(ValueError):
        point_features(points, ("x3",))


def test_grid_points_orientation():
    resolution = 4
    grid = grid_points(resolution)
    half = (POINT_DOMAIN[1] - POINT_DOMAIN[0]) / resolution / 2
    assert grid.shape == (16, 2)
    np.testing.assert_allclose(grid[0], [-6 + half, 6 - half])  # top left
    np.testing.assert_allclose(grid[resolution - 1], [6 - half, 6 - half])  # top right
    np.testing.assert_allclose(grid[-1], [6 - half, -6 + half])  # bottom right
    image = grid[:, 1].reshape(resolution, resolution)
    assert (np.diff(image, axis=0) < 0).all()  # x2 falls down the rows
    assert (np.diff(grid[:, 0].reshape(resolution, resolution), axis=1) > 0).all()
