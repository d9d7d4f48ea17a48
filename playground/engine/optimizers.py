"""Optimisers over the model's flat parameter vector: one update per step
for the whole network, whatever its number of layers."""
from __future__ import annotations

import numpy as np


class SGD:
    """p ← p − lr·g"""

    name = "sgd"

    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate

    def step(self, params, grads):
        params -= self.learning_rate * grads

    def state(self) -> dict:
        """What a snapshot must keep to resume exactly."""
        return {}

    def load_state(self, state: dict) -> None:
        pass


class Momentum(SGD):
    """v ← μ·v + g, p ← p − lr·v (torch's form, no dampening)."""

    name = "momentum"

    def __init__(self, learning_rate: float, momentum: float):
        super().__init__(learning_rate)
        self.momentum = momentum
        self.velocity = None

    def step(self, params, grads):
        if self.velocity is None:
            self.velocity = np.zeros_like(params)
        self.velocity *= self.momentum
        self.velocity += grads
        params -= self.learning_rate * self.velocity

    def state(self):
        return {} if self.velocity is None else {"velocity": self.velocity.copy()}

    def load_state(self, state):
        self.velocity = None if "velocity" not in state else np.array(state["velocity"])


class Adam(SGD):
    """Moving averages of g and g², corrected for their zero start:
    p ← p − lr·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)."""

    name = "adam"

    def __init__(self, learning_rate: float, beta1: float, beta2: float, epsilon: float):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.m = self.v = None
        self.t = 0

    def step(self, params, grads):
        if self.m is None:
            self.m, self.v = np.zeros_like(params), np.zeros_like(params)
        self.t += 1
        self.m *= self.beta1
        self.m += (1.0 - self.beta1) * grads
        self.v *= self.beta2
        self.v += (1.0 - self.beta2) * grads * grads
        m_hat_scale = self.learning_rate / (1.0 - self.beta1 ** self.t)
        v_hat = self.v / (1.0 - self.beta2 ** self.t)
        params -= m_hat_scale * self.m / (np.sqrt(v_hat) + self.epsilon)

    def state(self):
        if self.m is None:
            return {"t": 0}
        return {"m": self.m.copy(), "v": self.v.copy(), "t": self.t}

    def load_state(self, state):
        self.t = int(state.get("t", 0))
        self.m = np.array(state["m"]) if "m" in state else None
        self.v = np.array(state["v"]) if "v" in state else None


def make_optimizer(training):
    """The optimiser a spec's ``training`` section asks for."""
    if training.optimizer == "adam":
        return Adam(training.learning_rate, training.beta1, training.beta2, training.epsilon)
    if training.optimizer == "momentum":
        return Momentum(training.learning_rate, training.momentum)
    return SGD(training.learning_rate)
