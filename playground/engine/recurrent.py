"""Recurrent layers over (N, T, F) sequences: simple RNN, GRU and LSTM.

The input projection x·W_x is done for every step at once; only the
recurrence runs step by step. Besides the layer attributes of
``layers.Layer``, a recurrent layer keeps for the views:

- ``states``: the hidden state at every step, (N, T, H);
- ``gates``: each gate's value at every step, {name: (N, T, H)};
- after backward: ``grad_states`` (dL/dh_t, all paths, (N, T, H)) and the
  per-step gradients of the gate pre-activations (``step_grad_x`` for the
  input weights, ``step_grad_h`` for the recurrent weights), from which the
  probes split a weight gradient by how many steps back it came from.

Gate order and biases follow torch (GRU: reset, update, candidate with
separate input and hidden biases; LSTM: input, forget, cell, output), so
weights convert by a transpose.
"""
from __future__ import annotations

import numpy as np

from .activations import get_activation, sigmoid
from .layers import Layer


class Recurrent(Layer):
    gates_per_unit = 1
    gate_names: tuple[str, ...] = ()

    def __init__(self, plan):
        super().__init__(plan)
        self.units = plan.layer.units
        self.return_sequences = plan.return_sequences

    # The subclasses define one step forward and one step back.
    def _start(self, n: int, steps: int, dtype):
        raise NotImplementedError

    def _step(self, t: int, projected, h):
        raise NotImplementedError

    def _step_back(self, t: int, grad_h):
        """Fill step t of the gate gradients; return dL/dh_{t-1} from this step."""
        raise NotImplementedError

    def _input_projection(self, x):
        return x @ self.params["W_x"] + self.params["b"]

    def forward(self, x, training=False):
        n, steps, _ = x.shape
        self.input = x
        self.states = np.empty((n, steps, self.units), dtype=x.dtype)
        self._start(n, steps, x.dtype)
        projected = self._input_projection(x)
        h = np.zeros((n, self.units), dtype=x.dtype)
        for t in range(steps):
            h = self._step(t, projected[:, t], h)
            self.states[:, t] = h
        self.output = self.states if self.return_sequences else self.states[:, -1]
        return self.output

    def previous_states(self):
        """h_{t-1} for every step t, with the zero initial state first."""
        h0 = np.zeros_like(self.states[:, :1])
        return np.concatenate([h0, self.states[:, :-1]], axis=1)

    def backward(self, grad_output, need_input_grad=True):
        self.grad_output = grad_output
        x = self.input
        n, steps, _ = x.shape
        if self.return_sequences:
            upstream = grad_output
        else:
            upstream = np.zeros_like(self.states)
            upstream[:, -1] = grad_output
        width = self.gates_per_unit * self.units
        self.step_grad_x = np.empty((n, steps, width), dtype=x.dtype)
        self.step_grad_h = self._hidden_gate_grads(self.step_grad_x)
        self.grad_states = np.empty_like(self.states)
        carry = np.zeros((n, self.units), dtype=x.dtype)
        for t in range(steps - 1, -1, -1):
            grad_h = upstream[:, t] + carry
            self.grad_states[:, t] = grad_h
            carry = self._step_back(t, grad_h)
        self._weight_grads()
        return self.step_grad_x @ self.params["W_x"].T if need_input_grad else None

    def _hidden_gate_grads(self, step_grad_x):
        # For RNN and LSTM the recurrent weights see the same gate gradients.
        return step_grad_x

    def _weight_grads(self):
        x, width = self.input, self.step_grad_x.shape[-1]
        gx = self.step_grad_x.reshape(-1, width)
        gh = self.step_grad_h.reshape(-1, width)
        np.matmul(x.reshape(-1, x.shape[-1]).T, gx, out=self.grads["W_x"])
        np.matmul(self.previous_states().reshape(-1, self.units).T, gh, out=self.grads["W_h"])
        self._bias_grads(gx, gh)

    def _bias_grads(self, gx, gh):
        np.sum(gx, axis=0, out=self.grads["b"])

    def fans(self, name):
        # Each gate's block of the matrix maps its inputs to `units` values.
        rows = self.plan.params[name][0]
        return rows, self.units


class SimpleRNN(Recurrent):
    """h_t = f(x_t·W_x + h_{t-1}·W_h + b)."""

    def __init__(self, plan):
        super().__init__(plan)
        self.activation = get_activation(plan.layer.activation)

    def _start(self, n, steps, dtype):
        self.pre_activation = np.empty((n, steps, self.units), dtype=dtype)
        self.gates = {}

    def _step(self, t, projected, h):
        z = projected + h @ self.params["W_h"]
        self.pre_activation[:, t] = z
        return self.activation.forward(z)

    def _step_back(self, t, grad_h):
        dz = self.activation.backward(self.pre_activation[:, t], self.states[:, t], grad_h)
        self.step_grad_x[:, t] = dz
        return dz @ self.params["W_h"].T


class GRU(Recurrent):
    """r = σ(x·W_xr + b_xr + h·W_hr + b_hr), u = σ(… update …),
    n = tanh(x·W_xn + b_xn + r ⊙ (h·W_hn + b_hn)), h' = (1 − u) ⊙ n + u ⊙ h."""

    gates_per_unit = 3
    gate_names = ("reset", "update", "candidate")

    def _input_projection(self, x):
        return x @ self.params["W_x"] + self.params["b_x"]

    def _start(self, n, steps, dtype):
        shape = (n, steps, self.units)
        self.gates = {name: np.empty(shape, dtype=dtype) for name in self.gate_names}
        self._hidden_candidate = np.empty(shape, dtype=dtype)  # h·W_hn + b_hn
        self.pre_activation = None

    def _step(self, t, projected, h):
        units = self.units
        hidden = h @ self.params["W_h"] + self.params["b_h"]
        reset_update = sigmoid(projected[:, :2 * units] + hidden[:, :2 * units])
        r, u = reset_update[:, :units], reset_update[:, units:]
        n = np.tanh(projected[:, 2 * units:] + r * hidden[:, 2 * units:])
        self.gates["reset"][:, t], self.gates["update"][:, t], self.gates["candidate"][:, t] = r, u, n
        self._hidden_candidate[:, t] = hidden[:, 2 * units:]
        return n + u * (h - n)

    def _hidden_gate_grads(self, step_grad_x):
        return np.empty_like(step_grad_x)

    def _step_back(self, t, grad_h):
        units = self.units
        r, u, n = (self.gates[name][:, t] for name in self.gate_names)
        h_prev = self.states[:, t - 1] if t > 0 else np.zeros_like(grad_h)
        d_n = grad_h * (1.0 - u) * (1.0 - n * n)  # through tanh
        d_u = grad_h * (h_prev - n) * u * (1.0 - u)
        d_r = d_n * self._hidden_candidate[:, t] * r * (1.0 - r)
        gx, gh = self.step_grad_x[:, t], self.step_grad_h[:, t]
        gx[:, :units], gx[:, units:2 * units], gx[:, 2 * units:] = d_r, d_u, d_n
        gh[:, :2 * units] = gx[:, :2 * units]
        gh[:, 2 * units:] = d_n * r
        return grad_h * u + gh @ self.params["W_h"].T

    def _bias_grads(self, gx, gh):
        np.sum(gx, axis=0, out=self.grads["b_x"])
        np.sum(gh, axis=0, out=self.grads["b_h"])


class LSTM(Recurrent):
    """i, f, o = σ(…), g = tanh(…) from x·W_x + h·W_h + b;
    c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c')."""

    gates_per_unit = 4
    gate_names = ("input", "forget", "cell_input", "output", "cell")

    def _start(self, n, steps, dtype):
        shape = (n, steps, self.units)
        self.gates = {name: np.empty(shape, dtype=dtype) for name in self.gate_names}
        self._cell_tanh = np.empty(shape, dtype=dtype)
        self._cell = np.zeros((n, self.units), dtype=dtype)
        self.pre_activation = None

    def _step(self, t, projected, h):
        units = self.units
        a = projected + h @ self.params["W_h"]
        gates = sigmoid(a)
        i, f, o = gates[:, :units], gates[:, units:2 * units], gates[:, 3 * units:]
        g = np.tanh(a[:, 2 * units:3 * units])
        self._cell = f * self._cell + i * g
        cell_tanh = np.tanh(self._cell)
        for name, value in zip(self.gate_names, (i, f, g, o, self._cell)):
            self.gates[name][:, t] = value
        self._cell_tanh[:, t] = cell_tanh
        return o * cell_tanh

    def backward(self, grad_output, need_input_grad=True):
        self._grad_cell = np.zeros_like(self.states[:, 0])
        return super().backward(grad_output, need_input_grad)

    def _step_back(self, t, grad_h):
        units = self.units
        i, f, g, o = (self.gates[name][:, t] for name in self.gate_names[:4])
        cell_tanh = self._cell_tanh[:, t]
        c_prev = self.gates["cell"][:, t - 1] if t > 0 else np.zeros_like(grad_h)
        d_cell = self._grad_cell + grad_h * o * (1.0 - cell_tanh * cell_tanh)
        gx = self.step_grad_x[:, t]
        gx[:, :units] = d_cell * g * i * (1.0 - i)
        gx[:, units:2 * units] = d_cell * c_prev * f * (1.0 - f)
        gx[:, 2 * units:3 * units] = d_cell * i * (1.0 - g * g)
        gx[:, 3 * units:] = grad_h * cell_tanh * o * (1.0 - o)
        self._grad_cell = d_cell * f
        return gx @ self.params["W_h"].T
