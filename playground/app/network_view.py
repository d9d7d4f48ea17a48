"""The live network view as a Panel component; its drawing and the worker
live in assets/ (network_view.js, worker.js)."""
from __future__ import annotations

from pathlib import Path

import param
from panel.custom import JSComponent

from playground.routing import route
from playground.session import MAP
from playground.snapshot import read_snapshot_text
from playground.spec import (ACTIVATIONS, DATASETS, FEATURE_LABELS, SHAPE_KINDS, TEXT_ALPHABET, Spec, SpecError,
                             plan_layers, task_classes)
from playground.spec import edits
from playground.spec.sharing import QUERY_KEY, spec_to_link

from . import palette
from .server_training import ServerTraining
from .state import PlaygroundState

ASSETS = Path(__file__).resolve().parent / "assets"


def catalogue_for_the_page() -> dict:
    """The spec catalogue's facts the views use — one definition, sent along."""
    return {
        "datasets": {name: {"kind": info.kind, "problem": info.problem, "per_step": info.per_step,
                            "title": info.title} for name, info in DATASETS.items()},
        "text_alphabet": TEXT_ALPHABET,
        "shape_kinds": list(SHAPE_KINDS),
        "limits": {"hidden_layers": edits.MAX_HIDDEN_LAYERS, "units": edits.MAX_UNITS,
                   "recurrent_units": edits.MAX_UNITS * 4, "filters": edits.MAX_FILTERS,
                   "kernel": edits.MAX_KERNEL},
    }


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
    fault_hooks = param.Boolean(False, doc="The engine takes faults made on purpose (for the tests of recovery).")
    hang_timeout = param.Number(20.0, bounds=(1, None), doc="Seconds without an answer before the browser's "
                                                            "engine counts as hung and is replaced.")
    palette = param.Dict(default=palette.as_dict())
    feature_labels = param.Dict(default=dict(FEATURE_LABELS))
    activations = param.List(default=list(ACTIVATIONS))
    map_size = param.Integer(MAP)
    dataset_kinds = param.Dict(default={name: info.kind for name, info in DATASETS.items()})
    catalogue = param.Dict(default=catalogue_for_the_page(), doc="What the views need to know of the catalogue.")
    classes = param.Integer(0, doc="Classes of the current task (0 for regression).")
    plan = param.List(doc="Every layer's input and output shapes, as validation inferred them.")
    engine_status = param.String("", doc="What the engine is doing while it starts; 'ready' or 'failed' after.")
    engine_ready = param.Boolean(False)
    engine_error = param.String("")
    backend = param.Selector(default="browser", objects=["browser", "server"], doc="Where the model trains now.")
    route_reason = param.String("", doc="Why it trains there, in words.")
    server_where = param.String("", doc="The server trainer's device in words; empty when there is none.")
    want_thumbnail = param.Boolean(False, doc="Summaries carry a small decision-surface picture (a classroom's).")
    run = param.Dict(default={}, doc=(
        "The run the engine is to be on: its 'tag' (counts changes to the run: a new spec, a reset, new "
        "weights), its 'spec' (JSON, with the weights when it sets some) and 'fresh_since' (the tag of the "
        "latest fresh start). A parameter, not a message, so that the view gets the latest run however "
        "early it was set; the engine echoes the tag in its summaries, and summaries of a run that no "
        "longer is are dropped: a lesson's goal must not read them."))
    locked = param.List(default=[], doc="Controls a lesson keeps fixed (see playground.lessons.CONTROLS).")
    hidden_controls = param.List(default=[], doc="Controls a lesson hides.")
    views = param.List(default=[], doc="The view tabs shown; empty: all.")

    _esm = "assets/network_view.js"
    _stylesheets = [(ASSETS / "network_view.css").read_text()]

    def __init__(self, state: PlaygroundState, trainer=None, **params):
        super().__init__(**params)
        self.state = state
        self.server = ServerTraining(trainer, lambda message: self._send_msg({"engine": message}))
        self.server_where = self.server.where
        self._show(state.spec)
        state.param.watch(lambda event: self._show(event.new), "spec")
        state.param.watch(lambda event: self._route(state.spec), "train_in")
        state.param.watch(lambda event: setattr(self, "playing", event.new), "playing")
        self.param.watch(lambda event: setattr(state, "playing", event.new), "playing")
        self.param.watch(lambda event: setattr(state, "engine_ready", event.new), "engine_ready")
        for name, mine in (("locked", "locked"), ("hidden", "hidden_controls"), ("views", "views")):
            setattr(self, mine, list(getattr(state, name)))
            state.param.watch(lambda event, mine=mine: setattr(self, mine, list(event.new)), name)

    def _show(self, spec: Spec) -> None:
        self.classes = task_classes(spec.task)
        self.plan = [{"label": plan.label, "type": plan.layer.type, "input": list(plan.input_shape),
                      "output": list(plan.output_shape), "parameters": plan.parameter_count,
                      "return_sequences": plan.return_sequences} for plan in plan_layers(spec)]
        self._route(spec)
        spec_json = spec.to_json(weights=False)
        if spec_json != self.spec_json:
            self._start_run(spec, fresh=False)
        self.spec_json = spec_json  # last: the view reads the plan when this changes
        self.share_query = f"?{QUERY_KEY}={spec_to_link(spec)}"

    def _export(self, snapshot_text: str) -> None:
        """The run as a runnable PyTorch project (a zip) for the learner to download."""
        try:
            from server.export import export_zip
        except ImportError:
            self._send_msg({"export_failed": "exporting to PyTorch needs torch on the server, and it has none"})
            return
        try:
            spec = read_snapshot_text(snapshot_text).spec
            data = export_zip(spec)
        except (SpecError, ValueError) as error:
            self._send_msg({"export_failed": str(error)})
            return
        self._send_msg({"download": f"playground-{spec.task.dataset}-pytorch.zip", "buffer": data})

    def _route(self, spec: Spec) -> None:
        """Where this spec trains (see playground.routing), and why."""
        decision = route(spec, self.state.train_in, self.server_where or None)
        self.state.route_note = decision.refused
        where = "in this browser" if decision.where == "browser" else f"on the server ({self.server_where})"
        self.route_reason = f"Training {where}: {decision.reason}."
        self.backend = decision.where

    #: Called with the run's snapshot text when the learner submits it to a class.
    on_submit = None

    def request_submission(self) -> None:
        """Ask the engine for the run as a snapshot; ``on_submit`` gets it ("" when it has none yet)."""
        self._send_msg({"command": "submit"})

    def step(self) -> None:
        self._send_msg({"command": "step"})

    def reset(self) -> None:
        """A fresh start of the spec as it is: weights from its seed, step 0."""
        self._start_run(self.state.spec, fresh=True)

    def load_weights(self, spec: Spec) -> None:
        """Give the engine the weights a spec carries (a lesson's preset)."""
        if spec.weights is not None:
            self._start_run(spec, fresh=False)

    @property
    def run_tag(self) -> int:
        return self.run.get("tag", 0)

    def _start_run(self, spec: Spec, fresh: bool) -> None:
        """A change to the run: what the engine said of the run before no
        longer holds, so a goal shows "not measured yet" until it reports."""
        tag = self.run_tag + 1
        self.state.summary = {}
        self.run = {"tag": tag, "spec": spec.to_json(), "fresh_since": tag if fresh else self.run.get("fresh_since", 0)}

    def _handle_msg(self, message) -> None:
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "summary":
            if message.get("tag") != self.run_tag:
                return  # of a run before the latest change: the goals of a lesson must not read it
            summary = {key: value for key, value in message.items() if key not in ("type", "tag")}
            self.state.summary = dict(summary, trains_on=self.backend)
        elif kind == "resumed":
            self.state.resumed_curve = _curve_points(message.get("history"))
        elif kind == "edit":
            fields = message.get("fields")
            if not isinstance(fields, dict):
                self.state.message = "That edit was refused: it came without its fields."
                return
            self.state.edit(str(message.get("op")), **fields)
        elif kind == "job_open":
            self.server.open()
        elif kind == "job":
            if isinstance(message.get("message"), dict):
                self.server.send(message["message"])
        elif kind == "job_close":
            self.server.close("the page trains in the browser now")
        elif kind == "export":
            self._export(message.get("text", ""))
        elif kind == "submit" and self.on_submit is not None:
            self.on_submit(str(message.get("text") or ""))
        elif kind == "loaded_spec":
            try:
                self.state.replace_spec(Spec.from_json(message.get("spec", "")))
            except SpecError as error:
                self.state.message = f"The loaded snapshot's model could not be shown: {error}"


def _curve_points(history) -> list[dict]:
    """The points of a kept loss curve the page sent; anything malformed is left out."""
    if not isinstance(history, list):
        return []
    points = []
    for point in history[:10_000]:
        if isinstance(point, dict) and isinstance(point.get("step"), int):
            points.append({"step": point["step"], **{key: _number(point.get(key)) for key in ("train", "test")}})
    return points


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
