"""The spec: round trips, shapes through the stack, and a clear SpecError
naming the place for every kind of invalid spec — also for thousands of
random ones."""
import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.spec import (DATASETS, LIMITS, Spec, SpecError, parse_spec, plan_layers,
                             task_input_shape)

ARCHITECTURE_FOR_KIND = {
    "points": [{"type": "dense", "units": 4}],
    "image": [{"type": "conv2d", "filters": 4}, {"type": "maxpool"}, {"type": "flatten"}],
    "sequence": [{"type": "gru", "units": 8}],
}


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_every_dataset_has_a_working_default_spec(dataset):
    info = DATASETS[dataset]
    spec = Spec.from_dict({"task": {"dataset": dataset}, "layers": ARCHITECTURE_FOR_KIND[info.kind]})
    plans = plan_layers(spec)
    assert plans[0].input_shape == task_input_shape(spec.task)
    assert plans[-1].label == "output layer"
    assert Spec.from_dict(spec.to_dict()) == spec
    assert Spec.from_json(spec.to_json()) == spec


def test_shapes_are_inferred_through_a_cnn():
    spec = Spec.from_dict({"task": {"dataset": "digits"}, "layers": [
        {"type": "conv2d", "filters": 6, "kernel": 3, "stride": 2, "padding": "same"},
        {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "valid"},
        {"type": "avgpool", "size": 2, "stride": 1}, {"type": "flatten"}, {"type": "dense", "units": 5}]})
    shapes = [(plan.input_shape, plan.output_shape) for plan in plan_layers(spec)]
    assert shapes == [((1, 8, 8), (6, 4, 4)), ((6, 4, 4), (4, 2, 2)), ((4, 2, 2), (4, 1, 1)),
                      ((4, 1, 1), (4,)), ((4,), (5,)), ((5,), (10,))]
    assert plan_layers(spec)[0].params == {"W": (6, 1, 3, 3), "b": (6,)}


def test_return_sequences_follows_position_when_left_open():
    spec = Spec.from_dict({"task": {"dataset": "parity"}, "layers": [
        {"type": "lstm", "units": 5}, {"type": "gru", "units": 3}]})
    plans = plan_layers(spec)
    assert [plan.return_sequences for plan in plans[:2]] == [True, False]
    assert plans[1].params == {"W_x": (5, 9), "W_h": (3, 9), "b_x": (9,), "b_h": (9,)}
    text = Spec.from_dict({"task": {"dataset": "text"}, "layers": [{"type": "rnn", "units": 7}]})
    assert plan_layers(text)[-1].output_shape == (16, 36)


def test_output_defaults_follow_the_task():
    assert Spec.from_dict({"task": {"dataset": "xor"}}).output.activation == "tanh"
    blobs = Spec.from_dict({"task": {"dataset": "blobs", "options": {"classes": 4}}})
    assert (blobs.output.activation, blobs.output.loss) == ("softmax", "cross_entropy")
    assert plan_layers(blobs)[-1].output_shape == (4,)
    assert Spec.from_dict({"task": {"dataset": "plane"}}).output.activation == "linear"
    bce = Spec.from_dict({"task": {"dataset": "circle"}, "output": {"loss": "binary_cross_entropy"}})
    assert bce.output.activation == "sigmoid"


def test_python_construction_is_validated_too():
    from playground.spec import Dense, Task
    with pytest.raises(SpecError, match=r"layer 2 \(dense\): units must be a whole number"):
        Spec(task=Task("xor"), layers=(Dense(3), Dense("8")))


# --- every kind of invalid spec names its place -----------------------------

def digits(*layers, **training):
    spec = {"task": {"dataset": "digits"}, "layers": list(layers)}
    if training:
        spec["training"] = training
    return spec


CONV = {"type": "conv2d", "filters": 4, "kernel": 3}
INVALID = [
    # wrong types
    ("not an object", [1, 2], "a spec must be a JSON object, got a list of 2", ""),
    ("units as text", {"layers": [{"type": "dense", "units": "8"}]},
     "layer 1 (dense): units must be a whole number from 1 to 1,024, got '8'", "layers.0.units"),
    ("units as bool", {"layers": [{"type": "dense", "units": True}]},
     "layer 1 (dense): units must be a whole number", "layers.0.units"),
    ("noise as text", {"task": {"noise": "lots"}}, "task: noise must be a number, got 'lots'", "task.noise"),
    ("nan rate", {"training": {"learning_rate": float("nan")}},
     "training: learning_rate must be a finite number", "training.learning_rate"),
    ("layers not a list", {"layers": {"type": "dense"}}, "layers must be a list, got an object", "layers"),
    ("layer not an object", {"layers": ["dense"]}, "layer 1: must be an object", "layers.0"),
    ("task not an object", {"task": "xor"}, "task: must be an object, got 'xor'", "task"),
    ("features not a list", {"task": {"features": "x1"}}, "task: features must be a list of names", "task.features"),
    ("weights not a list", {"weights": {"W": 1}}, "weights must be a list", "weights"),
    # unknown names
    ("unknown layer", {"layers": [{"type": "dense"}, {"type": "convolution"}]},
     "layer 2: unknown layer type 'convolution'", "layers.1.type"),
    ("unknown activation", {"layers": [{"type": "dense", "activation": "relu6"}]},
     "layer 1 (dense): unknown activation 'relu6' (did you mean 'relu'?)", "layers.0.activation"),
    ("unknown field", {"layers": [{"type": "dense", "unit": 3}]},
     "layer 1 (dense): unknown field 'unit' (did you mean 'units'?)", "layers.0.unit"),
    ("unknown dataset", {"task": {"dataset": "spirals"}}, "task: unknown dataset 'spirals' (did you mean 'spiral'?)",
     "task.dataset"),
    ("unknown feature", {"task": {"features": ["x1", "cos_x1"]}}, "task: unknown feature 'cos_x1'", "task.feature"),
    ("unknown option", {"task": {"dataset": "blobs", "options": {"clases": 3}}},
     "task: 'blobs' has no option 'clases' (did you mean 'classes'?)", "task.options.clases"),
    ("unknown optimiser", {"training": {"optimizer": "rmsprop"}}, "training: unknown optimizer 'rmsprop'",
     "training.optimizer"),
    ("unknown top-level field", {"layer": []}, "spec: unknown field 'layer' (did you mean 'layers'?)", "layer"),
    ("softmax in a hidden layer", {"layers": [{"type": "dense", "activation": "softmax"}]},
     "layer 1 (dense): unknown activation 'softmax'", "layers.0.activation"),
    ("activation on a gru", {"task": {"dataset": "parity"}, "layers": [{"type": "gru", "activation": "tanh"}]},
     "layer 1 (gru): unknown field 'activation'", "layers.0.activation"),
    # impossible shapes
    ("kernel larger than input", digits(CONV, {"type": "dropout", "rate": 0.1}, {"type": "conv2d", "kernel": 9}),
     "layer 3 (conv2d): kernel 9 is larger than its 8×8 input", "layers.2.kernel"),
    ("pool window too large", digits(CONV, {"type": "maxpool", "size": 4}, {"type": "maxpool", "size": 3}),
     "layer 3 (maxpool): window 3 is larger than its 2×2 input", "layers.2.size"),
    ("dense on an image", digits({"type": "dense", "units": 4}),
     "layer 1 (dense): needs a vector or a sequence, got an image of 1 channel × 8×8 pixels; add a flatten layer",
     "layers.0"),
    ("conv on points", {"layers": [{"type": "conv2d"}]},
     "layer 1 (conv2d): needs an image (channels × height × width), got a vector of 2 values", "layers.0"),
    ("recurrent on points", {"layers": [{"type": "lstm"}]}, "layer 1 (lstm): needs a sequence", "layers.0"),
    ("recurrent after a vector", {"task": {"dataset": "parity"}, "layers": [
        {"type": "gru", "units": 4, "return_sequences": False}, {"type": "gru"}]},
     "layer 2 (gru): needs a sequence (steps × features), got a vector of 4 values; set return_sequences true "
     "on layer 1 (gru)", "layers.1"),
    ("flatten on a vector", {"layers": [{"type": "flatten"}]}, "layer 1 (flatten): its input is already flat",
     "layers.0"),
    ("image without flatten", digits(CONV), "output layer: needs a vector or a sequence", "output"),
    ("sequence where one label is due", {"task": {"dataset": "parity"}, "layers": [
        {"type": "rnn", "return_sequences": True}]},
     "output layer: task 'parity' predicts one label per sequence, but the layers end with a sequence of 8 steps × "
     "16 features; set return_sequences false on layer 1 (rnn) or add a flatten layer", "output"),
    ("vector where every step is due", {"task": {"dataset": "sine"}, "layers": [
        {"type": "lstm", "return_sequences": False}]},
     "output layer: task 'sine' predicts at every step, but the layers end with a vector of 16 values; "
     "set return_sequences true on layer 1 (lstm)", "output"),
    ("multiclass without softmax", {"task": {"dataset": "blobs"}, "output": {"activation": "tanh"}},
     "output: 'blobs' has 3 classes: use a softmax output with the cross_entropy loss", "output.activation"),
    ("cross-entropy on regression", {"task": {"dataset": "plane"}, "output": {"loss": "cross_entropy"}},
     "output: loss cross_entropy needs a classification task", "output.loss"),
    ("bce with tanh", {"output": {"activation": "tanh", "loss": "binary_cross_entropy"}},
     "output: loss binary_cross_entropy needs a sigmoid output activation, not tanh", "output.activation"),
    ("features for images", {"task": {"dataset": "digits", "features": ["x1"]}},
     "task: features apply to the 2-D point datasets only; 'digits' is a image dataset", "task.features"),
    ("odd bracket length", {"task": {"dataset": "brackets", "options": {"length": 7}}},
     "task: length must be even, got 7", "task.options.length"),
    ("no test data", {"task": {"samples": 10, "train_ratio": 0.95}},
     "task: train_ratio 0.95 of 10 samples leaves no training or no test data", "task.train_ratio"),
    # limits
    ("too many parameters", {"layers": [{"type": "dense", "units": 1024}] * 3},
     "model: 2,103,297 parameters is more than the limit of 2,000,000; layer 2 (dense) alone has 1,049,600",
     "layers"),
    ("too many units", {"layers": [{"type": "dense", "units": 5000}]},
     "layer 1 (dense): units must be from 1 to 1,024, got 5,000", "layers.0.units"),
    ("too many layers", {"layers": [{"type": "dense"}] * 40}, "layers: 40 layers is more than the limit of 32",
     "layers"),
    ("too many samples", {"task": {"samples": 10**9}}, "task: samples must be from 10 to 100,000", "task.samples"),
    ("more digits than exist", {"task": {"dataset": "digits", "samples": 5000}},
     "task: samples must be from 10 to 1,797, got 5,000", "task.samples"),
    ("sequence too long", {"task": {"dataset": "text", "options": {"length": 100000}}},
     "task: length must be from 4 to 64", "task.options.length"),
    ("batch too large for memory", {"task": {"dataset": "shapes", "options": {"size": 16}}, "layers": [
        {"type": "conv2d", "filters": 256}, {"type": "conv2d", "filters": 256}, {"type": "flatten"}],
        "training": {"batch_size": 4096}},
     "training: batch_size 4,096 × 196,613 activations per example is more than the limit", "training.batch_size"),
    ("dataset too large", {"task": {"dataset": "text", "samples": 100000, "options": {"length": 64}},
                           "layers": [{"type": "gru"}]},
     "task: 100,000 samples × 2,304 input values is more than the limit of 20,000,000; use fewer samples or "
     "shorter sequences", "task.samples"),
    ("huge number", {"training": {"batch_size": 10**400}}, "training: batch_size must be from 1 to 4,096, got a "
     "number with more than 15 digits", "training.batch_size"),
    # weights
    ("weights of the wrong count", {"layers": [{"type": "dense"}], "weights": [None]},
     "weights: expected 2 entries (one per layer and one for the output layer), got 1", "weights"),
    ("weights of the wrong shape", {"layers": [{"type": "dense", "units": 2}],
                                    "weights": [{"W": [[1, 2], [3]], "b": [0, 0]}, {"W": [[1], [2]], "b": [0]}]},
     "weights for layer 1 (dense): W must be a 2×2 nested list of numbers; found a list of 1 where 2 were expected",
     "weights.0.W"),
    ("non-finite weight", {"layers": [{"type": "dense", "units": 1}],
                           "weights": [{"W": [[1], [float("inf")]], "b": [0]}, {"W": [[1]], "b": [0]}]},
     "weights for layer 1 (dense): W holds inf, which is not a finite number", "weights.0.W"),
    ("missing weight", {"layers": [{"type": "dense", "units": 1}], "weights": [{"W": [[1], [2]]}, None]},
     "weights for layer 1 (dense): b is missing", "weights.0.b"),
    # versions
    ("newer version", {"version": 2}, "version: this spec is version 2, newer than this playground understands (1)",
     "version"),
]


@pytest.mark.parametrize("raw, message, path", [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_spec_is_refused_with_a_message_naming_the_place(raw, message, path):
    with pytest.raises(SpecError) as caught:
        parse_spec(raw)
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.path == path


def test_invalid_json_text_says_where():
    with pytest.raises(SpecError, match=r"the spec is not valid JSON at line 2, column 1"):
        Spec.from_json('{"task":\n}')


def test_oversize_model_is_refused_before_allocation(monkeypatch):
    """Validation runs before the engine allocates anything: make any numpy
    allocation fail and the limit's message must still come out."""
    np = pytest.importorskip("numpy")
    from playground.engine import Model

    def no_allocation(*args, **kwargs):
        raise AssertionError("allocated before validation")

    monkeypatch.setattr(np, "zeros", no_allocation)
    with pytest.raises(SpecError, match="more than the limit"):
        Model(Spec.from_dict({"layers": [{"type": "dense", "units": 1024}] * 3}))


# --- thousands of random specs: only SpecError, never a hang ------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)

VALID_SEEDS = [
    {"task": {"dataset": "spiral", "features": ["x1", "x2", "sin_x1"], "noise": 0.1},
     "layers": [{"type": "dense", "units": 3}, {"type": "dropout", "rate": 0.2}],
     "training": {"optimizer": "adam", "l2": 0.01}},
    {"task": {"dataset": "shapes", "options": {"size": 10, "kinds": ["hbar", "vbar"]}},
     "layers": [{"type": "conv2d", "filters": 2, "kernel": 3, "stride": 2}, {"type": "maxpool", "size": 2},
                {"type": "flatten"}], "output": {"activation": "softmax"}},
    {"task": {"dataset": "text", "options": {"length": 6}},
     "layers": [{"type": "lstm", "units": 3}, {"type": "gru", "units": 2, "return_sequences": True}]},
    {"task": {"dataset": "echo", "options": {"delay": 3}}, "layers": [{"type": "rnn", "units": 2}],
     "weights": [{"W_x": [[0.1, 0.2]] * 4, "W_h": [[0.0, 1.0], [1.0, 0.0]], "b": [0, 0]},
                 {"W": [[1, 2, 3, 4]] * 2, "b": [0, 0, 0, 0]}]},
]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


@st.composite
def mutated_specs(draw):
    """A valid spec with one place replaced by a random JSON value, or one key dropped."""
    spec = copy.deepcopy(draw(st.sampled_from(VALID_SEEDS)))
    paths = [p for p in _paths(spec) if p]
    path = draw(st.sampled_from(paths))
    parent = spec
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return spec


def _only_spec_errors(raw):
    try:
        spec = parse_spec(raw)
    except SpecError as error:
        assert str(error), "the message must not be empty"
        return
    assert Spec.from_dict(spec.to_dict()) == spec  # what validates, round-trips


@pytest.mark.timeout(300)
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_json_only_raises_spec_error(raw):
    _only_spec_errors(raw)


@pytest.mark.timeout(300)
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_randomly_broken_specs_only_raise_spec_error(raw):
    _only_spec_errors(raw)


@pytest.mark.timeout(120)
@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_random_text_only_raises_spec_error(text):
    try:
        Spec.from_json(text)
    except SpecError:
        pass


def test_limits_are_what_the_messages_say():
    assert LIMITS["parameters"] == 2_000_000 and LIMITS["units"] == 1024
    assert json.loads(Spec().to_json())["version"] == 1
