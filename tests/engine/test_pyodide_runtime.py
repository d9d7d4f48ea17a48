"""The engine in the browser's runtime: Pyodide 0.27.7 (Python 3.12.7,
numpy 2.0.2) under Node.js. Every gradient check and learning recipe passes
there, and seeded weights, datasets, outputs, losses and messages agree with
CPython's."""
import json
import subprocess

import numpy as np
import pytest

from ..conftest import REPO
from . import fingerprints as fp


@pytest.fixture(scope="module")
def pyodide_report(node, pyodide_dir):
    run = subprocess.run([node, str(REPO / "tests" / "engine" / "run_in_pyodide.js"), str(pyodide_dir), str(REPO),
                          "tests.engine.pyodide_checks"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"Pyodide run failed ({run.returncode}):\n{run.stderr[-3000:]}"
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_runs_on_the_browsers_python_and_numpy(pyodide_report):
    assert pyodide_report["python"] == "3.12.7"
    assert pyodide_report["numpy"] == "2.0.2"


def test_every_check_passes_in_pyodide(pyodide_report):
    results = pyodide_report["results"]
    failed = {name: result["error"] for name, result in results.items() if not result["ok"]}
    assert not failed, "\n\n".join(f"{name}:\n{error}" for name, error in failed.items())
    assert sum(name.startswith("gradients/") for name in results) >= 30


def test_learning_works_in_pyodide(pyodide_report):
    value = {name: result["value"] for name, result in pyodide_report["results"].items()}
    assert value["learning/xor_float64"] > 0.95 and value["learning/xor_float32"] > 0.95
    assert value["learning/spiral"] > 0.95
    assert value["learning/digits_cnn"] > 0.90
    assert value["learning/parity_gru_mistakes"] == 0


@pytest.fixture(scope="module")
def cpython_fingerprints():
    return fp.fingerprints()


def test_seeded_initial_weights_are_identical(pyodide_report, cpython_fingerprints):
    for name, model in cpython_fingerprints["models"].items():
        assert pyodide_report["fingerprints"]["models"][name]["params"] == model["params"], name


def test_outputs_datasets_and_training_agree(pyodide_report, cpython_fingerprints):
    browser = pyodide_report["fingerprints"]
    for name, model in cpython_fingerprints["models"].items():
        np.testing.assert_allclose(browser["models"][name]["output"], model["output"], rtol=1e-12, atol=1e-14,
                                   err_msg=name)
    for name, data in cpython_fingerprints["datasets"].items():
        assert browser["datasets"][name]["sizes"] == data["sizes"], name
        np.testing.assert_allclose(browser["datasets"][name]["y"], data["y"], rtol=1e-12, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(browser["datasets"][name]["x"], data["x"], rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(browser["losses"], cpython_fingerprints["losses"], rtol=1e-9)
    assert browser["messages"] == cpython_fingerprints["messages"]
    assert all(cpython_fingerprints["messages"])
