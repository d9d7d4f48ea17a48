"""One learner's page state: the spec, whether it trains, what the engine
reports, and which controls a lesson keeps fixed."""
from __future__ import annotations

import secrets

import param

from playground.lessons import CONTROLS
from playground.routing import CHOICES
from playground.spec import Spec, SpecError, edits

#: The edits a page may ask for, by name (the view sends these names).
EDITS = {
    "add_layer": edits.add_layer,
    "remove_layer": edits.remove_layer,
    "add_neuron": lambda spec, layer: edits.add_neuron(spec, layer),
    "remove_neuron": lambda spec, layer: edits.remove_neuron(spec, layer),
    "set_activation": lambda spec, activation, layer=None: edits.set_activation(spec, activation, layer),
    "toggle_feature": edits.toggle_feature,
    "set_task": edits.set_task,
    "set_problem": edits.set_problem,
    "set_training": edits.set_training,
    "insert_layer": lambda spec, index, layer: edits.insert_layer(spec, index, layer),
    "set_layer": lambda spec, layer, **fields: edits.set_layer(spec, layer, **fields),
}

#: Which control each field of an edit belongs to, so that a lesson's lock
#: holds whichever widget (or forged message) asks for the edit.
_FIELD_CONTROLS = {
    "set_task": {"dataset": "dataset", "options": "dataset", "train_ratio": "ratio", "noise": "noise",
                 "seed": "regenerate"},
    "set_training": {"learning_rate": "learning_rate", "optimizer": "optimizer", "l1": "regularization",
                     "l2": "regularization", "batch_size": "batch_size", "init": "init", "seed": "run"},
    "set_layer": {"units": "neurons", "filters": "neurons", "activation": "activation"},
}
_EDIT_CONTROLS = {
    "add_layer": "layers", "remove_layer": "layers", "insert_layer": "layers",
    "add_neuron": "neurons", "remove_neuron": "neurons", "set_activation": "activation",
    "toggle_feature": "features", "set_problem": "problem",
}


def controls_of_edit(name: str, arguments: dict) -> set[str]:
    """The controls an edit changes (a layer's kernel or cell type counts as
    building layers)."""
    if name in _EDIT_CONTROLS:
        return {_EDIT_CONTROLS[name]}
    fields = _FIELD_CONTROLS.get(name, {})
    default = "layers" if name == "set_layer" else "dataset"
    return {fields.get(key, default) for key in arguments if key != "layer"} or {default}


class PlaygroundState(param.Parameterized):
    spec = param.ClassSelector(class_=Spec, doc="The model being built and trained.")
    playing = param.Boolean(False, doc="Whether the engine is training.")
    summary = param.Dict(default={}, doc="The engine's latest summary: step, epoch, losses, accuracy.")
    resumed_curve = param.List(default=[], doc="The loss curve so far of a run the page resumed after a "
                                               "reload: [{step, train, test}, …].")
    message = param.String("", doc="Why the last edit was refused, in words; empty when it was not.")
    engine_ready = param.Boolean(False)
    train_in = param.Selector(default="automatic", objects=list(CHOICES),
                              doc="Where the learner wants training: automatic, browser or server.")
    route_note = param.String("", doc="Why the learner's choice of where to train could not be followed.")
    locked = param.List(default=[], item_type=str, doc="Controls shown but not changeable (a lesson's).")
    hidden = param.List(default=[], item_type=str, doc="Controls not shown (a lesson's).")
    views = param.List(default=[], item_type=str, doc="The view tabs shown; empty: all of them.")
    same_start = param.Boolean(False, doc="Reset keeps the seed: a lesson step that needs the same start "
                                          "every time.")

    def edit(self, name: str, **arguments) -> bool:
        """Apply a named edit. A refused edit leaves the spec as it was and says why."""
        function = EDITS.get(name)
        if function is None:
            self.message = f"Unknown edit {name!r}."
            return False
        fixed = sorted(controls_of_edit(name, arguments) & (set(self.locked) | set(self.hidden)))
        if fixed:
            self.message = self.lock_text(fixed)
            return False
        try:
            spec = function(self.spec, **arguments)
        except SpecError as error:
            self.message = str(error)
            return False
        except (TypeError, ValueError) as error:  # malformed arguments from a page
            self.message = f"That edit ({name}) was refused: {error}"
            return False
        self.message = ""
        self.spec = spec
        return True

    @staticmethod
    def lock_text(controls) -> str:
        what = "; ".join(CONTROLS.get(name, name) for name in controls)
        return f"This lesson step keeps {what} as they are. Go on to the next step, or leave the lesson."

    def replace_spec(self, spec: Spec) -> bool:
        """A whole new spec (pasted JSON, a loaded snapshot): refused while a
        lesson keeps any control fixed, since it could change them all."""
        if self.locked or self.hidden:
            self.message = ("This lesson step keeps some controls fixed, so a whole model cannot be pasted or "
                            "loaded now. Leave the lesson first.")
            return False
        self.message = ""
        self.spec = spec
        return True

    def set_by_lesson(self, spec: Spec, locked=(), hidden=(), views=(), same_start=False) -> None:
        """What a lesson step sets up; locks do not apply to the lesson itself."""
        self.message = ""
        self.locked, self.hidden, self.views = list(locked), list(hidden), list(views)
        self.same_start = same_start
        self.spec = spec

    def reseed(self) -> None:
        """New random first weights for the next fresh start (Reset): a new
        seed in the spec, so that the page's link still reproduces the run."""
        if not self.same_start:
            self.spec = edits.set_training(self.spec, seed=secrets.randbelow(2**32))
