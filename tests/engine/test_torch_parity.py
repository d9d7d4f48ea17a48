"""The engine against PyTorch on the same weights, in float64: outputs,
losses, parameter and input gradients for every case; and 100 steps of each
optimiser (with L1, L2 and clipping) follow torch's loss curve."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from playground.engine import Model, Trainer  # noqa: E402
from server.torch_model import TorchNet, loss as torch_loss, targets as torch_targets  # noqa: E402

from .cases import CASES, case_batch, case_spec  # noqa: E402

RELATIVE = 1e-6


def assert_relative(actual, expected, what):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(float(np.max(np.abs(expected))), 1e-12)
    error = float(np.max(np.abs(actual - expected))) / scale
    assert error <= RELATIVE, f"{what}: relative error {error:.2e} > {RELATIVE:g}"


class FixedMask(torch.nn.Module):
    """torch's dropout draws its own mask; use the engine's for the comparison."""

    def __init__(self, mask):
        super().__init__()
        self.mask = torch.as_tensor(mask)

    def forward(self, x):
        return x * self.mask


def torch_twin(model: Model) -> TorchNet:
    net = TorchNet(model.spec_with_weights()).double()
    for block, layer in zip(net.blocks, model.layers):
        if getattr(layer, "mask", None) is not None:
            block.module = FixedMask(layer.mask)
    return net


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_outputs_and_gradients_as_torch(name):
    spec = case_spec(name)
    x, labels = case_batch(spec, n=5)
    model = Model(spec)
    targets = model.head.targets(labels)
    engine_output = model.forward(x, training=True)
    z = model.output_layer.pre_activation
    engine_loss = model.head.loss(z, engine_output, targets)
    engine_input_grad = model.backward(model.head.grad(z, engine_output, targets), need_input_grad=True)

    net = torch_twin(model)
    x_torch = torch.tensor(x, requires_grad=True)
    output = net(x_torch)
    loss = torch_loss(net, output, torch_targets(labels, net.loss_name, net.activation_name, net.classes))
    loss.backward()

    assert_relative(engine_output, output.detach().numpy(), "output")
    assert_relative(engine_loss, loss.item(), "loss")
    assert_relative(model.grads, net.engine_gradients(), "parameter gradients")
    assert_relative(engine_input_grad, x_torch.grad.numpy(), "input gradient")


def test_parity_check_catches_a_difference():
    """A test that cannot fail proves nothing: nudge one weight of the twin."""
    spec = case_spec("gru-to-one")
    x, labels = case_batch(spec)
    model = Model(spec)
    net = torch_twin(model)
    with torch.no_grad():
        net.blocks[0].cell.weight_hh_l0[0, 0] += 1e-3
    with pytest.raises(AssertionError):
        assert_relative(model.forward(x), net(torch.tensor(x)).detach().numpy(), "output")


TRAINING_RUNS = {
    "sgd": ("features-7", {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 8}),
    "momentum": ("features-7", {"optimizer": "momentum", "learning_rate": 0.05, "momentum": 0.9, "batch_size": 8}),
    "adam": ("features-7", {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 8}),
    "sgd-l2-clip": ("dense-tanh", {"optimizer": "sgd", "learning_rate": 0.3, "l2": 0.01, "clip_norm": 0.5,
                                   "batch_size": 8}),
    "momentum-l1": ("dense-relu", {"optimizer": "momentum", "learning_rate": 0.05, "l1": 0.003, "batch_size": 8}),
    "adam-conv": ("maxpool", {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 8}),
    "adam-lstm-l2": ("lstm-to-one", {"optimizer": "adam", "learning_rate": 0.02, "l2": 0.001, "batch_size": 8}),
    "sgd-rnn-clip": ("rnn-to-sequence", {"optimizer": "sgd", "learning_rate": 0.5, "clip_norm": 0.1,
                                         "batch_size": 8}),
}


def _torch_optimizer(training, parameters):
    if training.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=training.learning_rate, betas=(training.beta1, training.beta2),
                                eps=training.epsilon)
    momentum = training.momentum if training.optimizer == "momentum" else 0.0
    return torch.optim.SGD(parameters, lr=training.learning_rate, momentum=momentum)


def _penalty(net, training):
    weights = [p for name, p in net.named_parameters() if p.requires_grad and ("weight" in name)]
    total = 0.0
    if training.l1:
        total = total + training.l1 * sum(w.abs().sum() for w in weights)
    if training.l2:
        total = total + 0.5 * training.l2 * sum((w * w).sum() for w in weights)
    return total


@pytest.mark.parametrize("run", sorted(TRAINING_RUNS))
def test_hundred_optimiser_steps_follow_torch(run):
    case, training = TRAINING_RUNS[run]
    spec = case_spec(case, **training)
    x, labels = case_batch(spec, n=24, seed=5)
    trainer = Trainer(spec, x, labels)
    batches = []
    next_batch = trainer.next_batch
    trainer.next_batch = lambda: batches.append(next_batch()) or batches[-1]
    net = TorchNet(trainer.model.spec_with_weights()).double()
    engine_losses = [trainer.train_step() for _ in range(100)]

    parameters = [p for p in net.parameters() if p.requires_grad]
    optimizer = _torch_optimizer(spec.training, parameters)
    target = torch_targets(labels, net.loss_name, net.activation_name, net.classes)
    x_torch = torch.tensor(x)
    torch_losses = []
    for batch in batches:
        index = torch.as_tensor(batch)
        optimizer.zero_grad()
        data_loss = torch_loss(net, net(x_torch[index]), target[index])
        (data_loss + _penalty(net, spec.training)).backward()
        if spec.training.clip_norm:
            torch.nn.utils.clip_grad_norm_(parameters, spec.training.clip_norm)
        optimizer.step()
        torch_losses.append(data_loss.item())

    assert_relative(engine_losses, torch_losses, f"{run} loss curve")
    assert engine_losses[-1] < engine_losses[0], "training should lower the loss"
    assert_relative(trainer.model.params, np.concatenate(
        [np.ravel(v) for entry in net.engine_weights() if entry for v in entry.values()]), "final weights")
