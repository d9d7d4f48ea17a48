"""Introspection and probes: captured activations and gradients, every
neuron over a grid in one pass, one example's activations, saliency,
gradient norms and the split of recurrent gradients by distance."""
import numpy as np
import pytest

from playground.data import grid_points, point_features
from playground.engine import Model
from playground.engine.probes import (activations_for, gradient_by_distance, gradient_parts_by_distance,
                                      neuron_grid, saliency)
from playground.spec import Spec

from .cases import case_batch, case_spec


def test_forward_and_backward_capture_every_layer():
    spec = case_spec("dense-sigmoid")
    x, labels = case_batch(spec, n=6)
    model = Model(spec)
    model.loss_and_gradients(x, model.head.targets(labels))
    for layer in model.layers:
        assert layer.pre_activation.shape == layer.output.shape
        np.testing.assert_allclose(layer.output, 1 / (1 + np.exp(-layer.pre_activation))
                                   if layer is not model.output_layer else np.tanh(layer.pre_activation))
        assert layer.grads["W"].shape == layer.params["W"].shape
        assert layer.grad_pre_activation.shape == layer.output.shape
    for layer in model.layers[:-1]:
        assert layer.grad_output.shape == layer.output.shape


def test_gradient_norms_per_layer():
    spec = case_spec("dropout")
    x, labels = case_batch(spec)
    model = Model(spec)
    model.loss_and_gradients(x, model.head.targets(labels))
    norms = model.gradient_norms()
    assert np.isnan(norms[1])  # dropout has no parameters
    first = np.sqrt(sum(np.sum(g * g) for g in model.layers[0].grads.values()))
    assert norms[0] == pytest.approx(first)


def test_deep_sigmoid_gradients_vanish_but_relu_ones_do_not():
    """The classic demonstration the gradient-flow view shows."""
    def ratio(activation):
        spec = Spec.from_dict({"task": {"dataset": "circle"}, "training": {"init": "glorot"},
                               "layers": [{"type": "dense", "units": 8, "activation": activation}] * 8})
        x, labels = case_batch(spec, n=50)
        model = Model(spec)
        model.loss_and_gradients(x, model.head.targets(labels))
        norms = model.gradient_norms()
        return norms[0] / norms[-2]
    assert ratio("sigmoid") < 0.01
    assert ratio("relu") > 0.05


def test_neuron_grid_is_every_neuron_over_the_plane_in_one_pass():
    spec = Spec.from_dict({"task": {"dataset": "circle", "features": ["x1", "x2", "x1_squared", "sin_x2"]},
                           "layers": [{"type": "dense", "units": 5}, {"type": "dense", "units": 3}]})
    model = Model(spec)
    points = grid_points(100)
    maps = neuron_grid(model, point_features(points, spec.task.input_features))
    assert [m.shape for m in maps] == [(5, 10000), (3, 10000), (1, 10000)]
    # the same values one point at a time
    for index in (0, 4321, 9999):
        single = neuron_grid(model, point_features(points[index:index + 1], spec.task.input_features))
        for whole, one in zip(maps, single):
            np.testing.assert_allclose(whole[:, index], one[:, 0])


def test_activations_for_one_example_include_recurrent_states_and_gates():
    spec = case_spec("lstm-stacked-regression")
    x, _ = case_batch(spec, n=1)
    entries = activations_for(Model(spec), x[0])
    assert [e["label"] for e in entries] == ["layer 1 (lstm)", "layer 2 (lstm)", "layer 3 (dense)", "output layer"]
    first = entries[0]
    assert first["states"].shape == (5, 3)
    assert set(first["gates"]) == {"input", "forget", "cell_input", "output", "cell"}
    forget = first["gates"]["forget"]
    assert forget.shape == (5, 3) and np.all((forget > 0) & (forget < 1))
    gru = activations_for(Model(case_spec("gru-to-one")), case_batch(case_spec("gru-to-one"), n=1)[0][0])
    assert set(gru[0]["gates"]) == {"reset", "update", "candidate"}


def test_saliency_is_the_gradient_of_the_class_score():
    spec = case_spec("maxpool")
    x, labels = case_batch(spec, n=2)
    model = Model(spec)
    model.loss_and_gradients(x, model.head.targets(labels))
    training_grads = model.grads.copy()
    result = saliency(model, x, class_index=1)
    assert np.array_equal(model.grads, training_grads), "a probe must not disturb training"
    assert result.shape == x.shape
    eps, probe = 1e-6, x.copy()
    for index in [(0, 0, 3, 4), (1, 0, 5, 2)]:
        probe[index] += eps
        model.forward(probe)
        up = model.output_layer.pre_activation[index[0], 1]
        probe[index] -= 2 * eps
        model.forward(probe)
        down = model.output_layer.pre_activation[index[0], 1]
        probe[index] += eps
        assert result[index] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("name", ["rnn-to-one", "gru-to-sequence", "lstm-stacked-regression",
                                  "recurrent-dropout"])
def test_recurrent_gradient_parts_add_up_to_the_whole_gradient(name):
    spec = case_spec(name)
    x, labels = case_batch(spec, n=3)
    model = Model(spec)
    model.loss_and_gradients(x, model.head.targets(labels), training=False)
    whole = model.grads.copy()
    parts = gradient_parts_by_distance(model, x, labels)
    assert np.array_equal(model.grads, whole)
    assert parts, "every recurrent layer gets its split"
    for position, part in parts.items():
        start, stop = model.layer_slices[position]
        assert part.shape == (x.shape[1], stop - start)
        np.testing.assert_allclose(part.sum(axis=0), whole[start:stop], rtol=1e-10, atol=1e-14)
    norms = gradient_by_distance(model, x, labels)
    for position, part in parts.items():
        np.testing.assert_allclose(norms[position], np.sqrt((part ** 2).sum(axis=1)))


def test_simple_rnn_gradient_comes_mostly_from_recent_steps():
    """On a long echo the simple RNN's gradient from far back is tiny — what the RNNbow view shows."""
    spec = Spec.from_dict({"task": {"dataset": "echo", "options": {"delay": 20}},
                           "layers": [{"type": "rnn", "units": 8}]})
    x, labels = case_batch(spec, n=16)
    norms = gradient_by_distance(Model(spec), x, labels)[0]
    assert norms.shape == (21,)
    assert norms[15:].sum() < 0.01 * norms[:5].sum()


def test_dense_grid_path_matches_the_general_forward_pass():
    """neuron_grid's columns-layout path for dense stacks gives what a plain forward pass gives."""
    from playground.engine.probes import layer_outputs
    for raw in ({"task": {"dataset": "blobs", "options": {"classes": 4}},
                 "layers": [{"type": "dense", "units": 5, "activation": "relu"}, {"type": "dropout", "rate": 0.3},
                            {"type": "dense", "units": 3, "activation": "swish"}]},
                {"task": {"dataset": "circle", "features": ["x1", "x2", "sin_x2"]},
                 "layers": [{"type": "dense", "units": 4, "activation": "tanh"}]}):
        spec = Spec.from_dict(raw)
        model = Model(spec)
        inputs = np.random.default_rng(0).standard_normal((300, len(spec.task.input_features)))
        fast = neuron_grid(model, inputs)
        general = [np.moveaxis(out, -1, 0) for out in layer_outputs(model, inputs)]
        assert len(fast) == len(general)
        for a, b in zip(fast, general):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_browser_tanh_formula_is_tanh():
    """In Pyodide, big arrays take tanh from exp (np.tanh is slow there); it must be tanh."""
    from playground.engine.activations import _tanh_from_exp
    z = np.linspace(-60, 60, 20001)
    np.testing.assert_allclose(_tanh_from_exp(z), np.tanh(z), rtol=0, atol=5e-16)
    z32 = z.astype(np.float32)
    result = _tanh_from_exp(z32)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, np.tanh(z32), rtol=0, atol=3e-7)
    assert _tanh_from_exp(np.array([-1e30, 1e30])).tolist() == [-1.0, 1.0]
