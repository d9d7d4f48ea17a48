"""A network built from a spec: layers, a flat parameter buffer, the head.

All parameters sit in one flat vector (``params``) and all gradients in
another (``grads``); each layer's ``params[name]``/``grads[name]`` are views.
Optimisers, regularisation, clipping and gradient norms are then single
vectorised operations, which keeps the numpy calls per step few — the thing
that matters most for speed in the browser.
"""
from __future__ import annotations

import math

import numpy as np

from playground import spec as specs

from .heads import Head
from .init import initialize, is_weight
from .layers import AvgPool, Conv2D, Dense, Dropout, Flatten, MaxPool
from .recurrent import GRU, LSTM, SimpleRNN

# Seeds of independent random streams derived from the run's seed; stream 0
# (of the task's seed) belongs to the data.
INIT_STREAM, BATCH_STREAM, DROPOUT_STREAM = 1, 2, 3

_ENGINE_LAYERS = {
    specs.Dense: Dense, specs.Conv2D: Conv2D, specs.MaxPool: MaxPool, specs.AvgPool: AvgPool,
    specs.Flatten: Flatten, specs.SimpleRNN: SimpleRNN, specs.GRU: GRU, specs.LSTM: LSTM,
}


class Model:
    def __init__(self, spec: specs.Spec, dtype=np.float64):
        self.spec = spec
        self.dtype = np.dtype(dtype)
        self.plans = specs.plan_layers(spec)
        seed = spec.run_seed
        self.dropout_rng = np.random.default_rng([seed, DROPOUT_STREAM])
        self.layers = [self._build_layer(plan) for plan in self.plans]
        self._allocate()
        output = spec.output
        self.head = Head(output.activation, output.loss, specs.task_classes(spec.task),
                         self.plans[-1].output_shape[-1])
        if spec.weights is not None:
            self.load_weights(spec.weights)
        else:
            initialize(self.layers, spec.training.init, np.random.default_rng([seed, INIT_STREAM]))

    def _build_layer(self, plan):
        if isinstance(plan.layer, specs.Dropout):
            return Dropout(plan, self.dropout_rng)
        return _ENGINE_LAYERS[type(plan.layer)](plan)

    def _allocate(self):
        sizes = [math.prod(shape) for plan in self.plans for shape in plan.params.values()]
        self.params = np.zeros(sum(sizes), dtype=self.dtype)
        self.grads = np.zeros_like(self.params)
        self.weight_mask = np.zeros_like(self.params)  # 1 where regularisation applies
        #: [start, stop) of each layer's parameters in the flat vectors
        self.layer_slices = []
        offset = 0
        for layer, plan in zip(self.layers, self.plans):
            start = offset
            for name, shape in plan.params.items():
                size = math.prod(shape)
                layer.params[name] = self.params[offset:offset + size].reshape(shape)
                layer.grads[name] = self.grads[offset:offset + size].reshape(shape)
                if is_weight(name):
                    self.weight_mask[offset:offset + size] = 1.0
                offset += size
            self.layer_slices.append((start, offset))

    @property
    def output_layer(self) -> Dense:
        return self.layers[-1]

    @property
    def parameter_count(self) -> int:
        return self.params.size

    # --- passes -----------------------------------------------------------------

    def forward(self, x, training=False):
        """Output activations for a batch; every layer keeps what it saw."""
        h = np.asarray(x, dtype=self.dtype)
        for layer in self.layers:
            h = layer.forward(h, training)
        return h

    def backward(self, grad_pre_activation, need_input_grad=False):
        """Backward from dL/dz of the output layer; fills ``grads``.
        Returns dL/d input when asked (saliency), else None."""
        grad = self.output_layer.backward_pre_activation(
            grad_pre_activation, need_input_grad or len(self.layers) > 1)
        for position in range(len(self.layers) - 2, -1, -1):
            need = need_input_grad or position > 0
            grad = self.layers[position].backward(grad, need)
        return grad

    def loss_and_gradients(self, x, targets, training=True, with_loss=True) -> float | None:
        """One forward and backward pass on a batch of encoded targets
        (``head.targets``); gradients land in ``grads``. ``with_loss=False``
        skips computing the loss value (the gradient does not need it)."""
        a = self.forward(x, training)
        z = self.output_layer.pre_activation
        loss = self.head.loss(z, a, targets) if with_loss else None
        self.backward(self.head.grad(z, a, targets))
        return loss

    def evaluate(self, x, labels, chunk: int = 1024, predictions: bool = False):
        """Mean loss and accuracy (None for regression) over a whole set, in
        chunks; with ``predictions=True`` also what the model predicts for each."""
        targets = self.head.targets(labels, self.dtype)
        total_loss, correct, count, predicted = 0.0, 0.0, 0, []
        for start in range(0, len(x), chunk):
            a = self.forward(x[start:start + chunk])
            z = self.output_layer.pre_activation
            n = len(a)
            total_loss += self.head.loss(z, a, targets[start:start + chunk]) * n
            guess = self.head.predict(a)
            if self.head.is_classification:
                correct += float(np.mean(guess == labels[start:start + chunk])) * n
            if predictions:
                predicted.append(guess)
            count += n
        accuracy = correct / count if self.head.is_classification else None
        if predictions:
            return total_loss / count, accuracy, np.concatenate(predicted)
        return total_loss / count, accuracy

    def predict(self, x):
        return self.head.predict(self.forward(x))

    # --- introspection ---------------------------------------------------------------

    def gradient_norms(self) -> np.ndarray:
        """L2 norm of each layer's parameter gradient (NaN for layers without parameters)."""
        squares = self.grads * self.grads
        norms = np.full(len(self.layers), np.nan)
        for position, (start, stop) in enumerate(self.layer_slices):
            if stop > start:
                norms[position] = math.sqrt(float(squares[start:stop].sum()))
        return norms

    # --- weights -----------------------------------------------------------------

    def export_weights(self) -> list:
        """Weights as JSON-ready nested lists, one entry per layer (None for
        layers without parameters); loads back bit for bit."""
        return [{name: value.tolist() for name, value in layer.params.items()} or None
                for layer in self.layers]

    def load_weights(self, weights) -> None:
        if len(weights) != len(self.layers):
            raise ValueError(f"expected weights for {len(self.layers)} layers, got {len(weights)}")
        for layer, entry in zip(self.layers, weights):
            for name, value in layer.params.items():
                value[...] = np.asarray(entry[name], dtype=self.dtype)

    def spec_with_weights(self) -> specs.Spec:
        return self.spec.with_weights(self.export_weights())
