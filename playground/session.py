"""A training session: one learner's run as the browser worker runs it —
the spec, its data, a trainer, edits during the run, and frames of what
the views show. numpy only (it runs inside Pyodide); the server trainer
produces the same frames.
"""
from __future__ import annotations

import numpy as np

from playground import frames
from playground.data import grid_points, make_dataset, point_features
from playground.engine import Model, Trainer
from playground.engine.probes import neuron_grid
from playground.engine.recurrent import Recurrent
from playground.snapshot import Snapshot
from playground.spec import FEATURES, Spec

SURFACE = 100  # the output surface is SURFACE × SURFACE
MAP_STRIDE = 5  # neuron maps take every 5th cell: 20 × 20, exactly the 20 × 20 grid's centres
MAP = SURFACE // MAP_STRIDE


class TrainingSession:
    def __init__(self, spec: Spec, dtype=np.float32):
        self.dtype = np.dtype(dtype)
        self.spec: Spec | None = None
        self.data = None
        self.trainer: Trainer | None = None
        self.data_version = 0
        self._sent_data_version = -1
        self._grid = None
        self.apply_spec(spec)

    @property
    def model(self) -> Model:
        return self.trainer.model

    @property
    def is_points(self) -> bool:
        return self.spec.task.info.kind == "points"

    # --- changing the run ----------------------------------------------------------

    def apply_spec(self, spec: Spec) -> None:
        """Take a new spec mid-run: new data if the task changed, the same
        weights wherever the shapes allow (new neurons start from the seeded
        initialisation), and the optimiser's state if its layout is unchanged.
        A spec that carries weights uses those."""
        old, old_spec = self.trainer, self.spec
        if self.data is None or old_spec is None or spec.task != old_spec.task:
            self.data = make_dataset(spec.task)
            self.data_version += 1
            self._grid = None
            if spec.task.info.kind == "points":
                features = point_features(grid_points(SURFACE), spec.task.input_features)
                self._grid = features.astype(self.dtype)
        model = Model(spec, self.dtype)
        if old is not None and spec.weights is None:
            carry_weights(old.model, model, old_spec, spec)
        trainer = Trainer.for_dataset(spec, self.data, dtype=self.dtype, model=model)
        if old is not None:
            trainer.step, trainer.epochs_done = old.step, old.epochs_done
            same_layout = [p.params for p in old.model.plans] == [p.params for p in model.plans]
            if same_layout and old.optimizer.name == trainer.optimizer.name:
                trainer.optimizer.load_state(old.optimizer.state())
        self.trainer, self.spec = trainer, spec

    def reset(self) -> None:
        """Start again on the same data: weights from the seed, step 0."""
        model = Model(self.spec.with_weights(None), self.dtype)
        self.trainer = Trainer.for_dataset(self.spec, self.data, dtype=self.dtype, model=model)

    def set_weight(self, layer: int, name: str, index: int, value: float) -> None:
        """Set one parameter (a weight or a bias) by its flat index."""
        params = self.model.layers[layer].params[name]
        params.reshape(-1)[index] = value

    # --- training -------------------------------------------------------------------

    def train(self, steps: int) -> None:
        """Steps without batch losses: the views read the summary's losses."""
        for _ in range(steps):
            self.trainer.train_step(with_loss=False)

    def train_epoch(self) -> None:
        """The steps left in the current epoch."""
        self.train(1)
        while self.trainer.epoch != int(self.trainer.epoch):
            self.train(1)

    def summary(self) -> dict:
        """The few numbers Python (lessons, classroom, charts) needs."""
        model, data, trainer = self.model, self.data, self.trainer
        train_loss, train_accuracy = model.evaluate(data.x_train, data.y_train)
        test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test)
        norms = model.gradient_norms()
        return {
            "step": trainer.step, "epoch": round(trainer.epoch, 4),
            "train_loss": frames.finite_or_none(train_loss), "test_loss": frames.finite_or_none(test_loss),
            "train_accuracy": train_accuracy, "test_accuracy": test_accuracy,
            "gradient_norms": [frames.finite_or_none(n) for n in norms],  # None: no parameters
            "diverged": not (np.isfinite(train_loss) and np.all(np.isfinite(model.params))),
        }

    # --- frames ---------------------------------------------------------------------

    def frame(self) -> tuple[dict, dict]:
        """Header and arrays of one frame (see playground.frames)."""
        header = self.summary()
        header.update(kind="frame", dataset=self.spec.task.dataset, data_version=self.data_version)
        arrays = {}
        if self.is_points:
            header.update(self._surface_and_maps(arrays))
        for position, layer in enumerate(self.model.layers):
            for name, value in layer.params.items():
                arrays[f"param/{position}/{name}"] = value.astype(np.float32)
        if self._sent_data_version != self.data_version:
            arrays.update(self._data_arrays())
            if self.is_points:
                arrays["data/feature_maps"] = _feature_maps()
                header["feature_names"] = list(FEATURES)
            self._sent_data_version = self.data_version
        return header, arrays

    def encoded_frame(self) -> bytes:
        header, arrays = self.frame()
        return frames.encode(header, arrays)

    def _surface_and_maps(self, arrays: dict) -> dict:
        outputs = neuron_grid(self.model, self._grid)  # every layer: (units, SURFACE²)
        head = self.model.head
        output = outputs[-1]
        if head.units > 1:  # multiclass: the winning class and how sure the model is
            arrays["surface_class"] = output.argmax(axis=0).astype(np.uint8).reshape(SURFACE, SURFACE)
            arrays["surface"] = output.max(axis=0).astype(np.float32).reshape(SURFACE, SURFACE)
            kind = "classes"
        else:
            values = output[0]
            if head.low == 0.0:  # outputs in [0, 1] (sigmoid): centre them on 0 like the ±1 ones
                values = 2.0 * values - 1.0
            arrays["surface"] = np.clip(values, -1.0, 1.0).astype(np.float32).reshape(SURFACE, SURFACE)
            kind = "signed"
        start = MAP_STRIDE // 2
        for position, values in enumerate(outputs):
            if values.ndim == 2:
                grid = values.reshape(-1, SURFACE, SURFACE)[:, start::MAP_STRIDE, start::MAP_STRIDE]
                arrays[f"map/{position}"] = np.clip(grid, -1.0, 1.0).astype(np.float32)
        return {"surface_kind": kind, "surface_size": SURFACE, "map_size": MAP}

    def _data_arrays(self) -> dict:
        data = self.data
        out = {}
        if data.points_train is not None:
            out["data/points_train"] = data.points_train.astype(np.float32)
            out["data/points_test"] = data.points_test.astype(np.float32)
        for split, labels in (("train", data.y_train), ("test", data.y_test)):
            out[f"data/labels_{split}"] = labels.astype(np.float32 if labels.dtype.kind == "f" else np.int32)
        return out

    # --- snapshots ------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        trainer = self.trainer
        state = {name: value.tolist() if isinstance(value, np.ndarray) else value
                 for name, value in trainer.optimizer.state().items()}
        return Snapshot(self.model.spec_with_weights(), state, trainer.progress_state())

    def load_snapshot(self, snapshot: Snapshot) -> None:
        """Resume a saved run: its spec and weights, optimiser state and batch order."""
        self.trainer = None
        self.spec = None
        self.data = None
        self.apply_spec(snapshot.spec)
        trainer = self.trainer
        trainer.optimizer.load_state({name: np.asarray(value, dtype=self.dtype) if isinstance(value, list) else value
                                      for name, value in snapshot.optimizer_state.items()})
        if snapshot.progress is not None:
            trainer.load_progress_state(snapshot.progress)
        # The spec keeps its weights out of later edits: they live in the model now.
        self.spec = self.spec.with_weights(None)


def _feature_maps() -> np.ndarray:
    """Every engineered input over the MAP × MAP grid, scaled to [-1, 1], in
    the order of FEATURES — the thumbnails of the features column."""
    maps = point_features(grid_points(MAP), FEATURES).T.reshape(len(FEATURES), MAP, MAP)
    return (maps / np.abs(maps).max(axis=(1, 2), keepdims=True)).astype(np.float32)


def carry_weights(old: Model, new: Model, old_spec: Spec, new_spec: Spec) -> None:
    """Copy the old model's weights into the new one wherever they still fit:
    hidden layers by position, output to output, the overlapping block of
    each parameter (per gate for recurrent layers). First-layer rows follow
    the input features by name, so switching a feature off keeps the others."""
    pairs = list(zip(old.layers[:-1], new.layers[:-1])) + [(old.layers[-1], new.layers[-1])]
    first_rows = _feature_rows(old_spec, new_spec)
    for position, (source, target) in enumerate(pairs):
        if type(source.plan.layer) is not type(target.plan.layer):
            continue
        for name, value in target.params.items():
            if name not in source.params or source.params[name].ndim != value.ndim:
                continue
            old_value, new_value = source.params[name], value
            if isinstance(target, Recurrent):  # split the gate axis so gates stay apart
                old_value = old_value.reshape(old_value.shape[:-1] + (-1, source.units))
                new_value = new_value.reshape(new_value.shape[:-1] + (-1, target.units))
            if position == 0 and name == "W" and first_rows is not None and new_value.ndim == 2:
                for new_row, old_row in first_rows:
                    width = min(old_value.shape[1], new_value.shape[1])
                    new_value[new_row, :width] = old_value[old_row, :width]
                continue
            block = tuple(slice(0, min(a, b)) for a, b in zip(old_value.shape, new_value.shape))
            new_value[block] = old_value[block]


def _feature_rows(old_spec: Spec, new_spec: Spec):
    """(new row, old row) pairs for the input features both specs use, or
    None when the inputs are not engineered 2-D features."""
    old_features, new_features = old_spec.task.input_features, new_spec.task.input_features
    if not old_features or not new_features:
        return None
    return [(row, old_features.index(name)) for row, name in enumerate(new_features) if name in old_features]
