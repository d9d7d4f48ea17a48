"""A training session: one learner's run as the browser worker runs it —
the spec, its data, a trainer, edits during the run, and frames of what
the views show. numpy only (it runs inside Pyodide); the server trainer
produces the same frames.
"""
from __future__ import annotations

import numpy as np

import time

from playground import frames, view_data
from playground.coach import Coach
from playground.data import grid_points, make_dataset, point_features
from playground.engine import Model, Trainer
from playground.engine.probes import neuron_grid
from playground.engine.recurrent import Recurrent
from playground.snapshot import Snapshot
from playground.spec import FEATURES, Spec

SURFACE = 100  # the output surface is SURFACE × SURFACE
MAP_STRIDE = 5  # neuron maps take every 5th cell: 20 × 20, exactly the 20 × 20 grid's centres
MAP = SURFACE // MAP_STRIDE
#: The views a frame can carry extras for (the network view needs none).
VIEWS = ("gradients", "activations", "cnn", "rnn", "landscape")
GRADIENT_SAMPLE = 256  # training examples for the gradient-flow view
ACTIVITY_SAMPLE = 128  # training examples for unit states and the activation matrix
PCA_SAMPLE = 300
BOW_SAMPLE = 16  # sequences for the gradient-through-time bars
BOW_INTERVAL = 1.0  # seconds between two computations of those bars
PATH_LENGTH = 300  # weights remembered for the loss landscape's path


class TrainingSession:
    def __init__(self, spec: Spec, dtype=np.float32):
        self.dtype = np.dtype(dtype)
        self.spec: Spec | None = None
        self.data = None
        self.trainer: Trainer | None = None
        self.data_version = 0
        self._sent_data_version = -1
        self._grid = None
        self.views: set[str] = set()
        self.coach = Coach()
        self.selected_index = 0  # the example the views look at: a training example…
        self.custom_example = None  # …or one the learner made (a drawn digit, a placed point)
        self.pca_layer: int | None = None
        self.path: list[np.ndarray] = []
        self._pca_components = None
        self._bow = ({}, -1e9)  # the last gradient-through-time bars and when they were made
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
            self.coach.reset()
            self.custom_example = None
            self.selected_index = 0
            self._grid = None
            if spec.task.info.kind == "points":
                features = point_features(grid_points(SURFACE), spec.task.input_features)
                self._grid = features.astype(self.dtype)
        model = Model(spec, self.dtype)
        if old is not None and spec.weights is None:
            carry_weights(old.model, model, old_spec, spec)
        trainer = Trainer.for_dataset(spec, self.data, dtype=self.dtype, model=model)
        if old is None or [p.params for p in old.model.plans] != [p.params for p in model.plans]:
            self.path, self._pca_components, self._bow = [], None, ({}, -1e9)
        if old is not None:
            trainer.step, trainer.epochs_done = old.step, old.epochs_done
            same_layout = [p.params for p in old.model.plans] == [p.params for p in model.plans]
            if same_layout and old.optimizer.name == trainer.optimizer.name:
                trainer.optimizer.load_state(old.optimizer.state())
        self.trainer, self.spec = trainer, spec

    def restart(self, spec: Spec) -> None:
        """A fresh start at step 0 on ``spec``: the weights it carries, else
        weights from its seed."""
        self.apply_spec(spec.with_weights(None))
        self.reset()
        if spec.weights is not None:
            self.apply_spec(spec)

    def reset(self) -> None:
        """Start again on the same data: weights from the seed, step 0."""
        model = Model(self.spec.with_weights(None), self.dtype)
        self.trainer = Trainer.for_dataset(self.spec, self.data, dtype=self.dtype, model=model)
        self.coach.reset()
        self.path, self._bow = [], ({}, -1e9)

    # --- what the views look at ----------------------------------------------------

    def set_views(self, views, pca_layer: int | None = None) -> None:
        """The views on the page: frames carry their extras only."""
        unknown = set(views) - set(VIEWS)
        if unknown:
            raise ValueError(f"unknown views: {', '.join(sorted(unknown))}; known: {', '.join(VIEWS)}")
        if "landscape" not in views:
            self.path = []
        self.views = set(views)
        self.pca_layer = pca_layer

    def select(self, index: int | None = None, values=None) -> None:
        """Look at one training example, or at one the learner made: a point
        (x1, x2) for the 2-D tasks, an image or a sequence otherwise."""
        if values is None:
            if not 0 <= int(index) < len(self.data.x_train):
                raise ValueError(f"there is no training example {index}; there are {len(self.data.x_train)}")
            self.selected_index, self.custom_example = int(index), None
            return
        values = np.asarray(values, dtype=np.float64)
        if self.is_points:
            if values.shape != (2,):
                raise ValueError("a point is two coordinates (x1, x2)")
            values = point_features(values[None], self.spec.task.input_features)[0]
        expected = self.data.x_train.shape[1:]
        if values.shape != expected:
            raise ValueError(f"the example must have shape {expected}, got {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("the example holds a value that is not a number")
        self.custom_example = values.astype(self.dtype)

    @property
    def example(self) -> np.ndarray:
        if self.custom_example is not None:
            return self.custom_example
        return self.data.x_train[self.selected_index].astype(self.dtype)

    def _sample(self, size: int):
        """The first examples of the (already shuffled) training set."""
        return self.data.x_train[:size].astype(self.dtype), self.data.y_train[:size]

    def set_weight(self, layer: int, name: str, index: int, value: float) -> None:
        """Set one parameter (a weight or a bias) by its flat index."""
        layers = self.model.layers
        if not 0 <= layer < len(layers):
            raise ValueError(f"there is no layer {layer + 1}; the model has {len(layers)}")
        params = layers[layer].params
        if name not in params:
            raise ValueError(f"layer {layer + 1} has no parameter {name!r}; it has {', '.join(params) or 'none'}")
        flat = params[name].reshape(-1)
        if not 0 <= index < flat.size:
            raise ValueError(f"layer {layer + 1}'s {name} has {flat.size} values, not {index + 1}")
        if not np.isfinite(value):
            raise ValueError("a weight must be a finite number")
        flat[index] = value

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
        test_loss, test_accuracy, test_predicted = model.evaluate(data.x_test, data.y_test, predictions=True)
        norms = model.gradient_norms()
        confusion = None
        if model.head.is_classification and np.isfinite(test_loss):
            classes = max(model.head.classes, 2)
            confusion = view_data.confusion(test_predicted, data.y_test, classes)
        return {
            "confusion": confusion,
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
        header.update(kind="frame", dataset=self.spec.task.dataset, data_version=self.data_version,
                      views=sorted(self.views), selected=None if self.custom_example is not None
                      else self.selected_index)
        arrays = {}
        healthy = not header["diverged"]
        if self.is_points and healthy:
            header.update(self._surface_and_maps(arrays))
        header["coach"] = [advice.to_dict() for advice in self._coach(header, healthy)]
        if healthy:
            self._view_extras(header, arrays)
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

    def _coach(self, header: dict, healthy: bool):
        states, activations = {}, {}
        if healthy:
            x, _ = self._sample(ACTIVITY_SAMPLE)
            self.model.forward(x, training=False)
            for position in view_data.unit_layers(self.model):
                layer = self.model.layers[position]
                states[position] = view_data.unit_states(layer)
                activations[position] = view_data._activation_name(layer)
        return self.coach.observe(header, states, activations)

    def _view_extras(self, header: dict, arrays: dict) -> None:
        model, views = self.model, self.views
        if "gradients" in views:
            x, y = self._sample(GRADIENT_SAMPLE)
            extra_header, extra = view_data.gradient_flow(model, x, model.head.targets(y, self.dtype))
            header.update(extra_header)
            arrays.update(extra)
        if "activations" in views:
            x, y = self._sample(ACTIVITY_SAMPLE)
            extra_header, extra = view_data.unit_activity(model, x, y, model.head.classes)
            header.update(extra_header)
            arrays.update(extra)
            self._pca(header, arrays)
            model.forward(self.example[None], training=False)
            for position, layer in enumerate(model.layers):
                if layer.output.ndim == 2:
                    arrays[f"act/{position}"] = layer.output[0].astype(np.float32)
            if self.is_points:
                arrays["act/input"] = self.example.astype(np.float32)
        if "cnn" in views and self.spec.task.info.kind == "image":
            extra_header, extra = view_data.cnn_data(model, self.example)
            header.update(extra_header)
            arrays.update(extra)
        if "rnn" in views and self.spec.task.info.kind == "sequence":
            extra_header, extra = view_data.rnn_data(model, self.example)
            arrays.update(extra)
            bars, made = self._bow
            if time.perf_counter() - made >= BOW_INTERVAL:
                x, y = self._sample(BOW_SAMPLE)
                bars = view_data.rnn_gradient_bars(model, x, y)[1]
                self._bow = (bars, time.perf_counter())
            arrays.update(bars)
        if "landscape" in views:
            self.path.append(model.params.astype(np.float64))
            if len(self.path) > PATH_LENGTH:  # thin out the middle; keep the start and the newest
                self.path = self.path[:1] + self.path[1:-1][::2] + self.path[-1:]

    def _pca(self, header: dict, arrays: dict) -> None:
        """A hidden layer's activations on training examples, in two dimensions."""
        positions = view_data.unit_layers(self.model)
        if not positions:
            return
        position = self.pca_layer if self.pca_layer in positions else positions[-1]
        x, y = self._sample(PCA_SAMPLE)
        self.model.forward(x, training=False)
        values, _ = view_data._unit_values(self.model.layers[position])
        coordinates, explained, self._pca_components = view_data.pca_projection(values, self._pca_components)
        arrays["pca/points"] = coordinates.astype(np.float32)
        if y.ndim == 1:
            arrays["pca/labels"] = y.astype(np.float32 if y.dtype.kind == "f" else np.int32)
        header.update(pca_layer=position, pca_explained=[float(v) for v in explained])

    def probe(self, name: str, arguments: dict) -> tuple[dict, dict]:
        """Something a view asks for on demand: "landscape", or "top_inputs"
        (the training inputs that excite a filter the most)."""
        model = self.model
        if name == "landscape":
            x, y = self._sample(256)
            return view_data.landscape(model, x, model.head.targets(y, self.dtype), self.path,
                                       size=int(arguments.get("size", 21)))
        if name == "top_inputs":
            layer, unit = int(arguments["layer"]), int(arguments["unit"])
            if not 0 <= layer < len(model.layers) - 1:
                raise ValueError(f"there is no hidden layer {layer + 1}")
            x = self.data.x_train.astype(self.dtype)
            units = model.layers[layer].plan.output_shape[0]
            if not 0 <= unit < units:
                raise ValueError(f"layer {layer + 1} has no unit {unit + 1}")
            return view_data.top_inputs(model, x, layer, unit, int(arguments.get("count", 8)))
        raise ValueError(f"unknown probe {name!r}")

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
        self.coach.reset()
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
