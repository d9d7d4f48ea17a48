"""Engine benchmark: prints its figures and writes them as JSON.

Workloads:
- the classic playground's largest setting: 7 input features, 6 hidden
  layers × 8 tanh units, 250 training points, batch 10 — training steps/s,
  evaluations/s of every neuron over a 100×100 grid, and "ticks"/s, a tick
  being what the browser does per frame at one epoch per frame (one epoch,
  train and test loss, every neuron's grid); in float64 and float32;
- a small CNN on the 8×8 digits and a GRU on parity of length 8: examples/s.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from playground.data import grid_points, make_dataset, point_features
from playground.engine import Trainer
from playground.engine.probes import neuron_grid
from playground.spec import FEATURES, Spec

CLASSIC = {
    "task": {"dataset": "spiral", "samples": 500, "train_ratio": 0.5, "features": list(FEATURES)},
    "layers": [{"type": "dense", "units": 8, "activation": "tanh"}] * 6,
    "training": {"batch_size": 10, "learning_rate": 0.03},
}
DIGITS_CNN = {
    "task": {"dataset": "digits"},
    "layers": [{"type": "conv2d", "filters": 8, "kernel": 3, "activation": "relu"},
               {"type": "maxpool", "size": 2}, {"type": "flatten"}],
    "training": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32},
}
PARITY_GRU = {
    "task": {"dataset": "parity", "options": {"length": 8}},
    "layers": [{"type": "gru", "units": 16}],
    "training": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32},
}
GRID = 100


def rate(work, seconds: float) -> float:
    """Calls of ``work`` per second, after one warm-up call."""
    work()
    calls, start = 0, time.perf_counter()
    while True:
        work()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def classic_workload(dtype, seconds: float) -> dict:
    spec = Spec.from_dict(CLASSIC)
    data = make_dataset(spec.task)
    trainer = Trainer.for_dataset(spec, data, dtype=dtype)
    model = trainer.model
    grid = point_features(grid_points(GRID), spec.task.input_features).astype(dtype)
    assert len(data.x_train) == 250

    def tick():
        trainer.train_epoch()
        model.evaluate(data.x_train, data.y_train)
        model.evaluate(data.x_test, data.y_test)
        neuron_grid(model, grid)

    return {
        "train_steps_per_s": rate(trainer.train_step, seconds),
        "grid_evaluations_per_s": rate(lambda: neuron_grid(model, grid), seconds),
        "ticks_per_s": rate(tick, seconds),
    }


def examples_per_second(raw: dict, seconds: float) -> float:
    spec = Spec.from_dict(raw)
    trainer = Trainer.for_dataset(spec, make_dataset(spec.task))
    return rate(trainer.train_step, seconds) * spec.training.batch_size


def run_engine_benchmark(out: str, seconds: float = 2.0) -> dict:
    results = {
        "classic_float64": classic_workload(np.float64, seconds),
        "classic_float32": classic_workload(np.float32, seconds),
        "digits_cnn_examples_per_s": examples_per_second(DIGITS_CNN, seconds),
        "parity_gru_examples_per_s": examples_per_second(PARITY_GRU, seconds),
    }
    report = {
        "benchmark": "engine",
        "workloads": {
            "classic": "7 features, 6 hidden layers x 8 tanh, 250 training points, batch 10; a tick is one "
                       "epoch (25 steps) + train and test loss + every neuron over a 100x100 grid",
            "digits_cnn": "conv 8x3x3 relu, maxpool 2, flatten, dense 10 softmax; Adam, batch 32",
            "parity_gru": "GRU 16 units on parity of length 8, dense 1 tanh; Adam, batch 32",
        },
        "results": results,
        "machine": {"python": sys.version.split()[0], "numpy": np.__version__, "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "seconds_per_measurement": seconds,
    }
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    _print(results, path)
    return report


def _print(results: dict, path: Path) -> None:
    print("Engine benchmark (CPython, numpy)")
    for precision in ("float64", "float32"):
        classic = results[f"classic_{precision}"]
        print(f"  classic workload, {precision}:")
        print(f"    training steps/s (batch 10)          {classic['train_steps_per_s']:10.1f}")
        print(f"    all-neuron 100x100 grids/s           {classic['grid_evaluations_per_s']:10.1f}")
        print(f"    ticks/s (epoch + losses + grids)     {classic['ticks_per_s']:10.1f}")
    print(f"  small CNN on 8x8 digits, examples/s    {results['digits_cnn_examples_per_s']:10.0f}")
    print(f"  GRU on parity (length 8), examples/s   {results['parity_gru_examples_per_s']:10.0f}")
    print(f"Written to {path}")
