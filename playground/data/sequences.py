"""Sequence datasets: inputs ``(N, T, F)``; targets one per sequence ``(N,)``
or one per step ``(N, T)`` (``task.info.per_step``)."""
from __future__ import annotations

import functools
import math

import numpy as np

from ..spec.catalogue import TEXT_ALPHABET
from .examples import Examples, balanced_labels
from .resources import read_bytes


def sine(task, rng) -> Examples:
    """Regression at every step: the next value of A sin(ω t + φ), with ω in
    [0.2, 0.6) rad per step, φ in [0, 2π), A in [0.5, 1). Noise (Gaussian,
    std = noise) is added to the inputs only."""
    n, steps = task.sample_count, task.option("length")
    omega = 0.2 + 0.4 * rng.random(n)
    phase = 2 * math.pi * rng.random(n)
    amplitude = 0.5 + 0.5 * rng.random(n)
    t = np.arange(steps + 1)
    wave = amplitude[:, None] * np.sin(omega[:, None] * t + phase[:, None])
    inputs = wave[:, :steps] + task.noise * rng.standard_normal((n, steps))
    return Examples(targets=wave[:, 1:].copy(), inputs=inputs[:, :, None])


def parity(task, rng) -> Examples:
    """Bits 0/1; the label is their sum mod 2, half the sequences each way
    (the last bit is set to reach the label, which leaves it uniform too)."""
    n, steps = task.sample_count, task.option("length")
    labels = balanced_labels(n, 2)
    bits = rng.integers(0, 2, size=(n, steps))
    bits[:, -1] = (labels - bits[:, :-1].sum(axis=1)) % 2
    return Examples(targets=labels, inputs=bits[:, :, None].astype(np.float64))


def echo(task, rng) -> Examples:
    """Random symbols, one-hot; the label is the first one, to be recalled
    after ``delay`` distracting steps. The first symbols are balanced."""
    n, delay, symbols = task.sample_count, task.option("delay"), task.option("symbols")
    labels = balanced_labels(n, symbols)
    tokens = rng.integers(0, symbols, size=(n, delay + 1))
    tokens[:, 0] = labels
    return Examples(targets=labels, inputs=tokens, one_hot=symbols)


def is_balanced(tokens: np.ndarray) -> np.ndarray:
    """Rows of '(' = 0 and ')' = 1 that are balanced bracket strings."""
    depth = np.cumsum(np.where(np.asarray(tokens) == 0, 1, -1), axis=-1)
    return (depth.min(axis=-1) >= 0) & (depth[..., -1] == 0)


def _dyck_counts(length: int) -> np.ndarray:
    """counts[r, h]: ways to close a string from depth h in r more brackets."""
    counts = np.zeros((length + 1, length + 2))
    counts[0, 0] = 1.0
    for r in range(1, length + 1):
        counts[r, 0] = counts[r - 1, 1]
        counts[r, 1:-1] = counts[r - 1, :-2] + counts[r - 1, 2:]
    return counts


def _balanced_strings(count: int, length: int, rng) -> np.ndarray:
    """Uniformly random balanced strings: each bracket opens with the share
    of completions that start by opening."""
    counts = _dyck_counts(length)
    tokens = np.empty((count, length), dtype=np.int64)
    depth = np.zeros(count, dtype=np.int64)
    for step in range(length):
        left = length - step
        p_open = counts[left - 1, depth + 1] / counts[left, depth]
        opening = rng.random(count) < p_open
        tokens[:, step] = np.where(opening, 0, 1)
        depth += np.where(opening, 1, -1)
    return tokens


def _unbalanced_strings(count: int, length: int, rng, equal_counts: bool) -> np.ndarray:
    """Random unbalanced strings: with as many '(' as ')' (a random order of
    length/2 of each), or uniform over all strings; balanced draws are
    redrawn."""
    tokens = np.empty((count, length), dtype=np.int64)
    missing = np.arange(count)
    while missing.size:
        if equal_counts:
            keys = rng.random((missing.size, length))
            draw = (np.argsort(keys, axis=1) >= length // 2).astype(np.int64)
        else:
            draw = rng.integers(0, 2, size=(missing.size, length))
        tokens[missing] = draw
        missing = missing[is_balanced(draw)]
    return tokens


def brackets(task, rng) -> Examples:
    """Strings of '(' (index 0) and ')' (index 1), one-hot; the label is 1
    for balanced strings. Half are balanced; of the unbalanced, at least
    half have as many '(' as ')', so that counting alone does not solve it."""
    n, length = task.sample_count, task.option("length")
    labels = balanced_labels(n, 2)  # 0s first
    unbalanced = int(np.sum(labels == 0))
    equal = (unbalanced + 1) // 2
    tokens = np.concatenate([
        _unbalanced_strings(equal, length, rng, equal_counts=True),
        _unbalanced_strings(unbalanced - equal, length, rng, equal_counts=False),
        _balanced_strings(n - unbalanced, length, rng),
    ])
    return Examples(targets=labels, inputs=tokens, one_hot=2)


# --- text -------------------------------------------------------------------------

_INDEX = {character: i for i, character in enumerate(TEXT_ALPHABET)}


@functools.lru_cache(maxsize=1)
def load_corpus() -> str:
    """The bundled text, lower-cased, keeping only ``TEXT_ALPHABET`` characters."""
    text = read_bytes("corpus.txt").decode("utf-8").replace("\r\n", "\n").lower()
    return "".join(character for character in text if character in _INDEX)


def encode_text(text: str) -> np.ndarray:
    """Characters -> int64 indices into ``TEXT_ALPHABET`` (others are an error)."""
    return np.array([_INDEX[character] for character in text], dtype=np.int64)


def decode_text(indices) -> str:
    return "".join(TEXT_ALPHABET[int(i)] for i in np.asarray(indices).ravel())


@functools.lru_cache(maxsize=1)
def _corpus_indices() -> np.ndarray:
    indices = encode_text(load_corpus())
    indices.flags.writeable = False
    return indices


def text(task, rng) -> Examples:
    """Windows of the corpus at random starts, one-hot; the target at each
    step is the index of the next character."""
    n, steps = task.sample_count, task.option("length")
    corpus = _corpus_indices()
    starts = rng.integers(0, len(corpus) - steps, size=n)
    windows = corpus[starts[:, None] + np.arange(steps + 1)]
    return Examples(targets=windows[:, 1:].copy(), inputs=windows[:, :-1].copy(),
                    one_hot=len(TEXT_ALPHABET))


GENERATORS = {"sine": sine, "parity": parity, "echo": echo, "brackets": brackets, "text": text}
