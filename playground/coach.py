"""The training coach: watches a run and says, in plain words, what is going
wrong and what to try. It reads only what every frame has anyway — the
summary (losses, accuracy) and the hidden units' states — so it can stay on.

Findings, most serious first:
- diverged: the loss is no longer a number (the run is paused);
- blown up: the loss jumped above the untrained network's and stays there —
  the weights leapt to where every unit is saturated or dead (paused too);
- exploding: the loss grows step after step;
- dead units: ReLU units that output 0 for every input (they never learn again);
- saturated units: tanh/sigmoid units stuck at a limit (their gradient is ~0);
- overfitting: the training loss falls while the test loss rises;
- plateau: the loss has stopped falling while the task is not solved.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from playground.view_data import UNIT_DEAD, UNIT_SATURATED

PLATEAU_EPOCHS = 25  # look back this far for progress
PLATEAU_GAIN = 0.01  # less than 1 % better over that span is a plateau
SOLVED_ACCURACY = 0.98


@dataclass
class Advice:
    kind: str
    severity: str  # "stop" (the run was paused), "warning" or "hint"
    title: str
    text: str
    units: list = field(default_factory=list)  # [layer position, unit] pairs to highlight

    def to_dict(self) -> dict:
        return asdict(self)


class Coach:
    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget the run (after a reset, new data or a loaded snapshot)."""
        self.history: list[tuple[float, float, float | None]] = []  # (epoch, train loss, test loss)

    def observe(self, summary: dict, unit_states: dict | None = None, activations: dict | None = None) -> list[Advice]:
        """Advice for this moment of the run. ``unit_states`` maps layer
        positions to arrays of unit states (see view_data.unit_states);
        ``activations`` maps them to their activation's name."""
        train, test = summary.get("train_loss"), summary.get("test_loss")
        if summary.get("diverged") or train is None:
            return [Advice("diverged", "stop", "Training diverged",
                           "The loss is no longer a number: the steps grew too large and the weights blew up. "
                           "Training is paused. Lower the learning rate (try ten times smaller), then press Reset.")]
        epoch = float(summary.get("epoch", 0.0))
        if not self.history or epoch > self.history[-1][0]:
            self.history.append((epoch, train, test))
        elif epoch < self.history[-1][0]:  # the run went back (a reset): start again
            self.history = [(epoch, train, test)]
        blown = self._blown_up()
        if blown:
            return [blown]
        advice = []
        for check in (self._exploding, self._dead, self._saturated, self._overfitting, self._plateau):
            found = check(summary, unit_states or {}, activations or {})
            if found:
                advice.append(found)
        return advice

    def _blown_up(self):
        if len(self.history) < 6:
            return None
        first = self.history[0][1]
        recent = [train for _, train, _ in self.history[-5:]]
        stuck = max(recent) - min(recent) <= 0.05 * (sum(recent) / len(recent))
        if min(recent) > 1.25 * first and stuck:
            return Advice("blown_up", "stop", "Training has blown up",
                          f"The loss is worse than before training ({first:.3g} → {recent[-1]:.3g}) and stuck: "
                          "the steps are far too large, the weights leapt to where the neurons are saturated or "
                          "dead and almost no gradient is left. Training is paused. Lower the learning rate "
                          "(try ten times smaller), then press Reset.")
        return None

    def _exploding(self, summary, states, activations):
        recent = [train for _, train, _ in self.history[-4:]]
        best = min(train for _, train, _ in self.history)
        rising = len(recent) == 4 and all(b > a for a, b in zip(recent, recent[1:]))
        if rising and recent[-1] > 2.0 * best and recent[-1] > best + 0.05:
            return Advice("exploding", "warning", "The loss is growing",
                          f"The training loss rose from {best:.3g} to {recent[-1]:.3g}: each step overshoots the "
                          "valley it should walk down. Lower the learning rate.")
        return None

    @staticmethod
    def _units(states, wanted) -> list:
        return [[int(position), int(unit)] for position, values in states.items()
                for unit in range(len(values)) if values[unit] == wanted]

    def _dead(self, summary, states, activations):
        units = self._units(states, UNIT_DEAD)
        if not units:
            return None
        many = len(units) > 1
        return Advice("dead_units", "warning", f"{len(units)} dead neuron{'s' if many else ''}",
                      f"{'These ReLU neurons output' if many else 'This ReLU neuron outputs'} 0 for every input, "
                      "so no gradient reaches them and they will never learn again (they are outlined in the "
                      "network). Lower the learning rate, try leaky ReLU, or press Reset.", units)

    def _saturated(self, summary, states, activations):
        units = self._units(states, UNIT_SATURATED)
        if not units:
            return None
        many = len(units) > 1
        kinds = sorted({activations.get(position, "tanh") for position, _ in units})
        return Advice("saturated_units", "hint", f"{len(units)} saturated neuron{'s' if many else ''}",
                      f"{'These' if many else 'This'} {'/'.join(kinds)} neuron{'s are' if many else ' is'} stuck near "
                      "its limit for almost every input, where its slope — and so its gradient — is nearly 0 "
                      "(outlined in the network). Lower the learning rate, start from smaller weights (Glorot "
                      "initialisation), or use ReLU.", units)

    def _overfitting(self, summary, states, activations):
        known = [(e, train, test) for e, train, test in self.history if test is not None]
        if len(known) < 10:
            return None
        best_test = min(test for _, _, test in known)
        _, train_then, test_then = known[-10]
        _, train_now, test_now = known[-1]
        if test_now > 1.5 * train_now + 0.02 and test_now > 1.1 * best_test and train_now < train_then \
                and test_now > test_then:
            return Advice("overfitting", "warning", "Overfitting",
                          f"The training loss keeps falling ({train_now:.3g}) but the test loss rises "
                          f"({test_now:.3g}, it was {best_test:.3g} at best): the network is learning the noise "
                          "of its training points. Add L2 regularisation, use fewer neurons, or give it more "
                          "training data.")
        return None

    def _plateau(self, summary, states, activations):
        if len(self.history) < 2 or self.history[-1][0] - self.history[0][0] < 2 * PLATEAU_EPOCHS:
            return None
        accuracy = summary.get("train_accuracy")
        if accuracy is not None and accuracy >= SOLVED_ACCURACY:
            return None
        now = self.history[-1][0]
        before = [train for e, train, _ in self.history if e <= now - PLATEAU_EPOCHS]
        lately = [train for e, train, _ in self.history if e > now - PLATEAU_EPOCHS]
        if not before or not lately:
            return None
        best_before, best_lately = min(before), min(lately)
        if best_lately > (1.0 - PLATEAU_GAIN) * best_before and best_lately > 0.02:
            return Advice("plateau", "hint", "The loss has stopped falling",
                          f"No real progress over the last {PLATEAU_EPOCHS} epochs (training loss "
                          f"{best_lately:.3g}). Try a larger learning rate or Adam, more neurons or layers, "
                          "or other input features.")
        return None
