"""The README's app command serves a page over real HTTP."""
import socket
import subprocess
import sys
import time
import urllib.request

from .conftest import REPO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_playground_serve_answers_with_the_page():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, body = time.monotonic() + 60, None
        while time.monotonic() < deadline and body is None:
            assert server.poll() is None, f"the server stopped: {server.stdout.read()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200
                    body = response.read().decode()
            except OSError:
                time.sleep(0.3)
        assert body is not None, "no answer within 60 s"
        assert "<title>Neural-network playground</title>" in body
    finally:
        server.terminate()
        server.wait(timeout=20)
