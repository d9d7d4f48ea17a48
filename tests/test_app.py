"""The README's app command serves the page, its assets, the Pyodide files
and the engine bundle over real HTTP."""
import io
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile

import pytest

from playground.app.engine_bundle import EngineBundle

from .conftest import REPO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(*options):
        port = free_port()
        log = (tmp_path / f"server-{port}.log").open("w+")
        server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), *options],
                                  cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True)
        servers.append(server)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"the server stopped: {log.seek(0) or log.read()}"
            try:
                urllib.request.urlopen(url, timeout=5).close()
                return url, log
            except OSError:
                assert time.monotonic() < deadline, "no answer within 60 s"
                time.sleep(0.3)

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=20)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers, response.read()


def test_page_assets_pyodide_and_engine_bundle(serve, pyodide_dir):
    url, _ = serve("--pyodide-dir", str(pyodide_dir))
    status, _, body = get(url)
    page = body.decode()
    assert status == 200 and "<title>Neural-network playground</title>" in page
    status, headers, body = get(url + "pyodide/pyodide.asm.wasm")
    assert headers["Content-Type"] == "application/wasm", "without it Pyodide hangs"
    assert body == (pyodide_dir / "pyodide.asm.wasm").read_bytes()
    status, headers, body = get(url + "assets/worker.js")
    assert status == 200 and b"loadPyodide" in body
    version = EngineBundle.build().version  # the page asks for engine.zip?v=<this>
    status, headers, body = get(f"{url}engine.zip?v={version}")
    assert headers["Content-Type"] == "application/zip" and "immutable" in headers["Cache-Control"]
    assert "playground/worker_api.py" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    _, headers, _ = get(url + "engine.zip")
    assert headers["Cache-Control"] == "no-cache"


def test_missing_pyodide_files_are_reported_at_start(serve, tmp_path):
    empty = tmp_path / "no-pyodide"
    url, log = serve("--pyodide-dir", str(empty))
    assert get(url)[0] == 200, "the page is served anyway; it says what is wrong"
    log.seek(0)
    assert "Run: playground pyodide fetch" in log.read()
