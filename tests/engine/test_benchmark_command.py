"""The benchmark command prints its figures and writes the same as JSON
(speed is measured by the command, never asserted by a test)."""
import json
import subprocess
import sys

from ..conftest import REPO


def test_bench_engine_prints_and_writes_json(tmp_path):
    out = tmp_path / "engine.json"
    run = subprocess.run([sys.executable, "-m", "server.cli", "bench", "engine", "--seconds", "0.05",
                          "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    results = report["results"]
    for precision in ("float64", "float32"):
        classic = results[f"classic_{precision}"]
        assert set(classic) == {"train_steps_per_s", "grid_evaluations_per_s", "ticks_per_s"}
        assert all(value > 0 for value in classic.values())
    assert results["digits_cnn_examples_per_s"] > 0 and results["parity_gru_examples_per_s"] > 0
    assert f"{results['classic_float64']['ticks_per_s']:10.1f}" in run.stdout
    assert report["machine"]["numpy"]
