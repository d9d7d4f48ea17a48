"""`playground pyodide fetch`: the pinned Pyodide files land checked, or not at all.

Real files and real HTTP, on the loopback interface only (never the CDN)."""
import contextlib
import functools
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from server.pyodide_files import (CORE_FILES, DEFAULT_SOURCE, PACKAGES, PYODIDE_VERSION, PyodideFetchError,
                                  check_pyodide, default_destination, fetch_pyodide)

from .conftest import REPO, _missing

NUMPY_WHEEL = "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
NUMPY_SHA256 = "ebb61241d962b98b21597d7ce43b67668a6d5bab3acec4fbe958657320d7cd08"
ALL_FILES = (*CORE_FILES, NUMPY_WHEEL)
# Loopback requests must never go through a proxy.
NO_PROXY = {"no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sums(folder: Path) -> dict:
    """The official SHA256SUMS beside the files, if there is one."""
    table = folder / "SHA256SUMS"
    if not table.is_file():
        return {}
    return {name.strip(): digest for digest, name in (line.split(None, 1) for line in table.read_text().splitlines()
                                                       if line.strip())}


@pytest.fixture(scope="session")
def source(pyodide_dir) -> Path:
    """The official files (the conftest's pyodide_dir), with everything fetch needs."""
    missing = [name for name in ALL_FILES if not (pyodide_dir / name).is_file()]
    if missing:
        pytest.skip(f"{pyodide_dir} lacks {', '.join(missing)}")
    return pyodide_dir


@pytest.fixture
def copy(source, tmp_path) -> Path:
    """A writable copy of the source folder, to break."""
    folder = tmp_path / "source"
    folder.mkdir()
    for name in ALL_FILES:
        (folder / name).write_bytes((source / name).read_bytes())
    return folder


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name, value in NO_PROXY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PLAYGROUND_PYODIDE_SOURCE", raising=False)


@contextlib.contextmanager
def serving(folder: Path):
    """A real HTTP server for ``folder`` on 127.0.0.1 (random port), in a thread."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def leftovers(folder: Path) -> list:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".") or path.suffix == ".part")


def test_the_pinned_table_matches_the_official_sums():
    folders = [os.environ.get("PLAYGROUND_PYODIDE_SOURCE"), os.environ.get("PLAYGROUND_PYODIDE_DIR"),
               REPO.parent / "shared" / "pyodide" / "0.27.7"]
    official = next((sums(Path(folder)) for folder in folders if folder and sums(Path(folder))), {})
    if not official:
        _missing("no official SHA256SUMS found (in ../shared/pyodide/0.27.7 or $PLAYGROUND_PYODIDE_SOURCE)")
    assert PYODIDE_VERSION == "0.27.7" and DEFAULT_SOURCE == "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/"
    assert set(CORE_FILES) == {"pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
                               "python_stdlib.zip", "pyodide-lock.json", "package.json"}
    assert {name: official[name] for name in CORE_FILES} == CORE_FILES
    assert official[NUMPY_WHEEL] == NUMPY_SHA256 and PACKAGES == ("numpy",)
    assert default_destination() == REPO / "static" / "pyodide"


def test_fetch_from_a_local_folder_then_keep_what_is_there(source, tmp_path):
    destination = tmp_path / "a" / "pyodide"
    lines = []
    paths = fetch_pyodide(destination, str(source), progress=lines.append)
    assert sorted(path.name for path in paths) == sorted(ALL_FILES)
    assert sorted(path.name for path in destination.iterdir()) == sorted(ALL_FILES)
    assert {name: sha256(destination / name) for name in CORE_FILES} == CORE_FILES
    assert sha256(destination / NUMPY_WHEEL) == NUMPY_SHA256
    assert all(any(line.startswith(f"{name}: copied") for line in lines) for name in ALL_FILES), lines
    assert check_pyodide(destination) == []

    before = {name: (destination / name).stat().st_mtime_ns for name in ALL_FILES}
    inodes = {name: (destination / name).stat().st_ino for name in ALL_FILES}
    lines.clear()
    again = fetch_pyodide(destination, source, progress=lines.append)  # a Path works too
    assert again == paths
    assert all(f"{name}: already there (sha256 ok)" in lines for name in ALL_FILES), lines
    assert not any("copied" in line for line in lines)
    assert {name: (destination / name).stat().st_mtime_ns for name in ALL_FILES} == before
    assert {name: (destination / name).stat().st_ino for name in ALL_FILES} == inodes


def test_a_file_url_and_the_environment_variable_are_sources(source, tmp_path, monkeypatch):
    fetch_pyodide(tmp_path / "by-url", source.as_uri(), progress=lambda line: None)
    assert check_pyodide(tmp_path / "by-url") == []
    monkeypatch.setenv("PLAYGROUND_PYODIDE_SOURCE", str(source))
    fetch_pyodide(tmp_path / "by-env", progress=lambda line: None)
    assert check_pyodide(tmp_path / "by-env") == []


def test_a_wrong_file_in_the_destination_is_replaced(source, tmp_path):
    destination = tmp_path / "pyodide"
    destination.mkdir()
    (destination / "pyodide.js").write_text("not pyodide")
    (destination / ".pyodide.asm.wasm.x1y2.part").write_bytes(b"half a file")  # an interrupted run
    lines = []
    fetch_pyodide(destination, source, progress=lines.append)
    assert "pyodide.js: present but its sha256 differs; fetching it again" in lines
    assert sha256(destination / "pyodide.js") == CORE_FILES["pyodide.js"]
    assert leftovers(destination) == []


def test_fetch_over_http(copy, tmp_path, monkeypatch):
    import server.pyodide_files as files
    monkeypatch.setattr(files, "PROGRESS_EVERY_S", 0.0)  # every block counts as slow: show percentages
    destination = tmp_path / "pyodide"
    lines = []
    with serving(copy) as url:
        paths = fetch_pyodide(destination, url, progress=lines.append)
        assert sorted(path.name for path in paths) == sorted(ALL_FILES)
        assert check_pyodide(destination) == []
        assert any(line.startswith("pyodide.asm.wasm: downloading 10.1 MB from http://127.0.0.1:")
                   for line in lines), lines
        assert any(line.startswith("pyodide.asm.wasm: ") and "% (" in line and "of 10.1 MB)" in line
                   for line in lines), lines
        assert "pyodide.asm.wasm: downloaded, 10.1 MB, sha256 ok" in lines
        lines.clear()
        fetch_pyodide(destination, url.rstrip("/"), progress=lines.append)  # no trailing slash
        assert all(f"{name}: already there (sha256 ok)" in lines for name in ALL_FILES), lines
    assert leftovers(destination) == []


@pytest.mark.parametrize("over_http", [False, True], ids=["folder", "http"])
def test_a_corrupt_file_never_lands(copy, tmp_path, over_http):
    wasm = copy / "pyodide.asm.wasm"
    data = bytearray(wasm.read_bytes())
    data[len(data) // 2: len(data) // 2 + 16] = bytes(b ^ 0xFF for b in data[len(data) // 2: len(data) // 2 + 16])
    wasm.write_bytes(bytes(data))
    destination = tmp_path / "pyodide"
    with serving(copy) if over_http else contextlib.nullcontext(str(copy)) as where:
        with pytest.raises(PyodideFetchError) as caught:
            fetch_pyodide(destination, where, progress=lambda line: None)
    message = str(caught.value)
    assert "pyodide.asm.wasm" in message and "sha256" in message
    assert CORE_FILES["pyodide.asm.wasm"] in message and hashlib.sha256(data).hexdigest() in message
    assert "corrupt" in message and "0.27.7" in message
    assert not (destination / "pyodide.asm.wasm").exists()
    assert leftovers(destination) == []
    assert any("pyodide.asm.wasm" in problem for problem in check_pyodide(destination))


def test_a_file_missing_in_the_source_folder(copy, tmp_path):
    (copy / "python_stdlib.zip").unlink()
    with pytest.raises(PyodideFetchError, match=r"python_stdlib\.zip is missing in the source folder"):
        fetch_pyodide(tmp_path / "pyodide", copy, progress=lambda line: None)
    assert not (tmp_path / "pyodide" / "python_stdlib.zip").exists()
    assert leftovers(tmp_path / "pyodide") == []


def test_a_file_missing_over_http_is_a_404(copy, tmp_path):
    (copy / "python_stdlib.zip").unlink()
    with serving(copy) as url:
        with pytest.raises(PyodideFetchError) as caught:
            fetch_pyodide(tmp_path / "pyodide", url, progress=lambda line: None)
    message = str(caught.value)
    assert "python_stdlib.zip is missing at the source" in message and "HTTP 404" in message
    assert url + "python_stdlib.zip" in message
    assert leftovers(tmp_path / "pyodide") == []


def test_a_missing_source_folder(tmp_path):
    with pytest.raises(PyodideFetchError, match="source folder .*nowhere does not exist"):
        fetch_pyodide(tmp_path / "pyodide", tmp_path / "nowhere", progress=lambda line: None)


def test_an_unreachable_url_fails_quickly_and_says_what_to_do(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/"
    start = time.monotonic()
    with pytest.raises(PyodideFetchError) as caught:
        fetch_pyodide(tmp_path / "pyodide", url, progress=lambda line: None)
    assert time.monotonic() - start < 10
    message = str(caught.value)
    assert "pyodide-lock.json" in message and url in message
    assert "--from" in message and "PLAYGROUND_PYODIDE_SOURCE" in message


def test_a_server_that_never_answers_times_out(tmp_path):
    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        start = time.monotonic()
        with pytest.raises(PyodideFetchError, match=r"no answer within 0\.5 s.*--from"):
            fetch_pyodide(tmp_path / "pyodide", url, progress=lambda line: None, timeout=0.5)
        assert time.monotonic() - start < 10


def test_a_lock_without_numpy_is_refused(copy, tmp_path, monkeypatch):
    import json

    import server.pyodide_files as files
    lock = json.loads((copy / "pyodide-lock.json").read_text())
    del lock["packages"]["numpy"]
    (copy / "pyodide-lock.json").write_text(json.dumps(lock))
    monkeypatch.setitem(files.CORE_FILES, "pyodide-lock.json", sha256(copy / "pyodide-lock.json"))
    with pytest.raises(PyodideFetchError, match="no usable entry for the package 'numpy'"):
        fetch_pyodide(tmp_path / "pyodide", copy, progress=lambda line: None)


def test_check_reports_missing_and_corrupt_files(source, tmp_path):
    folder = tmp_path / "pyodide"
    assert "does not exist" in check_pyodide(folder)[0]
    fetch_pyodide(folder, source, progress=lambda line: None)
    (folder / "pyodide.mjs").unlink()
    (folder / NUMPY_WHEEL).write_bytes(b"PK not numpy")
    problems = check_pyodide(folder)
    assert len(problems) == 2, problems
    assert "pyodide.mjs is missing" in problems[0]
    assert NUMPY_WHEEL in problems[1] and "wrong sha256" in problems[1] and NUMPY_SHA256 in problems[1]
    assert all("playground pyodide fetch" in problem for problem in problems)


def run_cli(*args):
    env = {**os.environ, **NO_PROXY}
    env.pop("PLAYGROUND_PYODIDE_SOURCE", None)
    return subprocess.run([sys.executable, "-m", "server.cli", "pyodide", "fetch", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_fetches_and_says_it_is_ready(source, tmp_path):
    destination = tmp_path / "pyodide"
    run = run_cli("--from", str(source), "--dest", str(destination))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == \
        f"Pyodide 0.27.7 is ready in {destination} ({len(ALL_FILES)} files checked)"
    assert check_pyodide(destination) == []


def test_cli_reports_a_bad_source_without_a_traceback(tmp_path):
    run = run_cli("--from", str(tmp_path / "nowhere"), "--dest", str(tmp_path / "pyodide"))
    assert run.returncode == 1
    assert "nowhere does not exist" in run.stderr and "Traceback" not in run.stderr
    assert "is ready" not in run.stdout


def test_the_module_needs_the_standard_library_only():
    code = ("import sys, server.pyodide_files, server.cli\n"
            "heavy = {'torch', 'panel', 'bokeh', 'param', 'numpy'} & {m.split('.')[0] for m in sys.modules}\n"
            "assert not heavy, heavy")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
