"""What the browser's Web Worker calls through Pyodide: plain values in and
out, one training session per worker. Errors raise (SpecError for a bad
spec or snapshot); the worker reports their message to the page."""
from __future__ import annotations

import json

from playground import frames
from playground.session import TrainingSession
from playground.snapshot import read_snapshot_text
from playground.spec import Spec

_session: TrainingSession | None = None


def setup(spec_json: str, fresh: bool = False) -> None:
    """Start, or change the running session's spec: weights kept where they
    fit, or (``fresh``) a new start at step 0."""
    global _session
    spec = Spec.from_json(spec_json)
    if _session is None:
        _session = TrainingSession(spec)
    elif fresh:
        _session.restart(spec)
    else:
        _session.apply_spec(spec)


def train(steps: int) -> None:
    _session.train(int(steps))


def train_epoch() -> None:
    _session.train_epoch()


def steps_per_epoch() -> int:
    trainer = _session.trainer
    return -(-len(trainer.x) // trainer.spec.training.batch_size)


def set_weight(layer: int, name: str, index: int, value: float) -> None:
    _session.set_weight(int(layer), str(name), int(index), float(value))


def frame() -> bytes:
    return _session.encoded_frame()


def set_views(views_json: str) -> None:
    """{"views": [...], "pca_layer": n}: the views on the page."""
    request = json.loads(views_json)
    _session.set_views(request.get("views", []), request.get("pca_layer"))


def select(index=None, values_json: str | None = None) -> None:
    """Look at training example ``index``, or at an example the learner made (JSON)."""
    _session.select(index, None if values_json is None else json.loads(values_json))


def probe(name: str, arguments_json: str) -> bytes:
    header, arrays = _session.probe(name, json.loads(arguments_json))
    return frames.encode(dict(header, kind="probe", probe=name), arrays)


def current_step() -> int:
    return _session.trainer.step


def snapshot_json() -> str:
    return _session.snapshot().to_json()


def load_snapshot(text: str) -> str:
    """Resume a saved run; returns its spec (without weights) as JSON for the page."""
    global _session
    snapshot = read_snapshot_text(text)
    if _session is None:
        _session = TrainingSession(snapshot.spec.with_weights(None))
    _session.load_snapshot(snapshot)
    return _session.spec.to_json()
