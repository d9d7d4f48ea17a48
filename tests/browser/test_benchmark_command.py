"""The browser benchmark command runs in one Chromium and prints and writes
its figures (what they are is measured by the command, never asserted)."""
import json
import subprocess
import sys

from ..conftest import REPO


def test_bench_browser_prints_and_writes_json(tmp_path, pyodide_dir, chromium_path):
    out = tmp_path / "browser.json"
    run = subprocess.run([sys.executable, "-m", "server.cli", "bench", "browser", "--seconds", "1", "--rounds", "1",
                          "--view-seconds", "0",  # the views' rounds take minutes; the command itself is what counts
                          "--out", str(out), "--pyodide-dir", str(pyodide_dir), "--chromium", chromium_path],
                         cwd=REPO, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    results = report["results"]
    for key in ("engine_ticks_per_s", "baseline_js_ticks_per_s", "ratio_engine_to_baseline", "boot_cold_s",
                "boot_warm_s", "worker_train_ms_per_tick", "engine_draw_ms_per_tick"):
        assert results[key] > 0, key
    assert results["engine_steps_per_tick"] == 25, "a tick is one epoch of 250 points at batch 10"
    assert report["machine"]["chromium"].startswith("156.")
    assert f"{results['engine_ticks_per_s']:8.1f}" in run.stdout
    assert "plain-JS per-sample MLP" in run.stdout
