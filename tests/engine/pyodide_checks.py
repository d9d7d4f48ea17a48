"""Runs inside Pyodide (Python 3.12, numpy 2.0.2), started by
run_in_pyodide.js: the gradient checks, the learning recipes and the
fingerprints, reported as JSON on the last line of output."""
import json
import sys
import time
import traceback

import numpy as np

from tests.engine import recipes
from tests.engine.cases import CASES, case_batch, case_spec
from tests.engine.fingerprints import fingerprints
from tests.engine.gradcheck import check_input_gradient, check_parameter_gradients


def run(name, check):
    start = time.perf_counter()
    try:
        value = check()
        results[name] = {"ok": True, "value": value}
    except Exception:
        results[name] = {"ok": False, "error": traceback.format_exc(limit=3)}
    results[name]["seconds"] = round(time.perf_counter() - start, 3)


def gradients(name):
    spec = case_spec(name)
    x, labels = case_batch(spec)
    return check_parameter_gradients(spec, x, labels) + check_input_gradient(spec, x, labels)


results = {}
for case in sorted(CASES):
    run(f"gradients/{case}", lambda case=case: gradients(case))
run("learning/xor_float64", lambda: recipes.xor_training_accuracy(np.float64))
run("learning/xor_float32", lambda: recipes.xor_training_accuracy(np.float32))
run("learning/spiral", recipes.spiral_training_accuracy)
run("learning/digits_cnn", recipes.digits_test_accuracy)
run("learning/parity_gru_mistakes", recipes.parity_mistakes)
report = {"python": sys.version.split()[0], "numpy": np.__version__, "results": results,
          "fingerprints": fingerprints()}
print(json.dumps(report))
