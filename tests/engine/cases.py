"""Small networks covering every layer type, activation and loss, with
random inputs and labels of the right shapes.

Plain Python + numpy (no pytest), so that the same cases also run inside
Pyodide (see pyodide_checks.py).
"""
from __future__ import annotations

import numpy as np

from playground.spec import ACTIVATIONS, Spec, task_classes, task_input_shape

ECHO = {"dataset": "echo", "options": {"delay": 5, "symbols": 3}}  # 6 steps, one label
SINE = {"dataset": "sine", "options": {"length": 5}}  # 5 steps, a value per step
TEXT = {"dataset": "text", "options": {"length": 4}}  # 4 steps, a class per step
IMAGE = {"dataset": "shapes", "options": {"size": 9, "kinds": ["hbar", "vbar", "cross"]}}


def _case(task, layers, output=None):
    spec = {"task": task, "layers": layers}
    if output:
        spec["output"] = output
    return spec


CASES: dict[str, dict] = {}
for _name in ACTIVATIONS:
    CASES[f"dense-{_name}"] = _case({"dataset": "xor"}, [{"type": "dense", "units": 4, "activation": _name},
                                                         {"type": "dense", "units": 3, "activation": _name}])
CASES.update({
    "features-7": _case({"dataset": "spiral", "features": ["x1", "x2", "x1_squared", "x2_squared", "x1_x2",
                                                           "sin_x1", "sin_x2"]}, [{"type": "dense", "units": 3}]),
    "no-hidden-layer": _case({"dataset": "gauss"}, []),
    "loss-bce": _case({"dataset": "circle"}, [{"type": "dense", "units": 3}],
                      {"activation": "sigmoid", "loss": "binary_cross_entropy"}),
    "loss-squared-sigmoid": _case({"dataset": "circle"}, [{"type": "dense", "units": 3}],
                                  {"activation": "sigmoid", "loss": "squared_error"}),
    "loss-cross-entropy-3": _case({"dataset": "blobs", "options": {"classes": 3}}, [{"type": "dense", "units": 4}]),
    "loss-cross-entropy-2": _case({"dataset": "moons"}, [{"type": "dense", "units": 4}],
                                  {"activation": "softmax", "loss": "cross_entropy"}),
    "regression-linear": _case({"dataset": "multigauss"}, [{"type": "dense", "units": 4}]),
    "regression-tanh": _case({"dataset": "plane"}, [{"type": "dense", "units": 4}],
                             {"activation": "tanh", "loss": "squared_error"}),
    "conv-same-stride1": _case(IMAGE, [{"type": "conv2d", "filters": 2, "kernel": 3, "padding": "same"},
                                       {"type": "flatten"}]),
    "conv-same-stride2": _case(IMAGE, [{"type": "conv2d", "filters": 2, "kernel": 4, "stride": 2,
                                        "padding": "same", "activation": "tanh"}, {"type": "flatten"}]),
    "conv-valid-multichannel": _case(IMAGE, [
        {"type": "conv2d", "filters": 3, "kernel": 3, "padding": "valid", "activation": "swish"},
        {"type": "conv2d", "filters": 2, "kernel": 2, "stride": 2, "padding": "valid", "activation": "tanh"},
        {"type": "flatten"}]),
    "maxpool": _case(IMAGE, [{"type": "conv2d", "filters": 2, "kernel": 3, "activation": "tanh"},
                             {"type": "maxpool", "size": 2}, {"type": "flatten"}]),
    "maxpool-overlapping": _case(IMAGE, [{"type": "conv2d", "filters": 2, "kernel": 3, "activation": "tanh"},
                                         {"type": "maxpool", "size": 3, "stride": 2}, {"type": "flatten"}]),
    "avgpool": _case(IMAGE, [{"type": "conv2d", "filters": 2, "kernel": 3, "activation": "tanh"},
                             {"type": "avgpool", "size": 2}, {"type": "flatten"}]),
    "dropout": _case({"dataset": "xor"}, [{"type": "dense", "units": 5}, {"type": "dropout", "rate": 0.4},
                                          {"type": "dense", "units": 3}]),
    "sequence-dense-only": _case(TEXT, [{"type": "dense", "units": 3}]),
    "sequence-flatten": _case(ECHO, [{"type": "flatten"}, {"type": "dense", "units": 3}]),
})
for _cell in ("rnn", "gru", "lstm"):
    CASES[f"{_cell}-to-one"] = _case(ECHO, [{"type": _cell, "units": 4}])
    CASES[f"{_cell}-to-sequence"] = _case(TEXT, [{"type": _cell, "units": 4}])
    CASES[f"{_cell}-stacked-regression"] = _case(SINE, [{"type": _cell, "units": 3}, {"type": _cell, "units": 4},
                                                        {"type": "dense", "units": 2}])
CASES["rnn-relu"] = _case(ECHO, [{"type": "rnn", "units": 4, "activation": "relu"}])
CASES["rnn-sigmoid"] = _case(ECHO, [{"type": "rnn", "units": 4, "activation": "sigmoid"}])
CASES["recurrent-dropout"] = _case(ECHO, [{"type": "gru", "units": 4, "return_sequences": True},
                                          {"type": "dropout", "rate": 0.3}, {"type": "lstm", "units": 3}])


def case_spec(name: str, **training) -> Spec:
    raw = dict(CASES[name])
    if training:
        raw["training"] = training
    return Spec.from_dict(raw)


def case_batch(spec: Spec, n: int = 4, seed: int = 0):
    """Random inputs of the task's shape and random labels of its kind."""
    rng = np.random.default_rng(seed)
    task = spec.task
    x = rng.standard_normal((n,) + task_input_shape(task))
    label_shape = (n, task_input_shape(task)[0]) if task.info.per_step else (n,)
    classes = task_classes(task)
    if classes:
        labels = rng.integers(0, classes, label_shape)
    else:
        labels = rng.uniform(-1.0, 1.0, label_shape)
    return x, labels
