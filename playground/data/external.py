"""The server-only datasets, read from files in the server's data folder.

The 28×28 digits (MNIST) and a large text corpus are too big to bundle: the
package travels to every browser as ``engine.zip``. So they live in a data
folder on the server, ``$PLAYGROUND_DATA_DIR`` or else
``~/.cache/playground/data``, put there once by ``playground data fetch`` or
``playground data add`` (``server/data_files.py``, which may use the
network). This module only reads them, with numpy and the standard library,
so it imports under Pyodide too; there the files are absent and the
datasets say how to get them, as on a server that lacks them.

The files:

- ``digits28.npz``: ``images`` uint8 ``(N, 28, 28)`` 0..255 and ``labels``
  uint8 ``(N,)`` 0..9;
- ``corpus.txt``: UTF-8 text, read as the bundled ``text`` dataset reads its
  own (lower-cased, only ``TEXT_ALPHABET`` characters kept).
"""
from __future__ import annotations

import functools
import os
import zipfile
from pathlib import Path

import numpy as np

from ..spec.catalogue import TEXT_ALPHABET
from ..spec.errors import Place
from .examples import Examples
from .images import _add_noise

DATA_DIR_ENV = "PLAYGROUND_DATA_DIR"
DIGITS28_FILE = "digits28.npz"
CORPUS_FILE = "corpus.txt"
#: Fewer characters than this make too small a corpus to learn from (and
#: ``playground data add corpus`` refuses such a file).
CORPUS_MIN_CHARACTERS = 10_000

#: The command that puts each file in place, for the error messages.
FIXES = {
    "digits28": "run `playground data fetch digits28`, or `playground data add digits28 FILE.npz`",
    "corpus": "run `playground data add corpus FILE.txt` (a UTF-8 text file)",
}


def data_dir() -> Path:
    """``$PLAYGROUND_DATA_DIR`` if set, else ``~/.cache/playground/data``."""
    chosen = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(chosen).expanduser() if chosen else Path.home() / ".cache" / "playground" / "data"


def digits28_path(folder: str | os.PathLike | None = None) -> Path:
    return Path(folder or data_dir()) / DIGITS28_FILE


def corpus_path(folder: str | os.PathLike | None = None) -> Path:
    return Path(folder or data_dir()) / CORPUS_FILE


# --- reading and checking the files ----------------------------------------------

def check_digits28(images: np.ndarray, labels: np.ndarray) -> str | None:
    """What is wrong with arrays meant as the canonical digits; None if nothing."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        return f"'images' must be uint8 of shape (N, 28, 28), not {images.dtype} {images.shape}"
    if labels.dtype != np.uint8 or labels.shape != images.shape[:1]:
        return f"'labels' must be uint8 of shape ({len(images)},), not {labels.dtype} {labels.shape}"
    if len(labels) == 0:
        return "it holds no images"
    if labels.max() > 9:
        return f"'labels' holds {int(labels.max())}; digits are 0 to 9"
    return None


def read_digits28(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The canonical digits file's ``images`` and ``labels``, checked and
    read-only. Cached while the file is unchanged (path, mtime and size).
    Raises ``FileNotFoundError`` when it is absent and ``ValueError`` saying
    what is wrong when it is not a canonical digits file."""
    path = Path(path)
    stat = path.stat()
    return _read_digits28(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _read_digits28(path: str, mtime_ns: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    if not zipfile.is_zipfile(path):
        raise ValueError("it is not an .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("images", "labels") if key in archive.files}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(f"it cannot be read as an .npz file ({error})") from None
    missing = [repr(key) for key in ("images", "labels") if key not in arrays]
    if missing:
        raise ValueError(f"it has no {' or '.join(missing)} array")
    images, labels = arrays["images"], arrays["labels"]
    problem = check_digits28(images, labels)
    if problem:
        raise ValueError(problem)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


_LOOKUP = np.full(128, -1, dtype=np.int64)
_LOOKUP[[ord(character) for character in TEXT_ALPHABET]] = np.arange(len(TEXT_ALPHABET))


def encode_corpus(text: str) -> np.ndarray:
    """Text -> int64 indices into ``TEXT_ALPHABET``, cleaned as the bundled
    corpus is (``\\r\\n`` to ``\\n``, lower-cased, other characters dropped).
    Vectorised, in chunks, because a corpus may have millions of characters."""
    text = text.replace("\r\n", "\n")
    parts = []
    chunk = 1 << 22
    for start in range(0, len(text), chunk):
        codes = np.frombuffer(text[start:start + chunk].lower().encode("utf-32-le"), dtype="<u4")
        indices = _LOOKUP[codes[codes < 128]]
        parts.append(indices[indices >= 0])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def read_corpus(path: str | os.PathLike) -> np.ndarray:
    """The corpus file as read-only indices into ``TEXT_ALPHABET``; cached
    while the file is unchanged. Raises ``FileNotFoundError`` when it is
    absent and ``ValueError`` when it is not UTF-8 or too short."""
    path = Path(path)
    stat = path.stat()
    return _read_corpus(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _read_corpus(path: str, mtime_ns: int, size: int) -> np.ndarray:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"it is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
                         f"{error.start:,})") from None
    except OSError as error:
        raise ValueError(f"it cannot be read ({error})") from None
    indices = encode_corpus(text)
    if len(indices) < CORPUS_MIN_CHARACTERS:
        raise ValueError(f"it keeps only {len(indices):,} characters of the alphabet; "
                         f"a corpus needs at least {CORPUS_MIN_CHARACTERS:,}")
    indices.flags.writeable = False
    return indices


_SUBJECTS = {"digits28": ("the 28×28 digits", "are"), "corpus": ("the large text corpus", "is")}


def _load(name: str, path: Path, reader):
    """``reader(path)``, or a SpecError that says what is missing and the fix."""
    place = Place("task", "task")
    what, verb = _SUBJECTS[name]
    try:
        return reader(path)
    except FileNotFoundError:
        raise place.error(f"{what} {verb} not on this server (no {path}): {FIXES[name]}", "dataset") from None
    except (OSError, ValueError) as error:
        raise place.error(f"the file {path} with {what} is broken ({error}): {FIXES[name]}",
                          "dataset") from None


# --- the generators ---------------------------------------------------------------

def balanced_subset(labels: np.ndarray, n: int, classes: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` examples, as class-balanced as ``labels`` allow: in a
    seeded shuffled order, every class's first example, then every class's
    second, and so on (as the 8×8 ``digits`` take theirs)."""
    order = rng.permutation(len(labels))
    shuffled = labels[order]
    rank = np.empty(len(order), dtype=np.int64)
    for label in range(classes):
        where = np.flatnonzero(shuffled == label)
        rank[where] = np.arange(where.size)
    return order[np.argsort(rank, kind="stable")[:n]]


def digits28(task, rng) -> Examples:
    """A seeded, class-balanced subset of the 28×28 digits, pixels in [0, 1]
    with the task's noise (as the other image datasets)."""
    path = digits28_path()
    images, labels = _load("digits28", path, read_digits28)
    n = task.sample_count
    if n > len(labels):
        raise Place("task", "task").error(
            f"samples {n:,} is more than the {len(labels):,} 28×28 digits on this server "
            f"({path}); use at most {len(labels):,}", "samples")
    chosen = balanced_subset(labels, n, 10, rng)
    x = images[chosen][:, None].astype(np.float64) / 255.0
    return Examples(targets=labels[chosen].astype(np.int64), inputs=_add_noise(x, task.noise, rng))


def corpus(task, rng) -> Examples:
    """Windows of the large corpus at random starts, one-hot; the target at
    each step is the index of the next character (as the ``text`` dataset)."""
    indices = _load("corpus", corpus_path(), read_corpus)
    n, steps = task.sample_count, task.option("length")
    starts = rng.integers(0, len(indices) - steps, size=n)
    windows = indices[starts[:, None] + np.arange(steps + 1)]
    return Examples(targets=windows[:, 1:].copy(), inputs=windows[:, :-1].copy(),
                    one_hot=len(TEXT_ALPHABET))


GENERATORS = {"digits28": digits28, "corpus": corpus}
