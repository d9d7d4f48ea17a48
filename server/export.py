"""Export a trained model as a small PyTorch project that runs without the
playground: the learner's next step after the page is plain code.

The folder holds ``model.py`` (the network written out as torch code for
this one spec, the data loading, evaluation and further training),
``weights.pt`` (``TorchNet(spec).state_dict()``), ``data.npz`` (the exact
arrays the playground trained on), ``spec.json`` and ``README.txt``.

Why generate code rather than ship ``torch_model.py``: a script with the
layers spelled out (and their shapes in comments) is something a learner
can read and change; a general spec interpreter is not. The parameter names
stay TorchNet's (``blocks.0.linear.weight``), so one state_dict serves both.

Precision: weights are saved in float32, torch's default, which a learner's
script and GPU expect; the engine computes in float64, and float32 outputs
agree with it to within 1e-5 relative (the tests check it). ``dtype="float64"`` exports doubles
instead (outputs then match the engine to rounding; the tests use it to
check that training in the script follows the engine's steps).

``python -m server.export SNAPSHOT_OR_SPEC.json DEST`` writes the folder.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import torch

from playground import spec as specs
from playground.data import Dataset, make_dataset
from playground.engine.model import BATCH_STREAM  # the seed stream of the batch order

from .torch_model import TorchNet

DTYPES = {"float32": torch.float32, "float64": torch.float64}
FOLDER = "playground-model"  # the folder inside the zip archive


# --- public API -------------------------------------------------------------------

def export_model(spec: specs.Spec, destination: Path, *, dtype: str = "float32",
                 data: Dataset | None = None) -> Path:
    """Write the export folder (created if missing) and return its path.
    ``data``: the task's Dataset when the caller has it already (else made
    from the spec's task, as the playground made it)."""
    destination = Path(destination)
    files = export_files(spec, dtype=dtype, data=data)
    destination.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (destination / name).write_bytes(content)
    return destination


def export_zip(spec: specs.Spec, *, dtype: str = "float32", data: Dataset | None = None,
               folder: str = FOLDER) -> bytes:
    """The same folder as a zip archive (for a download button); the files
    sit in ``folder/`` so that unpacking makes one folder, not a mess."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in export_files(spec, dtype=dtype, data=data).items():
            # a fixed date: the same model gives the same archive
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def state_dict_bytes(spec: specs.Spec, *, dtype: str = "float32") -> bytes:
    """Just the weights: ``TorchNet(spec).state_dict()`` as torch.save writes it."""
    buffer = io.BytesIO()
    torch.save(torch_state_dict(spec, dtype), buffer)
    return buffer.getvalue()


def torch_state_dict(spec: specs.Spec, dtype: str = "float32") -> dict:
    """The spec's weights in torch's layout and names, in ``dtype``."""
    _need_weights(spec)
    torch_dtype = _torch_dtype(dtype)
    # Build empty, convert, then load: TorchNet loads at torch's default
    # dtype, which would round float64 weights to float32 first.
    net = TorchNet(spec.with_weights(None)).to(torch_dtype)
    net.load_engine_weights(spec.weights)
    return {name: tensor.detach().clone() for name, tensor in net.state_dict().items()}


def export_files(spec: specs.Spec, *, dtype: str = "float32", data: Dataset | None = None) -> dict[str, bytes]:
    """Every file of the export folder: name -> content."""
    weights = state_dict_bytes(spec, dtype=dtype)  # first: it refuses a spec without weights
    data = make_dataset(spec.task) if data is None else data
    return {
        "model.py": model_script(spec, dtype).encode("utf-8"),
        "weights.pt": weights,
        "data.npz": _npz(data),
        "spec.json": (spec.to_json(indent=2, weights=False) + "\n").encode("utf-8"),
        "README.txt": _readme(spec, dtype).encode("utf-8"),
    }


def read_spec_file(path: Path) -> specs.Spec:
    """A spec with weights from a snapshot file or a spec JSON file."""
    from playground.snapshot import FORMAT, read_snapshot_text
    text = Path(path).read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except ValueError:
        raw = None  # let the spec parser say what is wrong, with line and column
    if isinstance(raw, dict) and raw.get("format") == FORMAT:
        return read_snapshot_text(text).spec
    return specs.Spec.from_json(text)


def _need_weights(spec: specs.Spec) -> None:
    if spec.weights is None:
        raise ValueError("this spec has no weights to export: train the model first, or export a "
                         "snapshot (a spec saved with its weights)")


def _torch_dtype(dtype: str):
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    return DTYPES[dtype]


def _npz(data: Dataset) -> bytes:
    """The arrays exactly as the playground made them (float64 inputs; the
    script converts them). 2-D tasks add the raw points the features came from."""
    arrays = {"x_train": data.x_train, "y_train": data.y_train, "x_test": data.x_test, "y_test": data.y_test}
    if data.points_train is not None:
        arrays.update(points_train=data.points_train, points_test=data.points_test)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


# --- describing the run in words -----------------------------------------------------

def _shape(shape: tuple) -> str:
    if len(shape) == 2:
        return f"{shape[0]} steps × {shape[1]}"
    return "×".join(str(size) for size in shape)


def _data_story(spec: specs.Spec) -> list[str]:
    """How the playground made the data, one fact per item (for comments)."""
    task = spec.task
    info = task.info
    n = task.sample_count
    n_train = round(n * task.train_ratio)
    noise = f", noise {task.noise:g}" if info.uses_noise else ""
    lines = [f"Dataset {task.dataset!r}: {info.title} — {info.description}.",
             (f"{n} examples{noise}; every random draw (the shuffle, the examples, the noise) comes "
              f"from numpy's default_rng([seed, 0]) with seed {task.seed}. After the shuffle, the first "
              f"{n_train} ({task.train_ratio:.0%}) are for training, the other {n - n_train} for testing.")]
    if info.kind == "points":
        lines.append(f"Inputs: the features {', '.join(task.input_features)} computed from each point's "
                     "coordinates (x1, x2), which data.npz keeps as points_train and points_test.")
    else:
        lines.append(f"Inputs: each example is {specs.describe_shape(specs.task_input_shape(task))}.")
    if task.options:
        settings = ", ".join(f"{name} {list(value) if isinstance(value, tuple) else value}"
                             for name, value in task.options.items())
        lines.append(f"Dataset settings: {settings}.")
    classes = specs.task_classes(task)
    per = " at every step" if info.per_step else ""
    if classes:
        lines.append(f"Labels: class indices 0..{classes - 1}{per}.")
    else:
        lines.append(f"Labels: values in [-1, 1]{per} (regression).")
    return lines


_GATES = {"gru": "the gates reset, update, candidate", "lstm": "the gates input, forget, cell, output"}


def _layer_note(plan, state: dict, index: int) -> str:
    """``layer 1 (dense): 2 → 8, tanh; weight 8×2, bias 8``: what a layer
    does and its parameters' torch shapes, for the comment above it."""
    layer = plan.layer
    head = "output layer (dense)" if plan.is_output else plan.label
    text = f"{head}: {_shape(plan.input_shape)} → {_shape(plan.output_shape)}"
    if isinstance(layer, specs.Recurrent):
        text += ", every step" if plan.return_sequences else ", last step only"
    if getattr(layer, "has_activation", False):
        text += f", {layer.activation}"
    if isinstance(layer, specs.Conv2D):
        text += (f"; {layer.filters} filters {layer.kernel}×{layer.kernel}, stride {layer.stride}, "
                 f"{layer.padding!r} padding")
    if isinstance(layer, specs.Pool):
        text += f"; window {layer.size}, stride {layer.step}"
    if isinstance(layer, specs.Dropout):
        text += f"; zeroes {layer.rate:.0%} of the values while training"
    prefix = f"blocks.{index}."
    params = [f"{name.split('.')[-1]} {'×'.join(str(size) for size in tensor.shape)}"
              for name, tensor in state.items() if name.startswith(prefix)]
    text += "; " + ", ".join(params) if params else "; no parameters"
    if isinstance(layer, (specs.GRU, specs.LSTM)):
        text += "; rows: " + _GATES[layer.type] + " stacked"
    if _loops(layer):
        text += f"; run step by step by run_rnn, as nn.RNN has no {layer.activation}"
    return text


# --- the generated script -------------------------------------------------------------

_ACTIVATION_CALLS = {
    "linear": "{}", "relu": "torch.relu({})", "leaky_relu": "F.leaky_relu({}, 0.01)", "tanh": "torch.tanh({})",
    "sigmoid": "torch.sigmoid({})", "softplus": "F.softplus({})", "swish": "F.silu({})",
    "softmax": "torch.softmax({}, dim=-1)",
}
_ACTIVATION_FUNCTIONS = {
    "linear": "lambda v: v", "leaky_relu": "lambda v: F.leaky_relu(v, 0.01)", "sigmoid": "torch.sigmoid",
    "softplus": "F.softplus", "swish": "F.silu",
}


def _applied(activation: str, expression: str) -> str:
    return _ACTIVATION_CALLS[activation].format(expression)


def _loops(layer) -> bool:
    """A simple RNN whose activation torch's nn.RNN lacks runs step by step."""
    return isinstance(layer, specs.SimpleRNN) and layer.activation not in ("tanh", "relu")


def _module(plan) -> str:
    """The constructor of one entry of ``Net.blocks``. Layers with
    parameters are ModuleDicts so that the names match TorchNet's blocks."""
    layer = plan.layer
    if isinstance(layer, specs.Dense):
        inputs, units = plan.params["W"]
        return f'nn.ModuleDict({{"linear": nn.Linear({inputs}, {units})}})'
    if isinstance(layer, specs.Conv2D):
        filters, channels, kernel, _ = plan.params["W"]
        return f'nn.ModuleDict({{"conv": nn.Conv2d({channels}, {filters}, {kernel}, stride={layer.stride})}})'
    if isinstance(layer, specs.Recurrent):
        features = plan.params["W_x"][0]
        if isinstance(layer, specs.SimpleRNN) and not _loops(layer):
            cell = f'nn.RNN({features}, {layer.units}, nonlinearity="{layer.activation}", batch_first=True)'
        else:
            torch_class = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}[layer.type]
            cell = f"nn.{torch_class}({features}, {layer.units}, batch_first=True)"
        return f'nn.ModuleDict({{"cell": {cell}}})'
    if isinstance(layer, specs.MaxPool):
        return f"nn.MaxPool2d({layer.size}, {layer.step})"
    if isinstance(layer, specs.AvgPool):
        return f"nn.AvgPool2d({layer.size}, {layer.step})"
    if isinstance(layer, specs.Flatten):
        return "nn.Flatten()"
    if isinstance(layer, specs.Dropout):
        return f"nn.Dropout({layer.rate!r})"
    raise ValueError(f"{plan.label}: cannot export a {layer.type} layer")


def _forward_lines(plan, block, i: int) -> list[str]:
    """The lines of ``Net.forward`` for one hidden layer (``block``: its
    TorchNet block, whose padding the script copies)."""
    layer = plan.layer
    note = f"  # {plan.label}"
    if isinstance(layer, specs.Dense):
        return [f"x = {_applied(layer.activation, f'b[{i}].linear(x)')}{note}"]
    if isinstance(layer, specs.Conv2D):
        # (left, right, top, bottom): 'same' padding as TorchNet does it (torch's
        # own padding="same" refuses strides above 1), uneven for even windows
        pads = tuple(block.pad.padding)
        if not any(pads):
            return [f"x = {_applied(layer.activation, f'b[{i}].conv(x)')}{note}"]
        return [f"# {plan.label}: zeros padded (left, right, top, bottom), then the convolution",
                f"x = {_applied(layer.activation, f'b[{i}].conv(F.pad(x, {pads}))')}"]
    if isinstance(layer, specs.Recurrent):
        if _loops(layer):
            lines = [f"x = run_rnn(b[{i}].cell, x, {_ACTIVATION_FUNCTIONS[layer.activation]}){note}"]
        else:
            lines = [f"x, _ = b[{i}].cell(x){note}: the hidden state at every step"]
        if not plan.return_sequences:
            lines.append("x = x[:, -1]  # keep the last step's state")
        return lines
    return [f"x = b[{i}](x){note}"]


_RUN_RNN = '''

def run_rnn(cell, x, activation):
    """h_t = activation(x_t·W_ihᵀ + b_ih + h_(t-1)·W_hhᵀ + b_hh), step by step:
    torch's nn.RNN offers tanh and relu only, so its parameters are used here
    with the playground's activation. Returns every step's state."""
    h = x.new_zeros(x.shape[0], cell.hidden_size)
    states = []
    for t in range(x.shape[1]):
        h = activation(F.linear(x[:, t], cell.weight_ih_l0, cell.bias_ih_l0)
                       + F.linear(h, cell.weight_hh_l0, cell.bias_hh_l0))
        states.append(h)
    return torch.stack(states, dim=1)
'''


def _comment(text: str, indent: str, width: int = 100) -> list[str]:
    """``text`` as comment lines of at most ``width`` characters."""
    lines = textwrap.wrap(text, width - len(indent) - 2, subsequent_indent="  ", break_on_hyphens=False)
    return [f"{indent}# {line}" for line in lines]


def _network(net: TorchNet) -> str:
    """The ``Net`` class (and ``run_rnn`` where a simple RNN needs it)."""
    plans, state = net.plans, net.state_dict()
    entries, forward, frozen = [], [], []
    for i, plan in enumerate(plans):
        entries.extend(_comment(_layer_note(plan, state, i), "            "))
        entries.append(f"            {_module(plan)},")
        if isinstance(plan.layer, (specs.SimpleRNN, specs.LSTM)):
            frozen.append(f"        self.blocks[{i}].cell.bias_hh_l0.requires_grad_(False)")
        if not plan.is_output:
            forward.extend(f"        {line}" for line in _forward_lines(plan, net.blocks[i], i))
    out = len(plans) - 1
    output = plans[-1].layer
    forward.append(f"        z = b[{out}].linear(x)  # output layer: its pre-activation")
    forward.append(f"        return {_applied(output.activation, 'z')}, z")
    frozen_text = ""
    if frozen:
        frozen_text = ("\n        # The playground's simple RNN and LSTM have one bias where torch has two\n"
                       "        # (bias_ih + bias_hh). torch's bias_hh is zero in weights.pt and stays zero.\n"
                       + "\n".join(frozen) + "\n")
    helper = _RUN_RNN if any(_loops(plan.layer) for plan in plans) else ""
    entries_text, forward_text = "\n".join(entries), "\n".join(forward)
    return f'''class Net(nn.Module):
    """The playground's network, layer by layer. One entry of ``blocks`` per
    playground layer, so that the parameter names in weights.pt
    (blocks.0.linear.weight, ...) match. Shapes are per example: a batch
    adds a first axis."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([
{entries_text}
        ])
{frozen_text}
    def forward(self, x):
        """The output activations and the output layer's pre-activation z
        (the cross-entropy losses start from z: exact and stable)."""
        b = self.blocks
{forward_text}
{helper}'''


def _targets_code(spec: specs.Spec) -> str:
    output, classes = spec.output, specs.task_classes(spec.task)
    if output.loss == "cross_entropy":
        return '''def encode_targets(labels):
    """Labels as the loss wants them: class indices."""
    return torch.as_tensor(labels).long()'''
    if classes:
        low = 0.0 if output.activation in ("sigmoid", "relu", "softplus") else -1.0
        return f'''def encode_targets(labels):
    """Labels as the loss wants them: one output unit, {low:g} for class 0 and 1 for class 1
    (a {output.activation} output {'is never negative' if low == 0 else 'spans -1 to 1'})."""
    values = torch.as_tensor(labels, dtype=DTYPE).unsqueeze(-1)
    return torch.where(values > 0, torch.ones_like(values), torch.full_like(values, {low!r}))'''
    return '''def encode_targets(labels):
    """Regression: the values, with a last axis for the one output unit."""
    return torch.as_tensor(labels, dtype=DTYPE).unsqueeze(-1)'''


def _loss_code(spec: specs.Spec) -> str:
    name = spec.output.loss
    if name == "cross_entropy":
        body = ('"""Cross-entropy of softmax(z), averaged over examples (and steps)."""\n'
                "    return F.cross_entropy(z.reshape(-1, z.shape[-1]), targets.reshape(-1))")
    elif name == "binary_cross_entropy":
        body = ('"""Binary cross-entropy of sigmoid(z), averaged over examples (and steps)."""\n'
                "    count = outputs.numel() // outputs.shape[-1]\n"
                '    return F.binary_cross_entropy_with_logits(z, targets, reduction="sum") / count')
    else:
        body = ('"""Squared error ½·Σ(output − target)², averaged over examples (and steps),\n'
                '    as in the classic playground."""\n'
                "    count = outputs.numel() // outputs.shape[-1]\n"
                "    return 0.5 * ((outputs - targets) ** 2).sum() / count")
    return f"def loss_fn(outputs, z, targets):\n    {body}"


def _predict_code(spec: specs.Spec, units: int) -> str:
    output, classes = spec.output, specs.task_classes(spec.task)
    if not classes:
        return '''def predict(outputs):
    """Regression: the output value."""
    return outputs[..., 0]'''
    if units == 1:
        threshold = 0.5 if output.activation in ("sigmoid", "relu", "softplus") else 0.0
        return f'''def predict(outputs):
    """Class 1 where the one output is above {threshold:g}, else class 0."""
    return (outputs[..., 0] > {threshold!r}).long()'''
    return '''def predict(outputs):
    """The class with the largest output."""
    return outputs.argmax(dim=-1)'''


def _optimizer_name(training) -> str:
    return {"adam": "Adam", "momentum": f"SGD with momentum {training.momentum:g}", "sgd": "SGD"}[
        training.optimizer]


def _optimizer_code(training) -> tuple[str, str, str]:
    """``make_optimizer``, ``penalty`` ("" when none) and the clipping line,
    applied as the playground's trainer applies them: L1 and L2 on weights
    only (not biases), added to the gradient before the clipping and the
    step. torch's weight_decay adds l2·w too, but after any clipping: it
    stands in for L2 only when nothing is clipped."""
    decay = bool(training.l2 and not training.clip_norm)
    terms = {}
    if training.l1:
        terms["l1"] = f"{training.l1!r} * sum(w.abs().sum() for w in weights)"
    if training.l2 and not decay:
        terms["l2"] = f"0.5 * {training.l2!r} * sum((w * w).sum() for w in weights)"
    if training.optimizer == "adam":
        make = (f"torch.optim.Adam(groups, lr={training.learning_rate!r}, "
                f"betas=({training.beta1!r}, {training.beta2!r}), eps={training.epsilon!r})")
    elif training.optimizer == "momentum":
        make = f"torch.optim.SGD(groups, lr={training.learning_rate!r}, momentum={training.momentum!r})"
    else:
        make = f"torch.optim.SGD(groups, lr={training.learning_rate!r})"
    if decay:
        groups = f'''    # L2 {training.l2!r} as weight decay, which adds l2·w to the gradient as the playground
    # does; on the weights only: the playground leaves biases unregularised.
    weights = [p for name, p in named if is_weight(name)]
    others = [p for name, p in named if not is_weight(name)]
    groups = [{{"params": weights, "weight_decay": {training.l2!r}}}, {{"params": others, "weight_decay": 0.0}}]'''
    else:
        groups = "    groups = [p for _, p in named]"
    state = {"sgd": "", "momentum": "the velocity", "adam": "the running averages"}[training.optimizer]
    fresh = f"\n    It starts afresh: its state ({state}) is not exported." if state else ""
    optimizer = f'''def make_optimizer(net):
    """The playground's optimiser: {_optimizer_name(training)}.{fresh}"""
    named = [(name, p) for name, p in net.named_parameters() if p.requires_grad]
{groups}
    return {make}'''
    if decay or terms:
        optimizer = f'''def is_weight(name):
    """Weights (not biases) are what L1/L2 regularisation applies to."""
    return name.split(".")[-1].startswith("weight")


{optimizer}'''
    penalty = ""
    if terms:
        why = ("\n    L2 is added here, not as weight decay: the playground clips the gradient with the\n"
               "    penalty's part in it; torch's weight decay would come after the clipping.") if (
            training.l2 and not decay) else ""
        sums = "\n".join(f"    {name} = {term}" for name, term in terms.items())
        penalty = f'''def penalty(net):
    """The regularisation term, on the weights only.{why}"""
    weights = [p for name, p in net.named_parameters() if is_weight(name)]
{sums}
    return {" + ".join(terms)}'''
    clip = ""
    if training.clip_norm:
        clip = (f"        # scale the whole gradient down to norm {training.clip_norm!r} when it is larger\n"
                f"        torch.nn.utils.clip_grad_norm_([p for p in net.parameters() if p.requires_grad], "
                f"{training.clip_norm!r})\n")
    return optimizer, penalty, clip


def _train_code(spec: specs.Spec) -> str:
    training = spec.training
    optimizer, penalty, clip = _optimizer_code(training)
    backward = "(loss + penalty(net)).backward()" if penalty else "loss.backward()"
    dropout = "  # dropout on" if any(isinstance(layer, specs.Dropout) for layer in spec.layers) else ""
    settings = [f"L1 {training.l1:g}"] if training.l1 else []
    settings += [f"L2 {training.l2:g}"] if training.l2 else []
    settings += [f"clipping at norm {training.clip_norm:g}"] if training.clip_norm else []
    loop = f'''def train(net, x, labels, steps):
    """Continue training as the playground trains: batches of {training.batch_size} taken in
    order from a fresh shuffle each epoch (numpy's default_rng([SEED, {BATCH_STREAM}]), the
    playground's batch stream, so the order is the one a new playground run takes),
    {", ".join([_optimizer_name(training), f"learning rate {training.learning_rate:g}"] + settings)}."""
    targets = encode_targets(labels)
    optimizer = make_optimizer(net)
    shuffle = np.random.default_rng([SEED, {BATCH_STREAM}])
    order, cursor = shuffle.permutation(len(x)), 0
    net.train(){dropout}
    for step in range(1, steps + 1):
        if cursor >= len(x):  # a new epoch
            order, cursor = shuffle.permutation(len(x)), 0
        batch = torch.as_tensor(order[cursor:cursor + {training.batch_size}])
        cursor += len(batch)
        outputs, z = net(x[batch])
        loss = loss_fn(outputs, z, targets[batch])
        optimizer.zero_grad()
        {backward}
{clip}        optimizer.step()
        if step % 100 == 0 or step == steps:
            print(f"step {{step}}: batch loss {{loss.item():.6f}}")
    net.eval()'''
    return "\n\n\n".join(part for part in (optimizer, penalty, loop) if part)


def _report_code(classes: int) -> str:
    if not classes:
        return '''def report(name, loss, outputs, labels):
    """One line: the loss (a regression task has no accuracy)."""
    print(f"{name:<5}  loss {loss:.8f}")'''
    return '''def report(name, loss, outputs, labels):
    """One line: the loss and the accuracy (over every label: every step for per-step tasks)."""
    right = int((predict(outputs).numpy() == labels).sum())
    print(f"{name:<5}  loss {loss:.8f}  accuracy {right / labels.size:.4f} ({right}/{labels.size})")'''


def model_script(spec: specs.Spec, dtype: str = "float32") -> str:
    """The text of ``model.py`` for this spec, for weights in ``dtype``."""
    _torch_dtype(dtype)
    net = TorchNet(spec.with_weights(None))  # the shapes and padding to write out
    task, output = spec.task, spec.output
    plans = specs.plan_layers(spec)
    units = plans[-1].output_shape[-1]
    classes = specs.task_classes(task)
    layers = " → ".join([_shape(plans[0].input_shape)] + [
        f"{plan.layer.type if not plan.is_output else 'output'} {_shape(plan.output_shape)}" for plan in plans])
    network = "\n".join(textwrap.wrap(
        f"Network: {layers}; {output.activation} output, {output.loss.replace('_', ' ')} loss.", 90,
        break_on_hyphens=False))
    story = "\n".join(line for text in _data_story(spec) for line in _comment(text, ""))
    problem = f"classification, {classes} classes" if classes else "regression"
    return f'''"""A network trained in the neural-network playground, as plain PyTorch.

Task: {task.info.title} ({problem}).
{network}

    python model.py                 evaluate weights.pt, save predictions.npz
    python model.py --train 500     train 500 more steps, save weights-trained.pt

Needs only torch and numpy. Beside it: weights.pt (the trained weights),
data.npz (the data), spec.json (the playground's own description of the run).
"""
import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HERE = Path(__file__).resolve().parent
SEED = {spec.run_seed}  # the run's seed in the playground (first weights, batch order, dropout)
DTYPE = torch.{dtype}  # weights.pt is {dtype}; the playground itself computes in float64


# --- the data -------------------------------------------------------------------
# data.npz holds the arrays exactly as the playground made them, so this script
# needs no playground code. How they were made:
{story}


def load_data():
    """data.npz's arrays: x_train, y_train, x_test, y_test."""
    with np.load(HERE / "data.npz") as arrays:
        return {{name: arrays[name] for name in arrays.files}}


{_targets_code(spec)}


# --- the network ------------------------------------------------------------------

{_network(net)}

{_loss_code(spec)}


{_predict_code(spec, units)}


@torch.no_grad()
def evaluate(net, x, labels, chunk=1024):
    """The mean loss and every output on a whole set (in chunks, to bound memory)."""
    net.eval()
    targets = encode_targets(labels)
    total, outputs = 0.0, []
    for start in range(0, len(x), chunk):
        a, z = net(x[start:start + chunk])
        total += loss_fn(a, z, targets[start:start + chunk]).item() * len(a)
        outputs.append(a)
    return total / len(x), torch.cat(outputs)


{_report_code(classes)}


# --- training -----------------------------------------------------------------------

{_train_code(spec)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=str(HERE / "weights.pt"),
                        help="weights to load (default weights.pt)")
    parser.add_argument("--train", type=int, default=0, metavar="STEPS",
                        help="train this many more steps, then save weights-trained.pt")
    args = parser.parse_args(argv)
    torch.manual_seed(SEED)  # dropout's masks while training
    data = load_data()
    x_train = torch.as_tensor(data["x_train"], dtype=DTYPE)
    x_test = torch.as_tensor(data["x_test"], dtype=DTYPE)
    net = Net().to(DTYPE)
    net.load_state_dict(torch.load(args.weights, weights_only=True))
    suffix = ""
    if args.train:
        train(net, x_train, data["y_train"], args.train)
        torch.save(net.state_dict(), HERE / "weights-trained.pt")
        print(f"saved {{HERE / 'weights-trained.pt'}}")
        suffix = "-trained"
    train_loss, train_outputs = evaluate(net, x_train, data["y_train"])
    test_loss, test_outputs = evaluate(net, x_test, data["y_test"])
    report("train", train_loss, train_outputs, data["y_train"])
    report("test", test_loss, test_outputs, data["y_test"])
    predictions = HERE / f"predictions{{suffix}}.npz"
    np.savez(predictions,
             outputs_train=train_outputs.numpy(), outputs_test=test_outputs.numpy(),
             predicted_train=predict(train_outputs).numpy(),
             predicted_test=predict(test_outputs).numpy())
    print(f"saved {{predictions}}")


if __name__ == "__main__":
    main()
'''


def _readme(spec: specs.Spec, dtype: str) -> str:
    return f"""A network trained in the neural-network playground ({spec.task.info.title}),
exported as plain PyTorch.

Files
  model.py    the network written out as torch code, the data loading,
              evaluation and further training: read it, change it
  weights.pt  the trained weights (a torch state_dict, {dtype})
  data.npz    the train and test data, exactly as the playground made them
  spec.json   the playground's description of the run (without weights)

Run it with Python 3 and only torch and numpy installed:
  python model.py                      evaluate weights.pt, write predictions.npz
  python model.py --train 500          500 more training steps, write weights-trained.pt
  python model.py --weights weights-trained.pt    evaluate other weights
"""


# --- command line ------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m server.export",
        description="Write a trained model as a folder with a standalone PyTorch script.")
    parser.add_argument("source", help="a snapshot saved by the playground, or a spec JSON with weights")
    parser.add_argument("destination", help="the folder to write (created if missing)")
    parser.add_argument("--float64", action="store_true", help="save the weights as float64 (default float32)")
    args = parser.parse_args(argv)
    try:
        spec = read_spec_file(Path(args.source))
        folder = export_model(spec, Path(args.destination), dtype="float64" if args.float64 else "float32")
    except (OSError, ValueError) as error:  # SpecError is a ValueError
        print(f"export: {error}", file=sys.stderr)
        return 2
    print(f"wrote {folder}: run 'python {folder / 'model.py'}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
