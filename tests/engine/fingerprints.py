"""Deterministic results that must agree between CPython and the browser's
Pyodide: seeded initial weights, seeded datasets, forward outputs, a
training run's losses and validation messages. Plain Python + numpy."""
from __future__ import annotations

from playground.data import make_dataset
from playground.engine import Model, Trainer
from playground.spec import Spec, SpecError, Task

from .cases import case_batch, case_spec

MODELS = ("dense-tanh", "features-7", "conv-valid-multichannel", "maxpool", "gru-stacked-regression",
          "lstm-to-sequence", "rnn-to-one", "loss-cross-entropy-3")
TASKS = (
    Task("circle", noise=0.2), Task("xor", noise=0.1), Task("gauss", noise=0.3), Task("spiral", noise=0.2),
    Task("moons", noise=0.1), Task("checkerboard"), Task("blobs", options={"classes": 5}), Task("plane", noise=0.1),
    Task("multigauss"), Task("digits", samples=100, noise=0.1), Task("shapes", options={"size": 10}),
    Task("sine", noise=0.05), Task("parity"), Task("echo"), Task("brackets"), Task("text"),
)
INVALID = ({"task": {"dataset": "digits"}, "layers": [{"type": "conv2d", "kernel": 9}]},
           {"layers": [{"type": "dense", "unit": 3}]},
           {"training": {"learning_rate": -1}})


def fingerprints() -> dict:
    out = {"models": {}, "datasets": {}, "messages": []}
    for name in MODELS:
        spec = case_spec(name)
        model = Model(spec)
        x, _ = case_batch(spec)
        out["models"][name] = {"params": model.params.tolist(), "output": model.forward(x).tolist()}
    for task in TASKS:
        data = make_dataset(task)
        out["datasets"][task.dataset] = {"x": data.x_train[:6].tolist(), "y": data.y_train[:6].tolist(),
                                         "sizes": [len(data.x_train), len(data.x_test)]}
    spec = case_spec("features-7", optimizer="adam", learning_rate=0.02, batch_size=5, l2=0.001)
    x, labels = case_batch(spec, n=30, seed=4)
    trainer = Trainer(spec, x, labels)
    out["losses"] = [trainer.train_step() for _ in range(60)]
    for raw in INVALID:
        try:
            Spec.from_dict(raw)
            out["messages"].append(None)
        except SpecError as error:
            out["messages"].append(str(error))
    return out
