"""Snapshot files: a run saved to resume later — the spec with its weights,
the optimiser's state and where training was (step, epoch, batch order).

A snapshot is JSON; reading one checks everything and raises ``SpecError``
with a message that says what is wrong, so a broken upload loses nothing.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from playground.spec import Spec, SpecError, parse_spec, plan_layers

FORMAT = "playground-snapshot"
VERSION = 1
_OPTIMIZER_ARRAYS = {"sgd": (), "momentum": ("velocity",), "adam": ("m", "v")}


@dataclass
class Snapshot:
    spec: Spec  # with weights
    optimizer_state: dict  # name -> list of numbers (and "t" for Adam)
    progress: dict | None  # Trainer.progress_state(), or None to start a fresh epoch

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "spec": self.spec.to_dict(),
                "optimizer": {"name": self.spec.training.optimizer, "state": self.optimizer_state},
                "progress": self.progress}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def _fail(message: str, path: str = "") -> SpecError:
    return SpecError(f"snapshot: {message}", f"snapshot.{path}" if path else "snapshot")


def read_snapshot_text(text) -> Snapshot:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("the file is not text; choose a .json snapshot saved by the playground") from None
    try:
        raw = json.loads(text)
    except ValueError as error:
        where = f" at line {error.lineno}, column {error.colno}" if hasattr(error, "lineno") else ""
        raise _fail(f"the file is not valid JSON{where}; is it a playground snapshot?") from None
    except RecursionError:
        raise _fail("the file is nested too deeply to be a snapshot") from None
    return read_snapshot(raw)


def read_snapshot(raw) -> Snapshot:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise _fail("this is not a playground snapshot (its \"format\" is not \"playground-snapshot\")")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION or version < 1:
        raise _fail(f"version {version!r} is not one this playground reads (1)", "version")
    try:
        spec = parse_spec(raw.get("spec"))
    except SpecError as error:
        raise SpecError(f"snapshot spec: {error}", f"snapshot.spec.{error.path}") from None
    if spec.weights is None:
        raise _fail("it holds no weights", "spec.weights")
    size = sum(plan.parameter_count for plan in plan_layers(spec))
    optimizer = raw.get("optimizer")
    if not isinstance(optimizer, dict) or optimizer.get("name") != spec.training.optimizer:
        raise _fail(f"its optimizer entry must name {spec.training.optimizer!r}, the spec's optimizer",
                    "optimizer")
    state = optimizer.get("state") or {}
    if not isinstance(state, dict):
        raise _fail("optimizer.state must be an object", "optimizer.state")
    for name in _OPTIMIZER_ARRAYS[spec.training.optimizer]:
        if name in state:
            _check_numbers(state[name], size, f"optimizer.state.{name}")
    if "t" in state and (not isinstance(state["t"], int) or isinstance(state["t"], bool) or state["t"] < 0):
        raise _fail("optimizer.state.t must be a whole number of steps", "optimizer.state.t")
    progress = raw.get("progress")
    if progress is not None:
        _check_progress(progress, spec)
    return Snapshot(spec, state, progress)


def _check_numbers(values, size: int, path: str) -> None:
    if not isinstance(values, list) or len(values) != size:
        raise _fail(f"{path} must list {size:,} numbers, one per parameter", path)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(f"{path} holds {value!r}, which is not a finite number", path)


def _check_progress(progress, spec: Spec) -> None:
    if not isinstance(progress, dict):
        raise _fail("progress must be an object", "progress")
    for key in ("step", "epochs_done", "cursor"):
        value = progress.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _fail(f"progress.{key} must be a whole number, got {value!r}", f"progress.{key}")
    train = round(spec.task.sample_count * spec.task.train_ratio)
    order = progress.get("order")
    whole = isinstance(order, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in order)
    if not whole or sorted(order) != list(range(train)):
        raise _fail(f"progress.order must be an ordering of the {train} training examples", "progress.order")
    if progress["cursor"] > train:
        raise _fail(f"progress.cursor must be at most {train}", "progress.cursor")
    rng = progress.get("rng")
    if not isinstance(rng, dict) or rng.get("bit_generator") != "PCG64":
        raise _fail("progress.rng must be the saved PCG64 state", "progress.rng")
