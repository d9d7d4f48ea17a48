"""Weights export to the spec and load back exactly; seeded initialisation."""
import json

import numpy as np
import pytest

from playground.engine import Model, Trainer
from playground.spec import INITS, Spec

from .cases import CASES, case_batch, case_spec


@pytest.mark.parametrize("name", ["dense-tanh", "conv-valid-multichannel", "gru-stacked-regression",
                                  "lstm-to-sequence", "recurrent-dropout"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trained_weights_survive_a_json_round_trip_bit_for_bit(name, dtype):
    spec = case_spec(name, optimizer="adam", learning_rate=0.05)
    x, labels = case_batch(spec, n=12)
    trainer = Trainer(spec, x, labels, dtype=dtype)
    trainer.train(5)
    saved = json.loads(trainer.model.spec_with_weights().to_json())  # through text, as a file or URL would
    restored = Model(Spec.from_dict(saved), dtype=dtype)
    assert np.array_equal(restored.params, trainer.model.params)
    assert np.array_equal(restored.forward(x), trainer.model.forward(x))


def test_same_seed_same_initial_weights_other_seed_other_weights():
    raw = dict(CASES["dense-tanh"])
    first, again = Model(Spec.from_dict(raw)), Model(Spec.from_dict(raw))
    assert np.array_equal(first.params, again.params)
    other = Model(Spec.from_dict({**raw, "task": {**raw["task"], "seed": 2}}))
    assert not np.array_equal(first.params, other.params)


@pytest.mark.parametrize("init", INITS)
def test_initialisation_schemes(init):
    spec = Spec.from_dict({"task": {"dataset": "xor"}, "layers": [{"type": "dense", "units": 200}],
                           "training": {"init": init}})
    layer = Model(spec).layers[0]
    weights, bias = layer.params["W"], layer.params["b"]
    if init == "zeros":
        assert not weights.any() and not bias.any()
    elif init == "uniform":  # the classic playground: U(-0.5, 0.5), biases 0.1
        assert -0.5 <= weights.min() < -0.4 and 0.4 < weights.max() <= 0.5 and np.all(bias == 0.1)
    elif init == "glorot":
        limit = np.sqrt(6 / (2 + 200))
        assert np.abs(weights).max() <= limit and np.abs(weights).max() > 0.9 * limit and not bias.any()
    else:
        assert abs(weights.std() - np.sqrt(2 / 2)) < 0.15 and not bias.any()


def test_zero_initialisation_keeps_units_identical_while_training():
    """The symmetry lesson: with all-zero weights every hidden unit stays the same."""
    spec = Spec.from_dict({"task": {"dataset": "circle"}, "layers": [{"type": "dense", "units": 4}],
                           "training": {"init": "zeros", "learning_rate": 0.1}})
    x, labels = case_batch(spec, n=20)
    trainer = Trainer(spec, x, labels)
    trainer.train(20)
    weights = trainer.model.layers[0].params["W"]
    assert np.allclose(weights, weights[:, :1])


def test_loading_weights_into_a_different_architecture_is_refused_clearly():
    from playground.spec import SpecError
    small = Model(Spec.from_dict({"task": {"dataset": "xor"}, "layers": [{"type": "dense", "units": 3}]}))
    with pytest.raises(SpecError, match=r"weights for layer 1 \(dense\): W must be a 2×4"):
        Spec.from_dict({"task": {"dataset": "xor"}, "layers": [{"type": "dense", "units": 4}],
                        "weights": small.export_weights()})
