"""DESIGN §3: the spec needs the standard library only, the engine and data
numpy only, and the app imports without torch."""
import subprocess
import sys

import pytest

from .conftest import REPO

BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ImportError('layering: ' + name + ' must not be imported here')
sys.meta_path.insert(0, Block())
"""


def import_with_blocked(modules, blocked):
    code = BLOCKER.format(blocked=set(blocked)) + "".join(f"import {m}\n" for m in modules)
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("modules, blocked", [
    (["playground.spec"], ["numpy", "panel", "bokeh", "param", "torch", "server"]),
    (["playground.engine", "playground.engine.probes", "playground.data", "playground.frames", "playground.session",
      "playground.snapshot", "playground.worker_api", "playground.spec.edits", "playground.spec.sharing"],
     ["panel", "bokeh", "param", "torch", "server"]),
    (["playground.app.page", "server.cli", "server.web", "server.pyodide_files"], ["torch"]),
])
def test_layer_imports_only_what_it_may(modules, blocked):
    run = import_with_blocked(modules, blocked)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_blocker_really_blocks():
    run = import_with_blocked(["playground.engine"], ["numpy"])
    assert run.returncode != 0 and "layering: numpy" in run.stderr
