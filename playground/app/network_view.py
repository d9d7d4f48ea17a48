"""The live network view as a Panel component; its drawing and the worker
live in assets/ (network_view.js, worker.js)."""
from __future__ import annotations

from pathlib import Path

import param
from panel.custom import JSComponent

from playground.session import MAP
from playground.spec import ACTIVATIONS, DATASETS, FEATURE_LABELS, Spec, SpecError, task_classes
from playground.spec.sharing import QUERY_KEY, spec_to_link

from . import palette
from .state import PlaygroundState

ASSETS = Path(__file__).resolve().parent / "assets"


class NetworkView(JSComponent):
    """The network graph, the decision surface and the in-browser engine.

    Python owns the spec: the view sends edits as messages and gets the new
    spec back as ``spec_json``. It sends summaries (about five a second)."""

    spec_json = param.String(doc="The spec the engine trains (JSON, no weights).")
    share_query = param.String(doc="The page's query string that reproduces the run.")
    playing = param.Boolean(False)
    assets_url = param.String("assets/")
    pyodide_url = param.String("pyodide/")
    bundle_url = param.String("engine.zip")
    boot_timeout = param.Number(60.0, bounds=(1, None), doc="Seconds before a stuck start is reported.")
    benchmark = param.Boolean(False, doc="One epoch per frame, drawn as it arrives (for the benchmark).")
    palette = param.Dict(default=palette.as_dict())
    feature_labels = param.Dict(default=dict(FEATURE_LABELS))
    activations = param.List(default=list(ACTIVATIONS))
    map_size = param.Integer(MAP)
    dataset_kinds = param.Dict(default={name: info.kind for name, info in DATASETS.items()})
    classes = param.Integer(0, doc="Classes of the current task (0 for regression).")
    engine_status = param.String("", doc="What the engine is doing while it starts; 'ready' or 'failed' after.")
    engine_ready = param.Boolean(False)
    engine_error = param.String("")

    _esm = "assets/network_view.js"
    _stylesheets = [(ASSETS / "network_view.css").read_text()]

    def __init__(self, state: PlaygroundState, **params):
        super().__init__(**params)
        self.state = state
        self._show(state.spec)
        state.param.watch(lambda event: self._show(event.new), "spec")
        state.param.watch(lambda event: setattr(self, "playing", event.new), "playing")
        self.param.watch(lambda event: setattr(state, "playing", event.new), "playing")
        self.param.watch(lambda event: setattr(state, "engine_ready", event.new), "engine_ready")

    def _show(self, spec: Spec) -> None:
        self.classes = task_classes(spec.task)
        self.spec_json = spec.to_json(weights=False)
        self.share_query = f"?{QUERY_KEY}={spec_to_link(spec)}"

    def step(self) -> None:
        self._send_msg({"command": "step"})

    def reset(self) -> None:
        self._send_msg({"command": "reset"})

    def _handle_msg(self, message) -> None:
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "summary":
            self.state.summary = {key: value for key, value in message.items() if key != "type"}
        elif kind == "edit":
            arguments = {key: value for key, value in message.items() if key not in ("type", "op")}
            self.state.edit(str(message.get("op")), **arguments)
        elif kind == "loaded_spec":
            try:
                self.state.replace_spec(Spec.from_json(message.get("spec", "")))
            except SpecError as error:
                self.state.message = f"The loaded snapshot's model could not be shown: {error}"
