"""The server trainer against the browser's engine: for every layer type,
the same spec and weights give the same losses, gradients and frames
(float64, relative error ≤ 1e-6), and a run moves between the two keeping
its weights and optimiser state."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from playground import frames  # noqa: E402
from playground.session import TrainingSession  # noqa: E402
from playground.spec import edits  # noqa: E402
from server.torch_session import TorchSession  # noqa: E402

from ..engine.cases import CASES, case_spec  # noqa: E402

RELATIVE = 1e-6
# torch draws its own dropout masks, so runs with dropout cannot match step for step.
COMPARABLE = sorted(name for name, raw in CASES.items()
                    if not any(layer["type"] == "dropout" for layer in raw["layers"]))
TRAINING = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "l2": 0.001}


def relative_error(actual, expected) -> float:
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    return float(np.max(np.abs(actual - expected))) / max(float(np.max(np.abs(expected))), 1e-12)


def pair(name: str, **training):
    spec = case_spec(name, **(training or TRAINING))
    return TrainingSession(spec, dtype=np.float64), TorchSession(spec, device="cpu", dtype=torch.float64)


@pytest.mark.parametrize("name", COMPARABLE)
def test_same_gradients_losses_and_weights_as_the_engine(name):
    browser, server = pair(name)
    browser.train(1)
    server.train(1)
    server.frame()  # the server's gradients reach the mirror when the run is looked at
    assert relative_error(server.model.grads, browser.model.grads) <= RELATIVE, "first step's gradients"
    browser.train(19)
    server.train(19)
    ours, theirs = browser.summary(), server.summary()
    assert relative_error(theirs["train_loss"], ours["train_loss"]) <= RELATIVE
    assert relative_error(theirs["test_loss"], ours["test_loss"]) <= RELATIVE
    assert theirs["test_accuracy"] == ours["test_accuracy"]
    server.frame()
    assert relative_error(server.model.params, browser.model.params) <= RELATIVE, "weights after 20 steps"


def test_the_comparison_sees_a_difference():
    browser, server = pair("gru-to-one")
    server.train(20)
    browser.train(19)
    server.frame()
    assert relative_error(server.model.params, browser.model.params) > RELATIVE


def test_the_same_frames_as_the_browser():
    browser, server = pair("features-7")
    for session in (browser, server):
        session.set_views(["gradients", "activations"])
        session.train(30)
    ours, theirs = frames.decode(browser.encoded_frame()), frames.decode(server.encoded_frame())
    assert set(theirs[1]) == set(ours[1])
    for name, array in ours[1].items():
        if array.dtype.kind == "f":
            assert np.allclose(theirs[1][name], array, rtol=1e-5, atol=1e-5), name
    assert theirs[0]["where"] == "CPU"


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_run_moves_to_the_server_and_back_keeping_weights_and_optimiser(optimizer):
    training = dict(TRAINING, optimizer=optimizer, momentum=0.9)
    reference, _ = pair("features-7", **training)
    reference.train(60)

    browser, _ = pair("features-7", **training)
    browser.train(20)
    server = TorchSession(browser.spec, device="cpu", dtype=torch.float64)
    server.load_snapshot(browser.snapshot())
    server.train(20)
    back = TrainingSession(browser.spec, dtype=np.float64)
    back.load_snapshot(server.snapshot())
    back.train(20)
    assert back.trainer.step == reference.trainer.step == 60
    assert relative_error(back.model.params, reference.model.params) <= RELATIVE
    assert relative_error(back.summary()["train_loss"], reference.summary()["train_loss"]) <= RELATIVE


def test_edits_during_a_run_keep_the_weights_that_fit():
    _, server = pair("dense-tanh")
    server.train(10)
    server.set_weight(0, "W", 1, 0.75)
    weight = float(frames.decode(server.encoded_frame())[1]["param/0/W"].reshape(-1)[1])
    server.apply_spec(edits.add_neuron(edits.add_neuron(server.spec, 0), 0))
    server.train(1)
    header, arrays = frames.decode(server.encoded_frame())
    assert arrays["param/0/W"].shape[1] == 6
    assert header["step"] == 11
    assert weight == pytest.approx(0.75)
    assert arrays["param/0/W"][0, 1] == pytest.approx(0.75, abs=0.05), "the edited weight survives the new neurons"
