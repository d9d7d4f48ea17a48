"""The exported PyTorch project runs on its own: in a fresh virtual
environment with only torch and numpy, ``model.py`` reproduces the engine's
outputs and accuracy, trains further the way the engine does, and its
weights load into TorchNet with strict names."""
import functools
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from playground.data import make_dataset  # noqa: E402
from playground.engine import Model, Trainer  # noqa: E402
from playground.snapshot import Snapshot  # noqa: E402
from playground.spec import Spec  # noqa: E402
from server import export  # noqa: E402
from server.torch_model import TorchNet  # noqa: E402

from ..conftest import REPO  # noqa: E402

RELATIVE = 1e-5  # float32 against the engine's float64

# Every kind of architecture, and between them every output head, optimiser
# and regularisation path of the generated training code.
CASES = {
    # 2-D features; dropout (off when evaluating); momentum with L2 as weight decay
    "dfn-circle": {
        "task": {"dataset": "circle", "samples": 200, "noise": 0.1,
                 "features": ["x1", "x2", "x1_squared", "x2_squared", "sin_x1"]},
        "layers": [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "dropout", "rate": 0.3},
                   {"type": "dense", "units": 4, "activation": "leaky_relu"}],
        "training": {"optimizer": "momentum", "learning_rate": 0.03, "batch_size": 10, "l2": 0.001}},
    # 'same' padding with stride 2 (uneven padding), valid padding, pooling, flatten, dense; Adam
    "cnn-digits": {
        "task": {"dataset": "digits"},
        "layers": [{"type": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "padding": "same"},
                   {"type": "conv2d", "filters": 6, "kernel": 2, "padding": "valid", "activation": "swish"},
                   {"type": "maxpool", "size": 2, "stride": 1}, {"type": "avgpool", "size": 2},
                   {"type": "flatten"}, {"type": "dense", "units": 12, "activation": "relu"}],
        "training": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32}},
    # GRU, one label per sequence, sigmoid + binary cross-entropy; Adam with L2 as weight decay
    "gru-parity": {
        "task": {"dataset": "parity", "samples": 300, "options": {"length": 6}},
        "layers": [{"type": "gru", "units": 8}],
        "output": {"activation": "sigmoid", "loss": "binary_cross_entropy"},
        "training": {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 16, "l2": 0.001}},
    # stacked LSTMs, softmax over 3 symbols; momentum with L1, L2 and clipping (explicit penalty)
    "lstm-echo": {
        "task": {"dataset": "echo", "samples": 300, "options": {"delay": 4, "symbols": 3}},
        "layers": [{"type": "lstm", "units": 6}, {"type": "lstm", "units": 5}],
        "training": {"optimizer": "momentum", "learning_rate": 0.1, "batch_size": 16, "l1": 0.001,
                     "l2": 0.001, "clip_norm": 0.5}},
    # simple RNNs: tanh (torch's nn.RNN) and sigmoid (the step loop), a value at every step; SGD
    "rnn-sine": {
        "task": {"dataset": "sine", "samples": 200, "options": {"length": 8}},
        "layers": [{"type": "rnn", "units": 6, "activation": "tanh"},
                   {"type": "rnn", "units": 5, "activation": "sigmoid"}, {"type": "dense", "units": 3}],
        "training": {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 10, "clip_norm": 1.0}},
    # a relu simple RNN predicting the next character at every step; softmax over the alphabet
    "rnn-text": {
        "task": {"dataset": "text", "samples": 200, "options": {"length": 6}},
        "layers": [{"type": "rnn", "units": 12, "activation": "relu"}],
        "training": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 20}},
}
ENGINE_STEPS = 30


@functools.cache
def trained(name):
    """The case's spec after a few engine steps (with its weights), and its data."""
    spec = Spec.from_dict(CASES[name])
    data = make_dataset(spec.task)
    trainer = Trainer.for_dataset(spec, data)
    trainer.train(ENGINE_STEPS)
    return trainer.model.spec_with_weights(), data


def assert_relative(actual, expected, what, tolerance=RELATIVE):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(float(np.max(np.abs(expected))), 1e-12)
    error = float(np.max(np.abs(actual - expected))) / scale
    assert error <= tolerance, f"{what}: relative error {error:.2e} > {tolerance:g}"


# --- a Python with torch and numpy only ---------------------------------------------

@pytest.fixture(scope="session")
def clean_python(tmp_path_factory):
    """A new virtual environment with only torch (pinned: 2.13.0 is the CPU
    build on this machine's disk; a looser pin pulls GBs of CUDA) and numpy,
    so that an import of the playground in model.py would fail."""
    folder = tmp_path_factory.mktemp("export-venv")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    python = folder / ("Scripts" if os.name == "nt" else "bin") / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "torch==2.13.0", "numpy"], capture_output=True, text=True, timeout=1500)
    if install.returncode != 0:
        pytest.fail(f"could not install torch and numpy in a fresh venv:\n{install.stderr[-3000:]}")
    print(f"\nclean venv with torch and numpy: {time.monotonic() - started:.0f} s")
    probe = run_python(python, ["-c", "import playground"], folder)  # not from the checkout
    assert probe.returncode != 0, "the clean venv can import the playground; the test would prove nothing"
    return python


def run_python(python, arguments, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    return subprocess.run([str(python), *arguments], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def run_script(python, folder, *arguments):
    # run from elsewhere: the script must find its files beside itself
    run = run_python(python, [str(folder / "model.py"), *arguments], folder.parent)
    assert run.returncode == 0, f"model.py {' '.join(arguments)} failed:\n{run.stdout}\n{run.stderr[-3000:]}"
    return run.stdout


def printed(stdout):
    """{"train"/"test": (loss, right, total)} from the script's report lines."""
    found = {}
    for line in stdout.splitlines():
        match = re.fullmatch(r"(train|test)\s+loss (\S+)(?:\s+accuracy \S+ \((\d+)/(\d+)\))?", line)
        if match:
            right = None if match[3] is None else (int(match[3]), int(match[4]))
            found[match[1]] = (float(match[2]), right)
    assert set(found) == {"train", "test"}, f"no report lines in:\n{stdout}"
    return found


# --- the script against the engine ------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CASES))
def test_script_reproduces_the_engine(name, clean_python, tmp_path):
    spec, data = trained(name)
    folder = export.export_model(spec, tmp_path / "export", data=data)
    assert sorted(p.name for p in folder.iterdir()) == ["README.txt", "data.npz", "model.py", "spec.json",
                                                         "weights.pt"]
    stdout = run_script(clean_python, folder)

    model = Model(spec)
    lines = printed(stdout)
    with np.load(folder / "predictions.npz") as saved:
        for part in ("train", "test"):
            x, labels = getattr(data, f"x_{part}"), getattr(data, f"y_{part}")
            assert saved[f"outputs_{part}"].dtype == np.float32
            assert_relative(saved[f"outputs_{part}"], model.forward(x), f"{part} outputs")
            loss, accuracy = model.evaluate(x, labels)
            assert lines[part][0] == pytest.approx(loss, rel=1e-4), f"{part} loss"
            if accuracy is None:
                assert lines[part][1] is None
            else:
                assert lines[part][1] == (round(accuracy * labels.size), labels.size), f"{part} accuracy"
                assert np.array_equal(saved[f"predicted_{part}"], model.predict(x))


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_in_the_script_follows_the_engine(name, clean_python, tmp_path):
    """--train 5 in float64 takes the engine's five steps: the same batches,
    optimiser, regularisation and clipping. (Dropout draws torch's own masks:
    there the weights need only move.)"""
    spec, data = trained(name)
    folder = export.export_model(spec, tmp_path / "export", dtype="float64", data=data)
    stdout = run_script(clean_python, folder, "--train", "5")
    assert "step 5: batch loss" in stdout
    saved = torch.load(folder / "weights-trained.pt", weights_only=True)

    engine = Trainer.for_dataset(spec, data)
    engine.train(5)
    expected = export.torch_state_dict(engine.model.spec_with_weights(), "float64")
    assert list(saved) == list(expected)
    if any(layer.type == "dropout" for layer in spec.layers):
        before = export.torch_state_dict(spec, "float64")
        assert any(not torch.equal(saved[k], before[k]) for k in saved), "training changed nothing"
    else:
        for key in expected:
            assert_relative(saved[key], expected[key], f"{key} after 5 steps", tolerance=1e-7)


@pytest.mark.parametrize("name", ["cnn-digits", "lstm-echo"])
def test_train_option_in_float32_writes_trained_weights(name, clean_python, tmp_path):
    spec, data = trained(name)
    folder = export.export_model(spec, tmp_path / "export", data=data)
    stdout = run_script(clean_python, folder, "--train", "5")
    assert "step 5: batch loss" in stdout and (folder / "predictions-trained.npz").is_file()
    trained_weights = torch.load(folder / "weights-trained.pt", weights_only=True)
    net = TorchNet(spec.with_weights(None))
    net.load_state_dict(trained_weights, strict=True)
    assert all(tensor.dtype == torch.float32 for tensor in trained_weights.values())
    # the script evaluates what it trained
    again = printed(run_script(clean_python, folder, "--weights", str(folder / "weights-trained.pt")))
    assert again == printed(stdout)


# --- the weights on their own ----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_loads_strictly_into_torchnet(name):
    spec, data = trained(name)
    state = torch.load(io.BytesIO(export.state_dict_bytes(spec)), weights_only=True)
    assert all(tensor.dtype == torch.float32 for tensor in state.values())
    net = TorchNet(spec.with_weights(None))
    net.load_state_dict(state, strict=True)
    net.eval()
    with torch.no_grad():
        outputs = net(torch.as_tensor(data.x_test, dtype=torch.float32)).numpy()
    assert_relative(outputs, Model(spec).forward(data.x_test), "TorchNet outputs")


def test_float64_state_dict_keeps_every_bit():
    spec, _ = trained("gru-parity")
    state = torch.load(io.BytesIO(export.state_dict_bytes(spec, dtype="float64")), weights_only=True)
    net = TorchNet(spec.with_weights(None)).double()
    net.load_state_dict(state, strict=True)
    assert net.engine_weights() == list(spec.weights)


# --- the archive, the errors, the command line ---------------------------------------

def test_zip_holds_the_same_folder(tmp_path):
    spec, data = trained("dfn-circle")
    archive = zipfile.ZipFile(io.BytesIO(export.export_zip(spec, data=data)))
    names = sorted(archive.namelist())
    assert names == [f"{export.FOLDER}/{n}" for n in ("README.txt", "data.npz", "model.py", "spec.json",
                                                        "weights.pt")]
    folder = export.export_model(spec, tmp_path / "export", data=data)
    for name in ("model.py", "spec.json", "README.txt"):
        assert archive.read(f"{export.FOLDER}/{name}") == (folder / name).read_bytes()
    assert export.export_zip(spec, data=data) == export.export_zip(spec, data=data), "not reproducible"
    saved = json.loads(archive.read(f"{export.FOLDER}/spec.json"))
    assert "weights" not in saved and Spec.from_dict(saved) == spec.with_weights(None)
    with np.load(io.BytesIO(archive.read(f"{export.FOLDER}/data.npz"))) as arrays:
        assert np.array_equal(arrays["x_test"], data.x_test) and np.array_equal(arrays["y_train"], data.y_train)
        assert np.array_equal(arrays["points_test"], data.points_test)


def test_a_spec_without_weights_is_refused(tmp_path):
    spec = Spec.from_dict(CASES["dfn-circle"])
    for attempt in (lambda: export.export_model(spec, tmp_path / "x"), lambda: export.export_zip(spec),
                    lambda: export.state_dict_bytes(spec)):
        with pytest.raises(ValueError, match="no weights to export: train the model first"):
            attempt()
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="dtype must be one of float32, float64"):
        export.state_dict_bytes(trained("dfn-circle")[0], dtype="float16")


def test_command_line_reads_a_snapshot_or_a_spec(tmp_path, capsys):
    spec, _ = trained("gru-parity")
    snapshot = tmp_path / "run.json"
    snapshot.write_text(Snapshot(spec, {}, None).to_json())
    assert export.main([str(snapshot), str(tmp_path / "from-snapshot")]) == 0
    assert "model.py" in capsys.readouterr().out
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec.to_json())
    assert export.main([str(spec_file), str(tmp_path / "from-spec")]) == 0
    for name in ("model.py", "weights.pt", "data.npz"):
        assert (tmp_path / "from-snapshot" / name).read_bytes() == (tmp_path / "from-spec" / name).read_bytes()

    spec_file.write_text(spec.to_json(weights=False))
    assert export.main([str(spec_file), str(tmp_path / "none")]) == 2
    assert "no weights to export" in capsys.readouterr().err
    spec_file.write_text("{not json")
    assert export.main([str(spec_file), str(tmp_path / "none")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_python_dash_m_runs(tmp_path):
    spec, _ = trained("gru-parity")
    source = tmp_path / "spec.json"
    source.write_text(spec.to_json())
    run = subprocess.run([sys.executable, "-m", "server.export", str(source), str(tmp_path / "out")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "model.py").is_file()
