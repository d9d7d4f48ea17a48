"""A training session that trains with PyTorch — on CUDA when there is a GPU,
on the CPU otherwise — and shows its run exactly as the browser does.

It is the browser's ``TrainingSession`` with the training steps and the
loss evaluation done by torch. The numpy engine model stays alongside as
the *mirror* of the torch weights: whenever the run is looked at (a frame,
a snapshot, an edit) the torch weights and optimiser state are copied into
it, and the same frame code as in the browser draws from it. So the frames,
snapshots and edits are the browser's, and a model moves between the
browser and the server keeping its weights and optimiser state.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from playground import frames, view_data
from playground.session import TrainingSession
from playground.spec import Spec

from .torch_model import TorchNet, assign, gradient_of, loss as torch_loss, targets as torch_targets, value_of

#: Examples of each split the summaries are evaluated on: the browser uses
#: all of its few hundred; here that could cost more than the training.
EVALUATION_SAMPLE = 512
#: Parameter arrays larger than this stay out of frames: no view draws a
#: large dense matrix, and it would cost the websocket megabytes a second.
FRAME_PARAMETER_LIMIT = 65_536
_OPTIMIZER_STATE = {"momentum": {"velocity": "momentum_buffer"}, "adam": {"m": "exp_avg", "v": "exp_avg_sq"}}


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchSession(TrainingSession):
    def __init__(self, spec: Spec, device: str | None = None, dtype=torch.float32):
        self.device = torch.device(device or default_device())
        self.torch_dtype = dtype
        self.net: TorchNet | None = None
        self.torch_optimizer = None
        self._data_tensors = None
        self._capture_gradients = True
        self._data_gradients = None
        super().__init__(spec, dtype=np.float32 if dtype == torch.float32 else np.float64)

    @property
    def where(self) -> str:
        """Where it trains, in words."""
        if self.device.type == "cuda":
            return f"GPU ({torch.cuda.get_device_name(self.device)})"
        return "CPU"

    # --- keeping the mirror and torch in step ------------------------------------------

    def _pull(self) -> None:
        """torch → the engine mirror: weights, the last data gradients, the
        optimiser's state."""
        if self.net is None:
            return
        model = self.model
        model.params[...] = self.net.engine_flat(value_of)
        if self._data_gradients is not None:
            model.grads[...] = self._data_gradients
        self.trainer.optimizer.load_state(self._optimizer_state())

    def _push(self) -> None:
        """The engine mirror → a fresh torch network and optimiser."""
        spec = self.model.spec_with_weights()
        self.net = TorchNet(spec).to(device=self.device, dtype=self.torch_dtype)
        self.net.train()
        self.parameters = [p for p in self.net.parameters() if p.requires_grad]
        self.weights = [p for name, p in self.net.named_parameters() if p.requires_grad and "weight" in name]
        self.torch_optimizer = _make_optimizer(spec.training, self.parameters)
        self._load_optimizer_state(self.trainer.optimizer.state())
        self._data_gradients = None
        self._capture_gradients = True
        self._upload_data()  # the targets' encoding follows the output layer

    def _upload_data(self) -> None:
        data, head = self.data, self.model.head
        as_tensor = lambda array: torch.as_tensor(np.asarray(array), device=self.device)  # noqa: E731
        x = as_tensor(data.x_train).to(self.torch_dtype)
        target = torch_targets(data.y_train, head.loss_name, self.net.activation_name, head.classes,
                               dtype=self.torch_dtype).to(self.device)
        self._data_tensors = {"x": x, "target": target}

    def _optimizer_state(self) -> dict:
        """The torch optimiser's state in the engine's flat layout."""
        name = self.trainer.optimizer.name
        torch_state = self.torch_optimizer.state
        if name not in _OPTIMIZER_STATE or not torch_state:
            return {} if name != "adam" else {"t": 0}
        out = {}
        for engine_name, torch_name in _OPTIMIZER_STATE[name].items():
            def read(parameter, torch_name=torch_name):
                if parameter not in torch_state:
                    return np.zeros(tuple(parameter.shape))
                return value_of(torch_state[parameter][torch_name])
            out[engine_name] = self.net.engine_flat(read).astype(self.dtype)
        if name == "adam":
            out["t"] = int(max(float(torch_state[p]["step"]) for p in torch_state))
        return out

    def _load_optimizer_state(self, state: dict) -> None:
        name = self.trainer.optimizer.name
        if name not in _OPTIMIZER_STATE or not any(key in state for key in _OPTIMIZER_STATE[name]):
            return
        torch_state = self.torch_optimizer.state
        for engine_name, torch_name in _OPTIMIZER_STATE[name].items():
            def write(parameter, value, torch_name=torch_name):
                torch_state[parameter][torch_name] = torch.as_tensor(
                    np.ascontiguousarray(value), dtype=parameter.dtype, device=parameter.device)
            self.net.load_engine_flat(state[engine_name], self.model, write)
        if name == "adam":
            for parameter in self.parameters:
                torch_state[parameter]["step"] = torch.tensor(float(state["t"]))

    # --- the run (the browser session's operations, torch underneath) -------------------

    def apply_spec(self, spec: Spec) -> None:
        self._pull()
        super().apply_spec(spec)
        self._push()

    def reset(self) -> None:
        super().reset()
        self._push()

    def set_weight(self, layer: int, name: str, index: int, value: float) -> None:
        self._pull()
        super().set_weight(layer, name, index, value)
        self._push_weights()

    def _push_weights(self) -> None:
        """The mirror's weights into the torch network, keeping the optimiser."""
        with torch.no_grad():
            self.net.load_engine_flat(self.model.params, self.model, assign)

    def load_snapshot(self, snapshot) -> None:
        self.net = None  # the parent rebuilds everything from the snapshot
        super().load_snapshot(snapshot)
        self._push()

    def snapshot(self):
        self._pull()
        return super().snapshot()

    def train(self, steps: int) -> None:
        for _ in range(steps):
            self._train_step()

    def train_epoch(self) -> None:
        self._train_step()
        while self.trainer.epoch != int(self.trainer.epoch):
            self._train_step()

    def _train_step(self) -> None:
        """One step as the engine's Trainer takes it: the same batches, the
        data loss's gradient plus L1/L2 on the weights, torch's norm clipping."""
        trainer, training = self.trainer, self.spec.training
        batch = torch.as_tensor(trainer.next_batch(), device=self.device)
        tensors = self._data_tensors
        for parameter in self.parameters:
            parameter.grad = None
        output = self.net(tensors["x"][batch])
        torch_loss(self.net, output, tensors["target"][batch]).backward()
        if self._capture_gradients:  # the views show the data gradient alone
            self._data_gradients = self.net.engine_flat(gradient_of)
            self._capture_gradients = False
        with torch.no_grad():
            for weight in self.weights:
                if training.l1:
                    weight.grad.add_(torch.sign(weight), alpha=training.l1)
                if training.l2:
                    weight.grad.add_(weight, alpha=training.l2)
        if training.clip_norm:
            torch.nn.utils.clip_grad_norm_(self.parameters, training.clip_norm)
        self.torch_optimizer.step()
        trainer.step += 1

    # --- what the page sees --------------------------------------------------------------

    def summary(self) -> dict:
        net, data, head = self.net, self.data, self.model.head
        train_loss, train_accuracy, _ = self._evaluate(data.x_train, data.y_train)
        test_loss, test_accuracy, test_predicted = self._evaluate(data.x_test, data.y_test)
        confusion = None
        if head.is_classification and math.isfinite(test_loss):
            classes = max(head.classes, 2)
            confusion = view_data.confusion(test_predicted, data.y_test[:EVALUATION_SAMPLE], classes)
        norms = self.model.gradient_norms()
        finite = all(torch.isfinite(p).all() for p in net.parameters())
        return {
            "confusion": confusion,
            "step": self.trainer.step, "epoch": round(self.trainer.epoch, 4),
            "train_loss": frames.finite_or_none(train_loss), "test_loss": frames.finite_or_none(test_loss),
            "train_accuracy": train_accuracy, "test_accuracy": test_accuracy,
            "gradient_norms": [frames.finite_or_none(n) for n in norms],
            "diverged": not (math.isfinite(train_loss) and bool(finite)),
            "evaluated_on": min(len(data.x_train), EVALUATION_SAMPLE),
            "where": self.where,
        }

    @torch.no_grad()
    def _evaluate(self, x, labels, chunk: int = 512):
        """Mean loss and accuracy on up to EVALUATION_SAMPLE examples (the
        sets are shuffled, so the first ones are a fair sample)."""
        head, net = self.model.head, self.net
        x, labels = x[:EVALUATION_SAMPLE], np.asarray(labels[:EVALUATION_SAMPLE])
        target = torch_targets(labels, head.loss_name, net.activation_name, head.classes,
                               dtype=self.torch_dtype).to(self.device)
        net.eval()
        total, predicted = 0.0, []
        try:
            for start in range(0, len(x), chunk):
                inputs = torch.as_tensor(np.asarray(x[start:start + chunk]), device=self.device).to(self.torch_dtype)
                output = net(inputs)
                total += float(torch_loss(net, output, target[start:start + chunk])) * len(inputs)
                predicted.append(head.predict(output.double().cpu().numpy()))
        finally:
            net.train()
        predicted = np.concatenate(predicted) if predicted else np.zeros(0)
        accuracy = float(np.mean(predicted == labels)) if head.is_classification else None
        return total / max(len(x), 1), accuracy, predicted

    def frame(self):
        self._pull()
        self._capture_gradients = True  # the next frame shows the gradients of the step after this one
        header, arrays = super().frame()
        for name in [name for name, value in arrays.items()
                     if name.startswith("param/") and value.size > FRAME_PARAMETER_LIMIT]:
            del arrays[name]
        return header, arrays

    def probe(self, name, arguments):
        self._pull()
        return super().probe(name, arguments)


def _make_optimizer(training, parameters):
    """torch's optimisers with the engine's settings (the parity tests check
    that they follow the same curves)."""
    if training.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=training.learning_rate, betas=(training.beta1, training.beta2),
                                eps=training.epsilon)
    momentum = training.momentum if training.optimizer == "momentum" else 0.0
    return torch.optim.SGD(parameters, lr=training.learning_rate, momentum=momentum)
