"""The training session the browser worker runs: edits mid-run keep the
weights where they fit, frames carry what the views draw, snapshots resume
exactly."""
import json

import numpy as np
import pytest

from playground import frames
from playground.session import MAP, SURFACE, TrainingSession
from playground.snapshot import read_snapshot_text
from playground.spec import Dense, Spec, SpecError, Task, edits
from playground.worker_api import load_snapshot, setup, snapshot_json


def circle():
    return Spec(task=Task("circle"), layers=(Dense(4), Dense(2)))


def test_adding_a_neuron_keeps_every_trained_weight():
    session = TrainingSession(circle())
    session.train(50)
    before = [{name: value.copy() for name, value in layer.params.items()} for layer in session.model.layers]
    session.apply_spec(edits.add_neuron(session.spec, 0))
    first, second = session.model.layers[0], session.model.layers[1]
    assert first.params["W"].shape == (2, 5)
    np.testing.assert_array_equal(first.params["W"][:, :4], before[0]["W"])
    np.testing.assert_array_equal(second.params["W"][:4], before[1]["W"])
    np.testing.assert_array_equal(session.model.layers[2].params["W"], before[2]["W"])
    assert session.trainer.step == 50, "the run goes on"


def test_switching_a_feature_keeps_the_other_features_weights():
    session = TrainingSession(Spec(task=Task("circle", features=("x1", "x2", "x1_squared")), layers=(Dense(3),)))
    session.train(20)
    weights = session.model.layers[0].params["W"].copy()
    session.apply_spec(edits.toggle_feature(session.spec, "x2"))  # now x1, x1_squared
    kept = session.model.layers[0].params["W"]
    np.testing.assert_array_equal(kept[0], weights[0])  # x1
    np.testing.assert_array_equal(kept[1], weights[2])  # x1_squared moved up a row


def test_changing_the_learning_rate_keeps_weights_and_optimiser_state():
    session = TrainingSession(Spec(task=Task("xor"), layers=(Dense(3),),
                                   training=edits.set_training(circle(), optimizer="adam").training))
    session.train(30)
    params, moments = session.model.params.copy(), session.trainer.optimizer.m.copy()
    session.apply_spec(edits.set_training(session.spec, learning_rate=0.001))
    np.testing.assert_array_equal(session.model.params, params)
    np.testing.assert_array_equal(session.trainer.optimizer.m, moments)
    assert session.trainer.optimizer.learning_rate == 0.001


def test_new_data_when_the_task_changes_only():
    session = TrainingSession(circle())
    version = session.data_version
    session.apply_spec(edits.set_training(session.spec, batch_size=5))
    assert session.data_version == version
    session.apply_spec(edits.set_task(session.spec, noise=0.2))
    assert session.data_version == version + 1


def test_frame_holds_what_the_views_draw():
    session = TrainingSession(circle())
    session.train(10)
    header, arrays = frames.decode(session.encoded_frame())
    assert header["step"] == 10 and header["surface_kind"] == "signed"
    assert arrays["surface"].shape == (SURFACE, SURFACE)
    assert np.all(np.abs(arrays["surface"]) <= 1)
    assert [arrays[f"map/{i}"].shape for i in range(3)] == [(4, MAP, MAP), (2, MAP, MAP), (1, MAP, MAP)]
    assert arrays["param/0/W"].shape == (2, 4)
    assert arrays["data/points_train"].shape == (250, 2) and header["feature_names"][0] == "x1"
    # the data travel once per version
    _, again = frames.decode(session.encoded_frame())
    assert "data/points_train" not in again
    # the surface is the model's output over the plane
    model_output = session.model.predict(session._grid)  # class per cell
    shown = (arrays["surface"].reshape(-1) > 0).astype(int)
    assert np.mean(shown == model_output) == 1.0


def test_multiclass_frame_carries_classes_and_confidence():
    session = TrainingSession(Spec(task=Task("blobs", options={"classes": 4}), layers=(Dense(5),)))
    header, arrays = frames.decode(session.encoded_frame())
    assert header["surface_kind"] == "classes"
    assert arrays["surface_class"].max() <= 3 and np.all(arrays["surface"] >= 0.25 - 1e-6)


def test_snapshot_resumes_exactly_where_it_was():
    session = TrainingSession(edits.set_training(circle(), optimizer="momentum", learning_rate=0.05))
    session.train(37)
    text = session.snapshot().to_json()
    session.train(40)
    expected = session.summary()

    resumed = TrainingSession(Spec())
    resumed.load_snapshot(read_snapshot_text(text))
    assert resumed.trainer.step == 37
    resumed.train(40)
    assert resumed.summary() == expected, "the same batches, the same optimiser state, the same result"


def test_broken_snapshots_are_refused_with_clear_messages():
    good = json.loads(TrainingSession(circle()).snapshot().to_json())
    cases = [
        (b"\xff\xfe", "the file is not text"),
        ("[1, 2", "not valid JSON at line 1"),
        (json.dumps({"format": "other"}), "this is not a playground snapshot"),
        (json.dumps({**good, "version": 9}), "version 9 is not one this playground reads"),
        (json.dumps({**good, "optimizer": {"name": "adam", "state": {}}}), "must name 'sgd'"),
        (json.dumps({**good, "progress": {**good["progress"], "order": [0, 0, 1]}}), "progress.order must be"),
        (json.dumps({**good, "spec": {**good["spec"], "weights": None}}), "it holds no weights"),
    ]
    for text, message in cases:
        with pytest.raises(SpecError, match=message.replace("(", r"\(")):
            read_snapshot_text(text)


def test_worker_api_round_trip():
    setup(circle().to_json())
    text = snapshot_json()
    spec_json = load_snapshot(text)
    assert Spec.from_json(spec_json).weights is None
    with pytest.raises(SpecError, match="layer 1"):
        setup('{"layers": [{"type": "dense", "units": 0}]}')
