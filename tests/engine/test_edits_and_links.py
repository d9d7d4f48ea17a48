"""Direct-manipulation edits and shared links, at the spec level."""
import pytest

from playground.spec import Dense, Output, Spec, SpecError, Task, edits
from playground.spec.sharing import spec_from_link, spec_to_link


def test_building_a_network_by_edits():
    spec = Spec(task=Task("xor"))
    spec = edits.add_layer(spec)
    assert spec.layers == (Dense(4, "tanh"),)
    spec = edits.add_neuron(edits.add_layer(spec), 1)
    assert [layer.units for layer in spec.layers] == [4, 5]
    spec = edits.set_activation(spec, "relu", 0)
    assert [layer.activation for layer in spec.layers] == ["relu", "tanh"]
    spec = edits.set_activation(spec, "sigmoid")
    assert {layer.activation for layer in spec.layers} == {"sigmoid"}
    assert edits.remove_layer(spec).layers == spec.layers[:1]


def test_edits_refuse_what_the_builder_cannot_draw():
    spec = Spec(task=Task("xor"), layers=(Dense(16),) * 8)
    with pytest.raises(SpecError, match="at most 8 hidden layers"):
        edits.add_layer(spec)
    with pytest.raises(SpecError, match="1 to 16 neurons"):
        edits.add_neuron(spec, 0)
    with pytest.raises(SpecError, match="1 to 16 neurons"):
        edits.remove_neuron(Spec(task=Task("xor"), layers=(Dense(1),)), 0)
    with pytest.raises(SpecError, match="no layer 3"):
        edits.add_neuron(Spec(task=Task("xor"), layers=(Dense(1),)), 2)
    with pytest.raises(SpecError, match="no hidden layer to remove"):
        edits.remove_layer(Spec())
    with pytest.raises(SpecError, match="at least one input feature"):
        edits.toggle_feature(Spec(task=Task("xor", features=("x1",))), "x1")


def test_features_keep_their_canonical_order():
    spec = edits.toggle_feature(Spec(task=Task("spiral")), "sin_x1")
    spec = edits.toggle_feature(spec, "x1_squared")
    assert spec.task.features == ("x1", "x2", "x1_squared", "sin_x1")


def test_problem_and_dataset_changes_fix_the_output():
    spec = edits.set_problem(Spec(task=Task("circle"), layers=(Dense(3),)), "multiclass")
    assert spec.task.dataset == "blobs" and spec.output.activation == "softmax"
    spec = edits.set_problem(spec, "regression")
    assert spec.task.dataset == "plane" and spec.output.loss == "squared_error"
    spec = edits.set_task(edits.set_problem(spec, "classification"), dataset="spiral")
    assert spec.output.activation == "tanh"
    # same kind of problem: the learner's own output choice stays
    custom = edits.set_task(spec.replace(output=Output("sigmoid", "binary_cross_entropy")),
                            dataset="moons")
    assert custom.output.loss == "binary_cross_entropy"


def test_link_round_trip_and_damage():
    spec = Spec(task=Task("spiral", noise=0.2, seed=9, features=("x1", "x2", "sin_x1")),
                layers=(Dense(8), Dense(5, "relu")))
    code = spec_to_link(spec)
    assert spec_from_link(code) == spec
    assert len(code) < 500 and code.isascii() and "=" not in code
    for damaged in (code[:-30], "x" + code[1:], "", "%%%", "a" * 20000):
        with pytest.raises(SpecError, match="link"):
            spec_from_link(damaged)


def test_link_never_carries_weights():
    from playground.engine import Model
    spec = Spec(task=Task("xor"), layers=(Dense(2),))
    with_weights = Model(spec).spec_with_weights()
    assert spec_from_link(spec_to_link(with_weights)).weights is None
