"""The small trainings that prove learning works (no pytest, so that they
also run inside Pyodide). Each returns what a learner would look at."""
from __future__ import annotations

import itertools

import numpy as np

from playground.data import make_dataset
from playground.engine import Trainer
from playground.spec import Spec

XOR = {"task": {"dataset": "xor", "samples": 200},
       "layers": [{"type": "dense", "units": 8}, {"type": "dense", "units": 4}],
       "training": {"optimizer": "sgd", "learning_rate": 0.03, "batch_size": 10}}
SPIRAL = {"task": {"dataset": "spiral", "samples": 300},
          "layers": [{"type": "dense", "units": 12, "activation": "tanh"}] * 3,
          "training": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 10}}
DIGITS_CNN = {"task": {"dataset": "digits"},
              "layers": [{"type": "conv2d", "filters": 8, "kernel": 3, "activation": "relu"},
                         {"type": "maxpool", "size": 2}, {"type": "flatten"}],
              "training": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32}}
PARITY_GRU = {"task": {"dataset": "parity", "samples": 1000, "options": {"length": 8}},
              "layers": [{"type": "gru", "units": 16}],
              "training": {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 32}}


def train(raw, epochs, dtype=np.float64):
    spec = Spec.from_dict(raw)
    data = make_dataset(spec.task)
    trainer = Trainer.for_dataset(spec, data, dtype=dtype)
    for _ in range(epochs):
        trainer.train_epoch()
    return trainer, data


def xor_training_accuracy(dtype=np.float64, epochs=120) -> float:
    trainer, data = train(XOR, epochs, dtype)
    return trainer.model.evaluate(data.x_train, data.y_train)[1]


def spiral_training_accuracy(epochs=300) -> float:
    trainer, data = train(SPIRAL, epochs)
    return trainer.model.evaluate(data.x_train, data.y_train)[1]


def digits_test_accuracy(epochs=10) -> float:
    trainer, data = train(DIGITS_CNN, epochs)
    return trainer.model.evaluate(data.x_test, data.y_test)[1]


def parity_mistakes(epochs=60) -> int:
    """Wrong answers of the trained GRU over all 256 sequences of 8 bits."""
    trainer, _ = train(PARITY_GRU, epochs)
    every_sequence = np.array(list(itertools.product([0.0, 1.0], repeat=8)))[:, :, None]
    parity = every_sequence[:, :, 0].sum(axis=1).astype(int) % 2
    return int(np.sum(trainer.model.predict(every_sequence) != parity))
