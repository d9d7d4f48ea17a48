"""The server-only datasets: fetching MNIST once (from a local HTTP server,
never the internet), importing a user's files with a clear error for every
kind of broken one, the datasets made from those files, and the
``playground data`` commands."""
from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile

import numpy as np
import pytest

from playground.data import decode_text, encode_text, load_corpus, make_dataset
from playground.data import external
from playground.data.resources import read_bytes
from playground.spec import TEXT_ALPHABET, Spec, SpecError, Task, plan_layers
from server import data_files
from server.cli import main
from server.data_files import DataFileError, add_corpus, add_digits28, data_status, fetch_digits28
from server.downloads import byte_size

N_TRAIN, N_TEST = 150, 50


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Every test gets its own, empty data folder."""
    folder = tmp_path / "data"
    monkeypatch.setenv(external.DATA_DIR_ENV, str(folder))
    return folder


def _digits(count: int, seed: int):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)  # 20 of each digit in all
    return images, labels


@pytest.fixture
def mnist(tmp_path):
    """A small file laid out as MNIST's mnist.npz: (path, sha256, images, labels)."""
    x_train, y_train = _digits(N_TRAIN, 1)
    x_test, y_test = _digits(N_TEST, 2)
    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return path, sha256, np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])


WORDS = ("the quick brown fox jumps over a lazy dog; and then, what? it's well-known: "
         "neurons learn! Slowly.").split()


@pytest.fixture
def text_file(tmp_path):
    """About 15 kB of text, with characters the corpus drops (digits, tabs, é)."""
    rng = np.random.default_rng(3)
    lines = [" ".join(rng.choice(WORDS, size=12)) + f"\t{i} café\r\n" for i in range(250)]
    path = tmp_path / "book.txt"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


class _Server:
    """A local HTTP server that serves given bytes and counts the requests."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.requests = files, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(mnist):
    served = _Server({"/mnist.npz": mnist[0].read_bytes()})
    yield served
    served.close()


def _leftovers(folder):
    return sorted(p.name for p in folder.glob(".*")) if folder.exists() else []


# --- fetching ----------------------------------------------------------------------------

def test_fetch_downloads_once_checks_and_writes_the_canonical_file(server, mnist, data_dir, monkeypatch):
    monkeypatch.setattr(data_files, "PROGRESS_EVERY_S", 0.0)
    _, sha256, images, labels = mnist
    said = []
    target = fetch_digits28(server.url("/mnist.npz"), progress=said.append, sha256=sha256)
    assert target == data_dir / "digits28.npz" and server.requests == ["/mnist.npz"]
    with np.load(target) as archive:
        assert sorted(archive.files) == ["images", "labels"]
        assert archive["images"].dtype == np.uint8 and archive["labels"].dtype == np.uint8
        np.testing.assert_array_equal(archive["images"], images)  # train, then test
        np.testing.assert_array_equal(archive["labels"], labels)
    assert any("downloading" in line for line in said)
    size = len(mnist[0].read_bytes())
    assert any(f"100%, {byte_size(size)} of {byte_size(size)}" in line for line in said)
    assert "200 images ready" in said[-1]
    assert _leftovers(data_dir) == []

    said.clear()
    assert fetch_digits28(server.url("/mnist.npz"), progress=said.append, sha256=sha256) == target
    assert server.requests == ["/mnist.npz"]  # cached: no second download
    assert "already" in said[0] and "200 images" in said[0]


def test_a_wrong_sha256_keeps_nothing(server, data_dir):
    with pytest.raises(DataFileError, match="wrong sha256: expected 0{64}, got [0-9a-f]{64}.*nothing was kept"):
        fetch_digits28(server.url("/mnist.npz"), progress=lambda line: None, sha256="0" * 64)
    assert not (data_dir / "digits28.npz").exists()
    assert _leftovers(data_dir) == []


def test_the_default_checksum_is_mnists(server):
    # Without sha256 given, MNIST's own is expected, which the small fixture is not.
    with pytest.raises(DataFileError, match=data_files.MNIST_SHA256):
        fetch_digits28(server.url("/mnist.npz"), progress=lambda line: None)


def test_fetch_from_a_path_or_a_file_url(mnist, data_dir):
    path, sha256, images, _ = mnist
    fetch_digits28(path.as_uri(), progress=lambda line: None, sha256=sha256)
    np.testing.assert_array_equal(external.read_digits28(data_dir / "digits28.npz")[0], images)
    (data_dir / "digits28.npz").unlink()
    fetch_digits28(str(path), progress=lambda line: None, sha256=None)  # None: not checked
    assert (data_dir / "digits28.npz").is_file()


def test_fetch_failures_say_what_and_what_to_do(server, tmp_path, data_dir):
    with pytest.raises(DataFileError, match=r"HTTP 404.*playground data add digits28 FILE\.npz"):
        fetch_digits28(server.url("/missing.npz"), progress=lambda line: None)
    with pytest.raises(DataFileError, match=r"source .*nowhere\.npz does not exist"):
        fetch_digits28(tmp_path / "nowhere.npz", progress=lambda line: None)
    assert not (data_dir / "digits28.npz").exists() and _leftovers(data_dir) == []


def test_a_broken_canonical_file_is_fetched_again(server, mnist, data_dir):
    data_dir.mkdir()
    (data_dir / "digits28.npz").write_bytes(b"not a zip")
    said = []
    fetch_digits28(server.url("/mnist.npz"), progress=said.append, sha256=mnist[1])
    assert "broken" in said[0] and server.requests == ["/mnist.npz"]
    assert len(external.read_digits28(data_dir / "digits28.npz")[1]) == N_TRAIN + N_TEST


# --- importing a user's digits ----------------------------------------------------------------

def _corrupt_member(path):
    """A valid, uncompressed npz with one byte of an array's data changed (bad CRC)."""
    images, labels = _digits(20, 4)
    np.savez(path, images=images, labels=labels)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def _images(count=200, **changes):
    images, labels = _digits(count, 5)
    arrays = {"images": images, "labels": labels}
    arrays.update(changes)
    return {key: value for key, value in arrays.items() if value is not None}


BROKEN = {
    "not a zip": (lambda p: p.write_text("images,labels\n"), "not an .npz file"),
    "a folder": (lambda p: p.mkdir(), "is a folder"),
    "unknown keys": (lambda p: np.savez(p, pixels=np.zeros((2, 28, 28))),
                     "neither the arrays 'images' and 'labels' nor MNIST's .*its arrays: 'pixels'"),
    "no labels": (lambda p: np.savez(p, **_images(labels=None)), "has no key 'labels'"),
    "MNIST without y_test": (lambda p: np.savez(p, x_train=_digits(5, 1)[0], y_train=_digits(5, 1)[1],
                                                x_test=_digits(5, 1)[0]), "has no key 'y_test'"),
    "wrong shape": (lambda p: np.savez(p, **_images(images=np.zeros((200, 28, 27), np.uint8))),
                    r"key 'images' has shape \(200, 28, 27\); images must have the shape \(N, 28, 28\) or \(N, 784\)"),
    "no images": (lambda p: np.savez(p, **_images(images=np.zeros((0, 784), np.uint8), labels=np.zeros(0, np.uint8))),
                  "key 'images' holds no images"),
    "floats above 1": (lambda p: np.savez(p, **_images(images=np.full((200, 28, 28), 255.0))),
                       "key 'images' holds floats from 255 to 255; float pixels must be in \\[0, 1\\]"),
    "NaN pixels": (lambda p: np.savez(p, **_images(images=np.full((200, 784), np.nan, np.float32))),
                   "key 'images' holds NaN"),
    "integers above 255": (lambda p: np.savez(p, **_images(images=np.full((200, 28, 28), 300, np.int16))),
                           "key 'images' holds values from 300 to 300; integer pixels must be 0..255"),
    "text pixels": (lambda p: np.savez(p, **_images(images=np.full((200, 28, 28), "x"))),
                    "key 'images' has dtype <U1"),
    "pickled objects": (lambda p: np.savez(p, **_images(images=np.empty((200, 28, 28), object))),
                        "key 'images' holds Python objects"),
    "labels out of range": (lambda p: np.savez(p, **_images(labels=np.arange(200) % 11)),
                            "key 'labels' has labels out of range: 10 at index 10 \\(18 in all\\); digits are 0 to 9"),
    "negative labels": (lambda p: np.savez(p, **_images(labels=-np.ones(200, np.int8))),
                        "key 'labels' has labels out of range: -1 at index 0"),
    "float labels": (lambda p: np.savez(p, **_images(labels=np.zeros(200))),
                     "key 'labels' has dtype float64; labels must be whole numbers"),
    "labels of another length": (lambda p: np.savez(p, **_images(labels=np.zeros(199, np.uint8))),
                                 "key 'labels' has 199 labels but 'images' has 200 images"),
    "labels as a column": (lambda p: np.savez(p, **_images(labels=np.zeros((200, 1), np.uint8))),
                           r"key 'labels' has shape \(200, 1\)"),
    "MNIST test labels out of range": (
        lambda p: np.savez(p, x_train=_digits(5, 1)[0], y_train=_digits(5, 1)[1], x_test=_digits(5, 1)[0],
                           y_test=np.full(5, 12, np.uint8)), "key 'y_test' has labels out of range: 12"),
    "a damaged member": (_corrupt_member, "cannot be read, the file is damaged"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_every_broken_digits_file_gets_a_clear_error_and_nothing_is_written(case, tmp_path, data_dir):
    make, message = BROKEN[case]
    path = tmp_path / "mine.npz"
    make(path)
    with pytest.raises(DataFileError, match=message) as raised:
        add_digits28(path, progress=lambda line: None)
    assert str(raised.value).startswith(str(path))
    assert not (data_dir / "digits28.npz").exists() and _leftovers(data_dir) == []


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataFileError, match=r"nothing\.npz does not exist"):
        add_digits28(tmp_path / "nothing.npz", progress=lambda line: None)


def test_flat_float_images_and_any_integer_labels_are_accepted(tmp_path, data_dir):
    images, labels = _digits(30, 6)
    path = tmp_path / "floats.npz"
    np.savez(path, images=(images / 255.0).reshape(30, 784).astype(np.float32), labels=labels.astype(np.int64))
    said = []
    target = add_digits28(path, progress=said.append)
    stored_images, stored_labels = external.read_digits28(target)
    np.testing.assert_array_equal(stored_images, images)
    np.testing.assert_array_equal(stored_labels, labels)
    assert "30 images" in said[-1]
    # An MNIST-style file replaces it.
    np.savez(path, x_train=images[:20], y_train=labels[:20], x_test=images[20:], y_test=labels[20:])
    add_digits28(path, progress=lambda line: None)
    assert len(external.read_digits28(target)[1]) == 30


# --- importing a corpus --------------------------------------------------------------------

def test_add_corpus_keeps_the_text(text_file, data_dir):
    said = []
    target = add_corpus(text_file, progress=said.append)
    assert target == data_dir / "corpus.txt" and target.read_bytes() == text_file.read_bytes()
    assert "characters" in said[-1]


@pytest.mark.parametrize("content, message", [
    ("Too short.\n" * 100, r"keeps only 1,100 characters .*a–z, space, newline and ! ' , - \. : ; \?.*at least 10,000"),
    ("12345 \u4e2d\u6587" * 5000, "keeps only 5,000 characters"),
    (b"ok\xff" * 5000, "is not UTF-8 text: byte 0xff at offset 2 "),
])
def test_a_bad_corpus_is_refused(content, message, tmp_path, data_dir):
    path = tmp_path / "bad.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(DataFileError, match=message):
        add_corpus(path, progress=lambda line: None)
    assert not (data_dir / "corpus.txt").exists()


def test_the_corpus_is_cleaned_as_the_bundled_text_is():
    tricky = "Hello,\r\nWORLD\t42 — café; \u212a is a Kelvin sign? ok!\n"
    expected = "".join(c for c in tricky.replace("\r\n", "\n").lower() if c in TEXT_ALPHABET)
    assert decode_text(external.encode_corpus(tricky)) == expected
    bundled = read_bytes("corpus.txt").decode("utf-8")
    np.testing.assert_array_equal(external.encode_corpus(bundled), encode_text(load_corpus()))


# --- the datasets ----------------------------------------------------------------------------

def test_digits28_dataset(mnist, data_dir):
    path, sha256, images, labels = mnist
    add_digits28(path, progress=lambda line: None)
    task = Task("digits28", samples=100, noise=0.2, train_ratio=0.8)
    data = make_dataset(task)
    assert data.x_train.shape == (80, 1, 28, 28) and data.x_test.shape == (20, 1, 28, 28)
    assert data.x_train.dtype == np.float64 and data.y_train.dtype == np.int64
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0 and data.classes == 10
    y = np.concatenate([data.y_train, data.y_test])
    assert np.bincount(y, minlength=10).tolist() == [10] * 10  # class-balanced
    again = make_dataset(task)
    other = make_dataset(Task("digits28", samples=100, noise=0.2, train_ratio=0.8, seed=2))
    np.testing.assert_array_equal(data.x_train, again.x_train)
    np.testing.assert_array_equal(data.y_test, again.y_test)
    assert not np.array_equal(data.x_train, other.x_train)
    # Without noise every input is one of the file's images, pixels / 255, with its label.
    clean = make_dataset(Task("digits28", samples=200), dtype=np.float32)
    assert clean.x_train.dtype == np.float32
    by_image = {image.tobytes(): label for image, label in zip(images, labels)}
    for x, label in zip(clean.x_train, clean.y_train):
        pixels = np.rint(x[0] * 255.0).astype(np.uint8)
        assert by_image[pixels.tobytes()] == label


def test_corpus_dataset(text_file):
    add_corpus(text_file, progress=lambda line: None)
    task = Task("corpus", samples=50, options={"length": 20})
    data = make_dataset(task)
    assert data.x_train.shape == (25, 20, len(TEXT_ALPHABET)) and data.y_train.shape == (25, 20)
    assert data.y_train.dtype == np.int64 and data.classes == len(TEXT_ALPHABET)
    assert (data.x_train.sum(axis=2) == 1).all()  # one-hot
    tokens = data.x_train.argmax(axis=2)
    np.testing.assert_array_equal(tokens[:, 1:], data.y_train[:, :-1])  # the target is the next character
    cleaned = decode_text(external.encode_corpus(text_file.read_text("utf-8")))
    for window, target in zip(tokens, data.y_train):
        assert decode_text(window) + decode_text(target[-1:]) in cleaned
    again = make_dataset(task)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    other = make_dataset(Task("corpus", samples=50, seed=7, options={"length": 20}))
    assert not np.array_equal(data.y_train, other.y_train)
    assert make_dataset(Task("corpus", samples=10), dtype=np.float32).x_train.dtype == np.float32


@pytest.mark.parametrize("dataset, command", [
    ("digits28", "run `playground data fetch digits28`, or `playground data add digits28 FILE.npz`"),
    ("corpus", "run `playground data add corpus FILE.txt`"),
])
def test_a_missing_or_broken_file_names_the_command(dataset, command, data_dir):
    name = {"digits28": "digits28.npz", "corpus": "corpus.txt"}[dataset]
    with pytest.raises(SpecError) as raised:
        make_dataset(Task(dataset, samples=20))
    assert raised.value.path == "task.dataset"
    assert f"not on this server (no {data_dir / name})" in str(raised.value) and command in str(raised.value)
    data_dir.mkdir()
    (data_dir / name).write_bytes(b"\xff\xfe broken")
    with pytest.raises(SpecError, match="is broken") as raised:
        make_dataset(Task(dataset, samples=20))
    assert command in str(raised.value) and raised.value.path == "task.dataset"


def test_more_samples_than_images_is_a_clear_error(mnist):
    add_digits28(mnist[0], progress=lambda line: None)
    with pytest.raises(SpecError, match="samples 300 is more than the 200 28×28 digits") as raised:
        make_dataset(Task("digits28", samples=300))
    assert raised.value.path == "task.samples"


def test_the_spec_sizes_of_the_server_datasets():
    digits = Spec.from_dict({"task": {"dataset": "digits28", "samples": 25_000},
                             "layers": [{"type": "flatten"}, {"type": "dense", "units": 32}]})
    assert plan_layers(digits)[0].input_shape == (1, 28, 28) and plan_layers(digits)[-1].output_shape == (10,)
    with pytest.raises(SpecError, match="samples must be from 10 to 25,000"):
        Spec.from_dict({"task": {"dataset": "digits28", "samples": 25_001}})
    longest = Spec.from_dict({"task": {"dataset": "corpus", "options": {"length": 128}},
                              "layers": [{"type": "gru", "units": 8}]})
    assert plan_layers(longest)[-1].output_shape == (128, len(TEXT_ALPHABET))


# --- status and the command line ----------------------------------------------------------

def test_data_status(mnist, text_file, data_dir):
    status = data_status()
    assert not status["digits28"].present and not status["corpus"].present
    add_digits28(mnist[0], progress=lambda line: None)
    add_corpus(text_file, progress=lambda line: None)
    status = data_status()
    assert status["digits28"].ready and status["digits28"].examples == 200
    assert status["digits28"].size == (data_dir / "digits28.npz").stat().st_size
    assert status["corpus"].examples == len(external.encode_corpus(text_file.read_text("utf-8")))
    (data_dir / "corpus.txt").write_bytes(b"tiny")
    assert "at least 10,000" in data_status()["corpus"].problem


def test_the_data_commands(mnist, text_file, server, tmp_path, data_dir, capsys):
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert f"data folder: {data_dir}" in out and "digits28: missing" in out and "corpus: missing" in out

    assert main(["data", "add", "digits28", str(text_file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"playground data: {text_file} is not an .npz file")

    assert main(["data", "fetch", "digits28", "--from", server.url("/mnist.npz")]) == 1
    assert "playground data: mnist.npz from" in capsys.readouterr().err  # the fixture is not MNIST
    assert not (data_dir / "digits28.npz").exists()

    assert main(["data", "add", "digits28", str(mnist[0])]) == 0
    assert "200 images" in capsys.readouterr().out
    requests = len(server.requests)
    assert main(["data", "fetch", "digits28"]) == 0  # already there: no download at all
    assert "already" in capsys.readouterr().out and len(server.requests) == requests

    short = tmp_path / "short.txt"
    short.write_text("hello\n")
    assert main(["data", "add", "corpus", str(short)]) == 1
    assert "playground data: " in capsys.readouterr().err
    assert main(["data", "add", "corpus", str(text_file)]) == 0
    capsys.readouterr()
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "200 images" in out and "characters" in out


def test_a_bad_zip_member_reads_as_broken_in_the_data_layer(tmp_path, data_dir):
    data_dir.mkdir()
    _corrupt_member(data_dir / "digits28.npz")
    with pytest.raises(SpecError, match="is broken"):
        make_dataset(Task("digits28", samples=10))
    assert zipfile.is_zipfile(data_dir / "digits28.npz")
