"""Feed-forward layers: dense, conv2d, max/average pooling, flatten, dropout.

Each layer keeps what its forward pass saw and produced, so that the
backward pass and the views can read it:

- ``input``, ``pre_activation`` (None where there is none) and ``output``;
- after ``backward``: ``grad_output`` (dL/d output), ``grad_pre_activation``.

Parameters live in the model's flat buffer: ``params[name]`` and
``grads[name]`` are views into it, so an optimiser updates every layer with
one vectorised operation.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .activations import get_activation


class Layer:
    def __init__(self, plan):
        self.plan = plan
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.input = self.pre_activation = self.output = None
        self.grad_output = self.grad_pre_activation = None

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad_output, need_input_grad=True):
        """Store parameter gradients; return dL/d input (None if not needed)."""
        raise NotImplementedError

    def fans(self, name: str) -> tuple[int, int]:
        """Fan-in and fan-out of a weight, for initialisation."""
        raise NotImplementedError


class Dense(Layer):
    """a = f(x·W + b). On a sequence (N, T, F) it applies to every step."""

    def __init__(self, plan):
        super().__init__(plan)
        self.activation = get_activation(plan.layer.activation)

    def forward(self, x, training=False):
        self.input = x
        z = x @ self.params["W"]
        z += self.params["b"]  # in place: one array less to allocate
        self.pre_activation = z
        self.output = self.activation.forward(z)
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        self.grad_output = grad_output
        dz = self.activation.backward(self.pre_activation, self.output, grad_output)
        return self.backward_pre_activation(dz, need_input_grad)

    def backward_pre_activation(self, dz, need_input_grad=True):
        """Backward from dL/dz; the output layer enters here with the loss's
        fused gradient (e.g. softmax with cross-entropy gives p - y)."""
        self.grad_pre_activation = dz
        x = self.input
        if x.ndim > 2:  # a sequence: every step counts as an example
            x, dz2 = x.reshape(-1, x.shape[-1]), dz.reshape(-1, dz.shape[-1])
        else:
            dz2 = dz
        np.matmul(x.T, dz2, out=self.grads["W"])
        # add.reduce, not np.sum: the same sum without np.sum's Python
        # wrapper, which costs more than the sum itself on a small batch.
        np.add.reduce(dz2, axis=0, out=self.grads["b"])
        return dz @ self.params["W"].T if need_input_grad else None

    def fans(self, name):
        fan_in, fan_out = self.plan.params["W"]
        return fan_in, fan_out


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Padding before and after so that the output has ceil(size/stride)
    positions; the odd pixel goes after, as in TensorFlow."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _windows(x, size: int, stride: int, out_h: int, out_w: int):
    """All size×size windows of (N, C, H, W) as a view (N, C, out_h, out_w, size, size)."""
    view = sliding_window_view(x, (size, size), axis=(2, 3))
    return view[:, :, ::stride, ::stride][:, :, :out_h, :out_w]


def _scatter_windows(grad_windows, shape, size: int, stride: int):
    """Adjoint of ``_windows``: add each window position's gradient back onto
    the pixels it covered. One numpy call per kernel offset."""
    dx = np.zeros(shape, dtype=grad_windows.dtype)
    out_h, out_w = grad_windows.shape[2:4]
    for i in range(size):
        for j in range(size):
            dx[:, :, i:i + stride * (out_h - 1) + 1:stride,
               j:j + stride * (out_w - 1) + 1:stride] += grad_windows[..., i, j]
    return dx


class Conv2D(Layer):
    """Filters slid over a (N, C, H, W) image with stride and same/valid padding."""

    def __init__(self, plan):
        super().__init__(plan)
        spec = plan.layer
        self.kernel, self.stride = spec.kernel, spec.stride
        self.activation = get_activation(spec.activation)
        _, height, width = plan.input_shape
        if spec.padding == "same":
            self.pad_h = _same_padding(height, spec.kernel, spec.stride)
            self.pad_w = _same_padding(width, spec.kernel, spec.stride)
        else:
            self.pad_h = self.pad_w = (0, 0)

    def forward(self, x, training=False):
        self.input = x
        padded = np.pad(x, ((0, 0), (0, 0), self.pad_h, self.pad_w)) if any(self.pad_h + self.pad_w) else x
        self._padded_shape = padded.shape
        _, out_h, out_w = self.plan.output_shape
        self._windows = _windows(padded, self.kernel, self.stride, out_h, out_w)
        # (N, C, oh, ow, k, k) · (F, C, k, k) -> (N, oh, ow, F)
        z = np.tensordot(self._windows, self.params["W"], axes=([1, 4, 5], [1, 2, 3]))
        self.pre_activation = z.transpose(0, 3, 1, 2) + self.params["b"][:, None, None]
        self.output = self.activation.forward(self.pre_activation)
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        self.grad_output = grad_output
        dz = self.activation.backward(self.pre_activation, self.output, grad_output)
        self.grad_pre_activation = dz
        self.grads["W"][...] = np.tensordot(dz, self._windows, axes=([0, 2, 3], [0, 2, 3]))
        np.sum(dz, axis=(0, 2, 3), out=self.grads["b"])
        if not need_input_grad:
            return None
        # (N, F, oh, ow) · (F, C, k, k) -> (N, oh, ow, C, k, k) -> (N, C, oh, ow, k, k)
        grad_windows = np.tensordot(dz, self.params["W"], axes=([1], [0])).transpose(0, 3, 1, 2, 4, 5)
        dx = _scatter_windows(grad_windows, self._padded_shape, self.kernel, self.stride)
        (top, bottom), (left, right) = self.pad_h, self.pad_w
        return dx[:, :, top:dx.shape[2] - bottom, left:dx.shape[3] - right]

    def fans(self, name):
        filters, channels, k, _ = self.plan.params["W"]
        return channels * k * k, filters * k * k


class MaxPool(Layer):
    """The largest value of each window; its gradient goes to that value
    (the first one on ties, as in torch)."""

    def forward(self, x, training=False):
        self.input = x
        size, stride = self.plan.layer.size, self.plan.layer.step
        _, out_h, out_w = self.plan.output_shape
        windows = _windows(x, size, stride, out_h, out_w)
        flat = windows.reshape(windows.shape[:4] + (size * size,))
        self._argmax = flat.argmax(axis=-1)
        self.output = np.take_along_axis(flat, self._argmax[..., None], axis=-1)[..., 0]
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        self.grad_output = grad_output
        size, stride = self.plan.layer.size, self.plan.layer.step
        offsets = np.arange(size * size).reshape(size, size)
        # grad_windows[..., i, j] = grad where the window's max sat at (i, j)
        chosen = self._argmax[..., None, None] == offsets
        grad_windows = np.where(chosen, grad_output[..., None, None], 0.0)
        return _scatter_windows(grad_windows, self.input.shape, size, stride)


class AvgPool(Layer):
    """The mean of each window."""

    def forward(self, x, training=False):
        self.input = x
        size, stride = self.plan.layer.size, self.plan.layer.step
        _, out_h, out_w = self.plan.output_shape
        self.output = _windows(x, size, stride, out_h, out_w).mean(axis=(-2, -1))
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        self.grad_output = grad_output
        size, stride = self.plan.layer.size, self.plan.layer.step
        share = grad_output / (size * size)
        grad_windows = np.broadcast_to(share[..., None, None], share.shape + (size, size))
        return _scatter_windows(grad_windows, self.input.shape, size, stride)


class Flatten(Layer):
    def forward(self, x, training=False):
        self.input = x
        self.output = x.reshape(x.shape[0], -1)
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        self.grad_output = grad_output
        return grad_output.reshape(self.input.shape)


class Dropout(Layer):
    """While training, zero each value with probability ``rate`` and scale the
    rest by 1/(1 - rate) ("inverted" dropout), so evaluation needs no change."""

    def __init__(self, plan, rng):
        super().__init__(plan)
        self.rate = plan.layer.rate
        self.rng = rng
        self.mask = None

    def forward(self, x, training=False):
        self.input = x
        if not training or self.rate == 0.0:
            self.mask = None
            self.output = x
        else:
            keep = self.rng.random(x.shape) >= self.rate
            self.mask = keep.astype(x.dtype) / (1.0 - self.rate)
            self.output = x * self.mask
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        self.grad_output = grad_output
        return grad_output if self.mask is None else grad_output * self.mask
