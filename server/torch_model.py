"""The same network as the engine's, built from the same spec with torch's
own modules, and weights converted both ways.

Layouts: the engine stores dense weights as (inputs, units) and recurrent
weights as (inputs, gates·units); torch stores their transposes. The engine
has one bias for the simple RNN and the LSTM (torch's two add up) and two
for the GRU (torch's b_ih and b_hh, which differ because of the reset gate).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from playground import spec as specs

_ACTIVATIONS = {
    "linear": nn.Identity, "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus, "swish": nn.SiLU,
    "softmax": lambda: nn.Softmax(dim=-1),
}


def activation_module(name: str) -> nn.Module:
    return _ACTIVATIONS[name]()


class DenseBlock(nn.Module):
    def __init__(self, plan):
        super().__init__()
        inputs, units = plan.params["W"]
        self.linear = nn.Linear(inputs, units)
        self.activation = activation_module(plan.layer.activation)

    def forward(self, x):
        self.pre_activation = self.linear(x)
        return self.activation(self.pre_activation)

    def load(self, entry, write=None):
        write = write or assign
        write(self.linear.weight, np.asarray(entry["W"]).T)
        write(self.linear.bias, entry["b"])

    def export(self, read=None):
        read = read or value_of
        return {"W": read(self.linear.weight).T, "b": read(self.linear.bias)}


class ConvBlock(nn.Module):
    def __init__(self, plan):
        super().__init__()
        layer = plan.layer
        filters, channels, kernel, _ = plan.params["W"]
        _, height, width = plan.input_shape
        pads = (0, 0, 0, 0)
        if layer.padding == "same":  # torch's own "same" refuses strides above 1
            top, bottom = _same(height, kernel, layer.stride)
            left, right = _same(width, kernel, layer.stride)
            pads = (left, right, top, bottom)
        self.pad = nn.ZeroPad2d(pads)
        self.conv = nn.Conv2d(channels, filters, kernel, stride=layer.stride)
        self.activation = activation_module(layer.activation)

    def forward(self, x):
        self.pre_activation = self.conv(self.pad(x))
        return self.activation(self.pre_activation)

    def load(self, entry, write=None):
        write = write or assign
        write(self.conv.weight, entry["W"])
        write(self.conv.bias, entry["b"])

    def export(self, read=None):
        read = read or value_of
        return {"W": read(self.conv.weight), "b": read(self.conv.bias)}


def _same(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class RecurrentBlock(nn.Module):
    """torch's RNN/GRU/LSTM (batch first), keeping every step or the last.
    A simple RNN with an activation torch's RNN lacks runs as a plain loop."""

    def __init__(self, plan):
        super().__init__()
        layer = plan.layer
        features = plan.params["W_x"][0]
        self.kind = layer.type
        self.return_sequences = plan.return_sequences
        if self.kind == "rnn" and layer.activation not in ("tanh", "relu"):
            self.cell = LoopRNN(features, layer.units, layer.activation)
        elif self.kind == "rnn":
            self.cell = nn.RNN(features, layer.units, nonlinearity=layer.activation, batch_first=True)
        elif self.kind == "gru":
            self.cell = nn.GRU(features, layer.units, batch_first=True)
        else:
            self.cell = nn.LSTM(features, layer.units, batch_first=True)
        if self.kind != "gru":
            # The engine has one bias here; torch's second one, if trained,
            # would move the sum twice as fast. Keep it at zero.
            with torch.no_grad():
                self.cell.bias_hh_l0.zero_()
            self.cell.bias_hh_l0.requires_grad_(False)

    def forward(self, x):
        states, _ = self.cell(x)
        self.states = states
        return states if self.return_sequences else states[:, -1]

    def load(self, entry, write=None):
        cell, write = self.cell, write or assign
        write(cell.weight_ih_l0, np.asarray(entry["W_x"]).T)
        write(cell.weight_hh_l0, np.asarray(entry["W_h"]).T)
        if self.kind == "gru":
            write(cell.bias_ih_l0, entry["b_x"])
            write(cell.bias_hh_l0, entry["b_h"])
        else:
            write(cell.bias_ih_l0, entry["b"])

    def export(self, read=None):
        cell, read = self.cell, read or value_of
        out = {"W_x": read(cell.weight_ih_l0).T, "W_h": read(cell.weight_hh_l0).T}
        if self.kind == "gru":
            out.update(b_x=read(cell.bias_ih_l0), b_h=read(cell.bias_hh_l0))
        else:  # bias_hh stays zero (see __init__)
            out["b"] = read(cell.bias_ih_l0)
        return out


class LoopRNN(nn.Module):
    """h_t = f(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh) for any activation f,
    with torch.nn.RNN's parameter names."""

    def __init__(self, features, units, activation):
        super().__init__()
        self.weight_ih_l0 = nn.Parameter(torch.empty(units, features))
        self.weight_hh_l0 = nn.Parameter(torch.empty(units, units))
        self.bias_ih_l0 = nn.Parameter(torch.zeros(units))
        self.bias_hh_l0 = nn.Parameter(torch.zeros(units))
        for weight in (self.weight_ih_l0, self.weight_hh_l0):
            nn.init.uniform_(weight, -units ** -0.5, units ** -0.5)
        self.activation = activation_module(activation)

    def forward(self, x):
        projected = F.linear(x, self.weight_ih_l0, self.bias_ih_l0)
        h = x.new_zeros(x.shape[0], self.weight_hh_l0.shape[0])
        states = []
        for t in range(x.shape[1]):
            h = self.activation(projected[:, t] + F.linear(h, self.weight_hh_l0, self.bias_hh_l0))
            states.append(h)
        return torch.stack(states, dim=1), h


class ParameterFree(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x)

    def load(self, entry, write=None):
        pass

    def export(self, read=None):
        return None


def _block(plan) -> nn.Module:
    layer = plan.layer
    if isinstance(layer, specs.Dense):
        return DenseBlock(plan)
    if isinstance(layer, specs.Conv2D):
        return ConvBlock(plan)
    if isinstance(layer, specs.Recurrent):
        return RecurrentBlock(plan)
    if isinstance(layer, specs.MaxPool):
        return ParameterFree(nn.MaxPool2d(layer.size, layer.step))
    if isinstance(layer, specs.AvgPool):
        return ParameterFree(nn.AvgPool2d(layer.size, layer.step))
    if isinstance(layer, specs.Flatten):
        return ParameterFree(nn.Flatten())
    if isinstance(layer, specs.Dropout):
        return ParameterFree(nn.Dropout(layer.rate))
    raise ValueError(f"{plan.label}: no torch block for {layer.type}")


class TorchNet(nn.Module):
    """The spec's network; ``forward`` returns the output activations and
    keeps the output layer's pre-activation (for the fused losses)."""

    def __init__(self, spec: specs.Spec):
        super().__init__()
        self.spec = spec
        self.plans = specs.plan_layers(spec)
        self.blocks = nn.ModuleList([_block(plan) for plan in self.plans])
        output = spec.output
        self.loss_name = output.loss
        self.activation_name = output.activation
        self.classes = specs.task_classes(spec.task)
        if spec.weights is not None:
            self.load_engine_weights(spec.weights)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x

    @property
    def logits(self):
        return self.blocks[-1].pre_activation

    def load_engine_weights(self, weights) -> None:
        with torch.no_grad():
            for block, entry in zip(self.blocks, weights):
                if entry:
                    block.load(entry)

    def engine_weights(self) -> list:
        """Weights in the engine's (and the spec's) layout, as nested lists."""
        out = []
        for block in self.blocks:
            entry = block.export()
            out.append(None if entry is None else {k: np.asarray(v).tolist() for k, v in entry.items()})
        return out

    def engine_gradients(self) -> np.ndarray:
        """The parameters' gradients flattened in the engine's order and
        layout (comparable with ``Model.grads``)."""
        return self.engine_flat(gradient_of)

    def engine_flat(self, read) -> np.ndarray:
        """One number per engine parameter, in the engine's flat order and
        layout, read from each torch parameter by ``read`` (its value, its
        gradient, an optimiser's moment…)."""
        parts = []
        for block in self.blocks:
            entry = block.export(read)
            if entry:
                parts.extend(np.ravel(value) for value in entry.values())
        return np.concatenate(parts) if parts else np.zeros(0)

    def load_engine_flat(self, flat, model, write) -> None:
        """The inverse of ``engine_flat``: split ``flat`` by the engine
        model's layout and hand each torch parameter its part via ``write``."""
        flat = np.asarray(flat)
        for block, (start, _), layer in zip(self.blocks, model.layer_slices, model.layers):
            if layer.params:
                offset, entry = start, {}
                for name, value in layer.params.items():
                    entry[name] = flat[offset:offset + value.size].reshape(value.shape)
                    offset += value.size
                block.load(entry, write)


def targets(labels, loss_name: str, activation: str, classes: int, dtype=torch.float64):
    """The engine's target encoding (see playground.engine.heads), in torch."""
    labels = torch.as_tensor(np.asarray(labels))
    if loss_name == "cross_entropy":
        return labels.long()
    values = labels.to(dtype).unsqueeze(-1)
    if classes:
        low = 0.0 if activation in ("sigmoid", "relu", "softplus") else -1.0
        return torch.where(values > 0, torch.ones_like(values), torch.full_like(values, low))
    return values


def loss(net: TorchNet, output, target):
    """The engine's losses: mean over examples (and steps)."""
    count = output.numel() // output.shape[-1]
    if net.loss_name == "cross_entropy":
        logits = net.logits
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), reduction="sum") / count
    if net.loss_name == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(net.logits, target, reduction="sum") / count
    return 0.5 * ((output - target) ** 2).sum() / count


def assign(parameter, value) -> None:
    """Set a parameter in place (without recording it for autograd)."""
    with torch.no_grad():
        parameter.copy_(torch.as_tensor(np.asarray(value), dtype=parameter.dtype))


def value_of(parameter) -> np.ndarray:
    return parameter.detach().cpu().double().numpy()


def gradient_of(parameter) -> np.ndarray:
    if parameter.grad is None:
        return np.zeros(tuple(parameter.shape))
    return parameter.grad.detach().cpu().double().numpy()
