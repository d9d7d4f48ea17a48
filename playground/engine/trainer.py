"""Mini-batch training: batches, regularisation, clipping, the optimiser step.

The engine does not import the data layer; a trainer takes arrays (or any
object with ``x_train``/``y_train``, such as ``playground.data.Dataset``).
"""
from __future__ import annotations

import numpy as np

from .model import BATCH_STREAM, Model
from .optimizers import make_optimizer


class Trainer:
    def __init__(self, spec, x_train, y_train, *, dtype=np.float64, model: Model | None = None):
        self.spec = spec
        self.model = model if model is not None else Model(spec, dtype)
        self.optimizer = make_optimizer(spec.training)
        self.x = np.asarray(x_train, dtype=self.model.dtype)
        self.labels = np.asarray(y_train)
        self.targets = self.model.head.targets(self.labels, self.model.dtype)
        self.rng = np.random.default_rng([spec.run_seed, BATCH_STREAM])
        self.step = 0
        self.epochs_done = 0
        self._order = self.rng.permutation(len(self.x))
        self._cursor = 0

    @classmethod
    def for_dataset(cls, spec, dataset, **kwargs) -> "Trainer":
        return cls(spec, dataset.x_train, dataset.y_train, **kwargs)

    @property
    def epoch(self) -> float:
        """Epochs done, with the fraction of the current one."""
        return self.epochs_done + self._cursor / len(self.x)

    def next_batch(self) -> np.ndarray:
        """Indices of the next batch: consecutive slices of a fresh shuffle
        each epoch; the last batch of an epoch may be smaller."""
        if self._cursor >= len(self.x):
            self._order = self.rng.permutation(len(self.x))
            self._cursor = 0
            self.epochs_done += 1
        size = self.spec.training.batch_size
        batch = self._order[self._cursor:self._cursor + size]
        self._cursor += len(batch)
        return batch

    def train_step(self, with_loss: bool = True) -> float | None:
        """One optimiser step on the next batch; returns the batch's data
        loss (None with ``with_loss=False``, which saves its computation)."""
        batch = self.next_batch()
        loss = self.model.loss_and_gradients(self.x[batch], self.targets[batch], training=True,
                                             with_loss=with_loss)
        self.optimizer.step(self.model.params, self.update_direction())
        self.step += 1
        return loss

    def train(self, steps: int) -> float:
        """Several steps; returns their mean batch loss."""
        total = 0.0
        for _ in range(steps):
            total += self.train_step()
        return total / max(steps, 1)

    def train_epoch(self) -> float:
        """Steps up to the end of the current epoch."""
        losses = [self.train_step()]
        while self._cursor < len(self.x):
            losses.append(self.train_step())
        return float(np.mean(losses))

    def update_direction(self) -> np.ndarray:
        """The data gradient plus the L1/L2 terms (on weights only), scaled
        down to ``clip_norm`` when its global norm is larger. ``model.grads`` keeps the data
        gradient alone, for the views."""
        training, model = self.spec.training, self.model
        grads = model.grads
        if training.l1:
            grads = grads + training.l1 * np.sign(model.params) * model.weight_mask
        if training.l2:
            grads = grads + training.l2 * model.params * model.weight_mask
        if training.clip_norm:
            # torch's clip_grad_norm_ formula (with its 1e-6), so that the
            # server trainer clips exactly as the browser does
            scale = training.clip_norm / (float(np.sqrt(np.dot(grads, grads))) + 1e-6)
            if scale < 1.0:
                grads = grads * scale
        return grads

    def progress_state(self) -> dict:
        """Where the run is — step, epoch, batch order, random state — so that a
        snapshot resumes on exactly the batches it would have seen."""
        return {"step": self.step, "epochs_done": self.epochs_done, "order": self._order.tolist(),
                "cursor": self._cursor, "rng": self.rng.bit_generator.state}

    def load_progress_state(self, state: dict) -> None:
        order = np.asarray(state["order"], dtype=np.int64)
        if sorted(order.tolist()) != list(range(len(self.x))):
            raise ValueError("the saved batch order does not fit this training set")
        self.step, self.epochs_done = int(state["step"]), int(state["epochs_done"])
        self._order, self._cursor = order, int(state["cursor"])
        self.rng.bit_generator.state = state["rng"]

    def penalty(self) -> float:
        """The regularisation term: l1·Σ|w| + ½·l2·Σw² over the weights."""
        training, model = self.spec.training, self.model
        weights = model.params * model.weight_mask
        return float(training.l1 * np.abs(weights).sum() + 0.5 * training.l2 * np.dot(weights, weights))
