"""Shared test fixtures: where the repository, Pyodide and Node are."""
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYODIDE_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")


def _missing(reason: str):
    """In CI a missing runtime is a failure, on a developer's machine a skip."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pyodide_dir() -> Path:
    """The pinned Pyodide 0.27.7 files: $PLAYGROUND_PYODIDE_DIR, the app's
    static/pyodide mirror, or ../shared/pyodide/0.27.7 beside the checkout."""
    candidates = [os.environ.get("PLAYGROUND_PYODIDE_DIR"), REPO / "static" / "pyodide",
                  REPO.parent / "shared" / "pyodide" / "0.27.7"]
    for candidate in candidates:
        if candidate and all((Path(candidate) / name).is_file() for name in PYODIDE_FILES):
            return Path(candidate)
    _missing("no Pyodide 0.27.7 files: set PLAYGROUND_PYODIDE_DIR or put them in ../shared/pyodide/0.27.7")


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if not path:
        _missing("Node.js is not installed (apt-get install -y nodejs)")
    return path
