"""Put the server-only datasets' files into the data folder.

``playground/data/external.py`` reads ``digits28.npz`` and ``corpus.txt``
from the data folder (``$PLAYGROUND_DATA_DIR``, else
``~/.cache/playground/data``) and may not touch the network, since it also
runs in the browser. This module fills that folder:

- ``fetch_digits28`` downloads MNIST's ``mnist.npz`` once, checks its sha256
  and converts it to the canonical ``digits28.npz``;
- ``add_digits28`` and ``add_corpus`` import a user's own files, checking
  every array or character first and saying exactly what is wrong;
- ``data_status`` says what is there.

Every file is written under a temporary name beside its place and renamed
only when complete and checked, so a failed or interrupted run never leaves
a broken file where the datasets read it. Standard library and numpy only.
"""
from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .downloads import byte_size, failure_reason

from playground.data import external
from playground.data.external import CORPUS_MIN_CHARACTERS, FIXES, corpus_path, digits28_path
from playground.spec import TEXT_ALPHABET

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")

TIMEOUT_S = 60.0
CHUNK = 1 << 16
PROGRESS_EVERY_S = 0.5
USER_AGENT = "playground-data-fetch (Python urllib)"
FETCH_ADVICE = ("download mnist.npz some other way and run `playground data fetch digits28 --from FILE`, "
                "or import your own file with `playground data add digits28 FILE.npz`")
_ALPHABET_IN_WORDS = "a–z, space, newline and " + " ".join(c for c in TEXT_ALPHABET if not c.isalnum() and c not in " \n")


class DataFileError(ValueError):
    """A data file could not be fetched, read or written; the message names
    the file (and the key), says what is wrong and what to do."""


def _folder(data_dir) -> Path:
    return Path(data_dir).expanduser() if data_dir else external.data_dir()


# --- writing safely -----------------------------------------------------------------

def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataFileError(f"cannot create the data folder {folder}: {error}; set "
                            f"{external.DATA_DIR_ENV} to a writable folder") from None


@contextlib.contextmanager
def _temporary(folder: Path, name: str):
    """A temporary path beside ``folder/name``, removed on leaving unless renamed away."""
    handle, text = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    os.close(handle)
    path = Path(text)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _write_atomically(target: Path, write) -> None:
    """``write(file)`` into a temporary file, then rename it onto ``target``."""
    _make_folder(target.parent)
    try:
        with _temporary(target.parent, target.name) as part:
            with open(part, "wb") as file:
                write(file)
            os.chmod(part, 0o644)
            os.replace(part, target)
    except OSError as error:
        raise DataFileError(f"could not write {target}: {error}; check that the folder is writable and "
                            f"the disk has room, or set {external.DATA_DIR_ENV} to another folder") from None


def _write_digits28(images: np.ndarray, labels: np.ndarray, target: Path) -> None:
    problem = external.check_digits28(images, labels)
    assert problem is None, problem  # load_digits_npz made them canonical
    _write_atomically(target, lambda file: np.savez_compressed(file, images=images, labels=labels))


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of an earlier, interrupted run (ours only: ``.<name>.*.part``)."""
    for name in ("mnist.npz", external.DIGITS28_FILE, external.CORPUS_FILE):
        for leftover in folder.glob(f".{name}.*.part"):
            leftover.unlink(missing_ok=True)


# --- reading a source: a URL, a file:// URL or a path ------------------------------

def _local_path(source: str) -> Path | None:
    """The path a source names, or None for an http(s) URL."""
    if source.lower().startswith(("http://", "https://")):
        return None
    if source.lower().startswith("file:"):
        parsed = urllib.parse.urlparse(source)
        if parsed.netloc not in ("", "localhost"):
            raise DataFileError(f"cannot read {source}: only local file:// URLs are supported; give the path")
        return Path(urllib.request.url2pathname(parsed.path))
    return Path(source).expanduser()


def _copy(source: str, out_path: Path, progress, timeout: float) -> str:
    """Copy or download ``source`` into ``out_path``, reporting bytes done of
    the total; returns the sha256 of what was written."""
    digest = hashlib.sha256()
    path = _local_path(source)
    with open(out_path, "wb") as out:
        if path is not None:
            if not path.is_file():
                what = "is a folder" if path.is_dir() else "does not exist"
                raise DataFileError(f"the source {path} {what}; give the path of mnist.npz, or leave --from "
                                    f"out to download it from {MNIST_URL}")
            with open(path, "rb") as file:
                _stream(file, out, digest, path.stat().st_size, f"copying from {path}", progress)
        else:
            _download(source, out, digest, progress, timeout)
    return digest.hexdigest()


def _stream(file, out, digest, total: int | None, doing: str, progress) -> int:
    progress(f"mnist.npz: {doing} ({byte_size(total)})")
    done, last = 0, time.monotonic()
    while block := file.read(CHUNK):
        out.write(block)
        digest.update(block)
        done += len(block)
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            share = f"{100 * done / total:.0f}%, " if total else ""
            progress(f"mnist.npz: {share}{byte_size(done)} of {byte_size(total)}")
    progress(f"mnist.npz: {byte_size(done)} done")
    return done


def _download(url: str, out, digest, progress, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = _stream(response, out, digest, total, f"downloading from {url}", progress)
            if total is not None and done != total:
                raise http.client.IncompleteRead(b"", total - done)
    except urllib.error.HTTPError as error:
        raise DataFileError(f"could not download mnist.npz from {url}: the server answered HTTP "
                            f"{error.code} {error.reason}. Try again later, or {FETCH_ADVICE}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = failure_reason(error, timeout)
        raise DataFileError(f"could not download mnist.npz from {url}: {reason}. Check the network, "
                            f"or {FETCH_ADVICE}") from None


# --- checking a digits file ----------------------------------------------------------

def _array(archive, name: str, key: str) -> np.ndarray:
    try:
        return archive[key]
    except ValueError as error:
        if "pickle" in str(error):
            raise DataFileError(f"{name}: key {key!r} holds Python objects (a pickled array), which are not "
                                f"loaded for safety; store a plain numeric array") from None
        raise DataFileError(f"{name}: key {key!r} cannot be read: {error}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise DataFileError(f"{name}: key {key!r} cannot be read, the file is damaged: {error}") from None


def _images(name: str, key: str, images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or (N, 784), uint8 0..255 or floats 0..1 -> canonical uint8."""
    if images.dtype.kind not in "uif":
        raise DataFileError(f"{name}: key {key!r} has dtype {images.dtype}; images must be uint8 "
                            f"pixels 0..255 or floats 0..1")
    if images.ndim == 2 and images.shape[1] == 28 * 28:
        images = images.reshape(-1, 28, 28)
    elif images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataFileError(f"{name}: key {key!r} has shape {images.shape}; images must have the "
                            f"shape (N, 28, 28) or (N, 784)")
    if len(images) == 0:
        raise DataFileError(f"{name}: key {key!r} holds no images")
    if images.dtype.kind == "f":
        if not np.isfinite(images).all():
            raise DataFileError(f"{name}: key {key!r} holds NaN or infinite values")
        low, high = float(images.min()), float(images.max())
        if low < 0.0 or high > 1.0:
            raise DataFileError(f"{name}: key {key!r} holds floats from {low:g} to {high:g}; float pixels "
                                f"must be in [0, 1] (divide by 255, or store uint8 0..255)")
        return np.rint(images * 255.0).astype(np.uint8)
    low, high = int(images.min()), int(images.max())
    if low < 0 or high > 255:
        raise DataFileError(f"{name}: key {key!r} holds values from {low} to {high}; integer pixels "
                            f"must be 0..255")
    return images.astype(np.uint8, copy=False)


def _labels(name: str, key: str, labels: np.ndarray, images_key: str, count: int) -> np.ndarray:
    """Whole numbers 0..9, one per image -> canonical uint8."""
    if labels.dtype.kind not in "ui":
        raise DataFileError(f"{name}: key {key!r} has dtype {labels.dtype}; labels must be whole "
                            f"numbers 0 to 9 (an integer array)")
    if labels.ndim != 1:
        raise DataFileError(f"{name}: key {key!r} has shape {labels.shape}; labels must be one "
                            f"number per image, shape ({count},)")
    if len(labels) != count:
        raise DataFileError(f"{name}: key {key!r} has {len(labels):,} labels but {images_key!r} has "
                            f"{count:,} images; there must be one label per image")
    wrong = np.flatnonzero((labels < 0) | (labels > 9))
    if wrong.size:
        first = int(wrong[0])
        raise DataFileError(f"{name}: key {key!r} has labels out of range: {int(labels[first])} at index "
                            f"{first:,} ({wrong.size:,} in all); digits are 0 to 9")
    return labels.astype(np.uint8)


def load_digits_npz(path: str | os.PathLike, shown: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of a digits ``.npz``, canonical: uint8
    ``(N, 28, 28)`` and uint8 ``(N,)``. Takes MNIST's keys (``x_train``,
    ``y_train``, ``x_test``, ``y_test``; train then test) or ``images`` and
    ``labels``. Raises ``DataFileError`` naming the file (``shown``, else the
    path) and the key for every problem."""
    path = Path(path)
    name = shown or str(path)
    if not path.is_file():
        raise DataFileError(f"{name} {'is a folder, not a file' if path.is_dir() else 'does not exist'}")
    if not zipfile.is_zipfile(path):
        raise DataFileError(f"{name} is not an .npz file (it is not a zip archive); save the arrays with "
                            f"numpy.savez(FILE, images=..., labels=...)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataFileError(f"{name} cannot be read as an .npz file: {error}") from None
    with archive:
        keys = set(archive.files)
        if "images" in keys or "labels" in keys:
            pairs = [("images", "labels")]
        elif keys & set(MNIST_KEYS):
            pairs = [("x_train", "y_train"), ("x_test", "y_test")]
        else:
            found = ", ".join(repr(key) for key in sorted(keys)) or "none"
            raise DataFileError(f"{name} has neither the arrays 'images' and 'labels' nor MNIST's "
                                f"{', '.join(map(repr, MNIST_KEYS))}; its arrays: {found}")
        for key in (key for pair in pairs for key in pair):
            if key not in keys:
                raise DataFileError(f"{name} has no key {key!r}; it needs "
                                    f"{' and '.join(repr(k) for pair in pairs for k in pair)}")
        images, labels = [], []
        for images_key, labels_key in pairs:
            some = _images(name, images_key, _array(archive, name, images_key))
            images.append(some)
            labels.append(_labels(name, labels_key, _array(archive, name, labels_key), images_key, len(some)))
    return np.concatenate(images), np.concatenate(labels)


def _digits28_problem(target: Path) -> str | None:
    """Why the canonical digits file is unusable; None when it is fine."""
    try:
        external.read_digits28(target)
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError) as error:
        return str(error)
    return None


# --- the public operations -------------------------------------------------------------

def fetch_digits28(source: str | os.PathLike | None = None, data_dir=None, progress=print, *,
                   sha256: str | None = MNIST_SHA256, timeout: float = TIMEOUT_S) -> Path:
    """Put the 28×28 digits into the data folder, once; returns the file's path.

    ``source``: MNIST's ``mnist.npz`` as an http(s) URL, a ``file://`` URL or a
    path; left out, ``MNIST_URL``. It is streamed to a temporary file, its
    sha256 checked against ``sha256`` (None: not checked), converted to the
    canonical ``digits28.npz`` (train then test) and renamed into place. A
    valid ``digits28.npz`` already there is kept and nothing is fetched.
    Raises ``DataFileError``; on any error nothing is kept.
    """
    folder = _folder(data_dir)
    target = digits28_path(folder)
    problem = _digits28_problem(target)
    if problem is None:
        count = len(external.read_digits28(target)[1])
        progress(f"digits28: already in {target} ({count:,} images); nothing to fetch "
                 f"(`playground data add digits28 FILE.npz` replaces it)")
        return target
    if problem != "missing":
        progress(f"digits28: {target} is broken ({problem}); fetching it again")
    source = os.fspath(source).strip() if source is not None and os.fspath(source).strip() else MNIST_URL
    _make_folder(folder)
    _remove_leftovers(folder)
    try:
        with _temporary(folder, "mnist.npz") as part:
            got = _copy(source, part, progress, timeout)
            if sha256 is not None and got != sha256.lower():
                raise DataFileError(f"mnist.npz from {source} has the wrong sha256: expected {sha256.lower()}, "
                                    f"got {got}. It is corrupt or not MNIST's mnist.npz, so nothing was kept; "
                                    f"try again, or {FETCH_ADVICE}")
            images, labels = load_digits_npz(part, shown=f"mnist.npz from {source}")
    except OSError as error:
        raise DataFileError(f"could not fetch mnist.npz from {source} into {folder}: {error}") from None
    _write_digits28(images, labels, target)
    progress(f"digits28: {len(labels):,} images ready in {target}")
    return target


def add_digits28(path: str | os.PathLike, data_dir=None, progress=print) -> Path:
    """Import a user's digits ``.npz`` as the canonical ``digits28.npz``
    (replacing one already there); returns its path. See ``load_digits_npz``
    for what is accepted. Raises ``DataFileError``; nothing is written then."""
    images, labels = load_digits_npz(Path(path).expanduser(), shown=os.fspath(path))
    target = digits28_path(_folder(data_dir))
    _write_digits28(images, labels, target)
    progress(f"digits28: {len(labels):,} images from {os.fspath(path)} ready in {target}")
    return target


def add_corpus(path: str | os.PathLike, data_dir=None, progress=print) -> Path:
    """Import a user's UTF-8 text as ``corpus.txt`` (replacing one already
    there); returns its path. After lower-casing and keeping only
    ``TEXT_ALPHABET`` it must have ``CORPUS_MIN_CHARACTERS``. Raises
    ``DataFileError``; nothing is written then."""
    name, path = os.fspath(path), Path(path).expanduser()
    if not path.is_file():
        raise DataFileError(f"{name} {'is a folder, not a file' if path.is_dir() else 'does not exist'}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataFileError(f"cannot read {name}: {error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataFileError(f"{name} is not UTF-8 text: byte {data[error.start]:#04x} at offset {error.start:,} "
                            f"is not valid UTF-8; save the text with the UTF-8 encoding") from None
    count = len(external.encode_corpus(text))
    if count < CORPUS_MIN_CHARACTERS:
        raise DataFileError(f"{name} keeps only {count:,} characters after lower-casing and dropping those "
                            f"outside the alphabet ({_ALPHABET_IN_WORDS}); the corpus needs at least "
                            f"{CORPUS_MIN_CHARACTERS:,}: use a longer text")
    target = corpus_path(_folder(data_dir))
    _write_atomically(target, lambda file: file.write(data))
    progress(f"corpus: {count:,} characters from {name} ready in {target}")
    return target


@dataclass(frozen=True)
class FileStatus:
    """One server-only dataset's file: whether it is there and usable."""

    dataset: str
    path: Path
    present: bool
    size: int | None  # bytes
    examples: int | None  # images, or characters of the alphabet
    unit: str
    problem: str | None  # why a file that is there cannot be used

    @property
    def ready(self) -> bool:
        return self.present and self.problem is None

    def describe(self) -> str:
        if not self.present:
            return f"{self.dataset}: missing ({self.path}); {FIXES[self.dataset]}"
        if self.problem:
            return f"{self.dataset}: {self.path} is broken ({self.problem}); {FIXES[self.dataset]}"
        return f"{self.dataset}: {self.path}, {byte_size(self.size)}, {self.examples:,} {self.unit}"


def data_status(data_dir=None) -> dict[str, FileStatus]:
    """Each server-only dataset's file in the data folder: present, size, examples."""
    folder = _folder(data_dir)
    readers = {"digits28": (digits28_path(folder), "images", lambda p: len(external.read_digits28(p)[1])),
               "corpus": (corpus_path(folder), "characters", lambda p: len(external.read_corpus(p)))}
    status = {}
    for dataset, (path, unit, count) in readers.items():
        present = path.is_file()
        size = examples = problem = None
        if present:
            size = path.stat().st_size
            try:
                examples = count(path)
            except (OSError, ValueError) as error:
                problem = str(error)
        status[dataset] = FileStatus(dataset, path, present, size, examples, unit, problem)
    return status


def format_status(status: dict[str, FileStatus]) -> str:
    """``data_status`` as lines for the command line."""
    folder = next(iter(status.values())).path.parent
    lines = [f"data folder: {folder} (set {external.DATA_DIR_ENV} to use another)"]
    lines += [entry.describe() for entry in status.values()]
    return "\n".join(lines)
