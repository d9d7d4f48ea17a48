"""Where a model trains: in the learner's browser or on the server.

The cost of a spec is the work of one training epoch, counted as
*parameter uses*: each parameter is used once per example by a dense layer,
once per output position by a convolution and once per time step by a
recurrent layer; times the training examples, times three (the forward
pass and the two products of the backward pass). It is a multiply-add
count, close enough to the time a step takes on any machine.

The browser's budget is what its engine (numpy inside WebAssembly) trains
in about two seconds an epoch; anything bigger goes to the server, and
anything far bigger is refused in the browser even when asked for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from playground.spec import Conv2D, Recurrent, Spec, plan_layers

#: Multiply-adds per epoch the browser trains comfortably (about 2 s an epoch).
BROWSER_BUDGET = 400_000_000
#: Beyond this a learner cannot force a model into the browser: its page would stall.
BROWSER_HARD_LIMIT = 10 * BROWSER_BUDGET
CHOICES = ("automatic", "browser", "server")


def uses_per_example(spec: Spec) -> int:
    """Parameter uses of one example's forward pass."""
    total = 0
    for plan in plan_layers(spec):
        count = plan.parameter_count
        if isinstance(plan.layer, Conv2D):
            count *= math.prod(plan.output_shape[1:])
        elif isinstance(plan.layer, Recurrent):
            count *= plan.input_shape[0]
        elif len(plan.input_shape) == 2:  # a dense layer applied at every step of a sequence
            count *= plan.input_shape[0]
        total += count
    return total


def epoch_cost(spec: Spec) -> int:
    """Multiply-adds of one training epoch (forward and backward)."""
    training_examples = round(spec.task.sample_count * spec.task.train_ratio)
    return 3 * uses_per_example(spec) * training_examples


class JobRefused(Exception):
    """A training job the server will not start; the message says why. (Here,
    not in server/, so that the page can catch it without importing torch.)"""


@dataclass(frozen=True)
class Route:
    where: str  # "browser" or "server"
    reason: str  # in plain words, for the learner
    refused: str = ""  # why the learner's choice could not be followed, if it could not


def route(spec: Spec, choice: str = "automatic", server: str | None = None) -> Route:
    """Where ``spec`` trains. ``choice`` is the learner's ("automatic",
    "browser", "server"); ``server`` describes the server trainer ("GPU
    (…)" or "CPU"), None when this playground has none."""
    if choice not in CHOICES:
        raise ValueError(f"unknown choice {choice!r}; choose one of {', '.join(CHOICES)}")
    cost = epoch_cost(spec)
    size = f"{_amount(cost)} multiply-adds an epoch"
    budget = f"the browser's budget of {_amount(BROWSER_BUDGET)}"
    server_only = spec.task.info.server_only if hasattr(spec.task.info, "server_only") else False
    no_server = "this playground has no server trainer (whoever runs it can start it with torch installed " \
                "or point it at a training server)"
    if server_only:
        if server is None:
            return Route("browser", f"the dataset {spec.task.info.title} lives on the server, but {no_server}",
                         refused="This dataset can only be trained on the server, and " + no_server + ".")
        refused = "This dataset lives on the server; it cannot train in the browser." if choice == "browser" else ""
        return Route("server", f"the dataset {spec.task.info.title} lives on the server", refused=refused)
    if choice == "browser":
        if cost > BROWSER_HARD_LIMIT and server is not None:
            return Route("server", f"{size}, far over {budget}",
                         refused=f"This model is too big for the browser ({size}; the most is "
                                 f"{_amount(BROWSER_HARD_LIMIT)}): it trains on the server.")
        return Route("browser", "you chose the browser")
    if choice == "server":
        if server is None:
            return Route("browser", no_server, refused=f"It cannot train on the server: {no_server}.")
        return Route("server", "you chose the server")
    if cost <= BROWSER_BUDGET:
        return Route("browser", f"{size}, within {budget}")
    if server is None:
        return Route("browser", f"{size}, over {budget}, and {no_server}; training will be slow")
    return Route("server", f"{size}, over {budget}")


def _amount(value: float) -> str:
    for unit, scale in (("billion", 1e9), ("million", 1e6), ("thousand", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f}"
