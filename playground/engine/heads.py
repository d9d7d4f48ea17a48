"""The output head: the output activation together with its loss.

The head turns dataset labels into targets, computes the loss and its
gradient with respect to the output layer's pre-activation ``z`` (fused for
sigmoid + binary cross-entropy and softmax + cross-entropy, which is both
exact and stable), and reads predictions back as classes or values.

The loss is the mean over examples (and over steps for per-step tasks):
squared error is ½·Σ_units (a − t)², as in the classic playground.
"""
from __future__ import annotations

import numpy as np

from .activations import get_activation

#: Output activations whose values are never negative: their two-class
#: targets are 0/1 (threshold 0.5) instead of −1/+1 (threshold 0).
_NON_NEGATIVE = ("sigmoid", "relu", "softplus")


class Head:
    def __init__(self, activation: str, loss: str, classes: int, units: int):
        self.activation = get_activation(activation)
        self.loss_name = loss
        self.classes = classes  # 0 for regression
        self.units = units
        self.low = 0.0 if activation in _NON_NEGATIVE else -1.0
        self.threshold = (self.low + 1.0) / 2.0

    @property
    def is_classification(self) -> bool:
        return self.classes > 0

    def targets(self, labels, dtype=np.float64):
        """Labels as the loss wants them: class indices for softmax, ±1 or
        0/1 for a single classification unit, values for regression."""
        labels = np.asarray(labels)
        if self.loss_name == "cross_entropy":
            return labels.astype(np.int64)
        values = labels.astype(dtype)[..., None]
        if self.is_classification:
            return np.where(values > 0, 1.0, self.low).astype(dtype)
        return values

    def loss(self, z, a, targets) -> float:
        count = a.size // a.shape[-1]
        if self.loss_name == "cross_entropy":
            log_norm = _logsumexp(z)
            picked = np.take_along_axis(z, targets[..., None], axis=-1)[..., 0]
            return float(np.sum(log_norm - picked) / count)
        if self.loss_name == "binary_cross_entropy":
            # −t·log σ(z) − (1−t)·log(1−σ(z)) = softplus(z) − t·z
            return float(np.sum(np.logaddexp(0.0, z) - targets * z) / count)
        diff = a - targets
        return float(0.5 * np.sum(diff * diff) / count)

    def grad(self, z, a, targets):
        """dL/dz for the output layer's pre-activation."""
        count = a.size // a.shape[-1]
        if self.loss_name == "cross_entropy":
            dz = a.copy()
            np.put_along_axis(dz, targets[..., None],
                              np.take_along_axis(dz, targets[..., None], axis=-1) - 1.0, axis=-1)
            return dz / count
        if self.loss_name == "binary_cross_entropy":
            return (a - targets) / count
        return self.activation.backward(z, a, (a - targets) / count)

    def predict(self, a):
        """Class indices, or the regression values."""
        if not self.is_classification:
            return a[..., 0]
        if self.units == 1:
            return (a[..., 0] > self.threshold).astype(np.int64)
        return a.argmax(axis=-1)

    def accuracy(self, a, labels) -> float | None:
        if not self.is_classification:
            return None
        return float(np.mean(self.predict(a) == np.asarray(labels)))


def _logsumexp(z):
    top = z.max(axis=-1)
    return top + np.log(np.exp(z - top[..., None]).sum(axis=-1))
