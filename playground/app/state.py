"""One learner's page state: the spec, whether it trains, what the engine reports."""
from __future__ import annotations

import param

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


class PlaygroundState(param.Parameterized):
    spec = param.ClassSelector(class_=Spec, doc="The model being built and trained.")
    playing = param.Boolean(False, doc="Whether the engine is training.")
    summary = param.Dict(default={}, doc="The engine's latest summary: step, epoch, losses, accuracy.")
    message = param.String("", doc="Why the last edit was refused, in words; empty when it was not.")
    engine_ready = param.Boolean(False)
    train_in = param.Selector(default="automatic", objects=list(CHOICES),
                              doc="Where the learner wants training: automatic, browser or server.")
    route_note = param.String("", doc="Why the learner's choice of where to train could not be followed.")

    def edit(self, name: str, **arguments) -> bool:
        """Apply a named edit. A refused edit leaves the spec as it was and says why."""
        function = EDITS.get(name)
        if function is None:
            self.message = f"Unknown edit {name!r}."
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

    def replace_spec(self, spec: Spec) -> None:
        self.message = ""
        self.spec = spec
