"""What the "see inside" views compute: gradient flow and its flags, unit
states, PCA, CNN and RNN data, the loss landscape, the confusion matrix,
the coach's advice, and the session's views, selections and probes."""
import numpy as np
import pytest

from playground import view_data
from playground.coach import Coach
from playground.data import make_dataset
from playground.engine import Model
from playground.session import TrainingSession
from playground.spec import Conv2D, Dense, Flatten, GRU, LSTM, MaxPool, SimpleRNN, Spec, Task, Training


def deep(activation):
    return Spec(task=Task("circle"), layers=(Dense(8, activation),) * 8)


def flow(spec):
    session = TrainingSession(spec, dtype=np.float64)
    x, y = session._sample(256)
    return view_data.gradient_flow(session.model, x, session.model.head.targets(y))


def test_gradient_flow_shows_vanishing_for_deep_sigmoid_not_relu():
    header, arrays = flow(deep("sigmoid"))
    norms = header["gradient_flow"]
    assert norms[0] < norms[-2] / 100, "first layer's gradient at least 100× smaller than the last hidden one's"
    assert header["gradient_flags"][0] == "vanishing"
    header, _ = flow(deep("relu"))
    norms = header["gradient_flow"]
    assert norms[0] > norms[-2] / 100
    assert "vanishing" not in header["gradient_flags"][:3]
    assert arrays["grad/0/W"].shape == (2, 8) and arrays["unitgrad/0"].shape == (8,)


def test_gradient_flow_leaves_the_training_gradients_alone():
    session = TrainingSession(deep("tanh"), dtype=np.float64)
    session.train(1)
    before = session.model.grads.copy()
    x, y = session._sample(64)
    view_data.gradient_flow(session.model, x, session.model.head.targets(y))
    np.testing.assert_array_equal(session.model.grads, before)


def test_flags_compare_each_layer_with_the_largest():
    assert view_data.gradient_flags([np.nan, 0.5, 0.004, 1.0]) == [None, "ok", "vanishing", "ok"]
    assert view_data.gradient_flags([np.nan, 1e5, 1.0]) == [None, "exploding", "vanishing"]
    assert view_data.gradient_flags([np.inf, 1.0]) == ["exploding", "ok"]


def test_unit_states_find_dead_always_on_and_saturated_units():
    spec = Spec(task=Task("circle"), layers=(Dense(3, "relu"), Dense(3, "tanh")))
    model = Model(spec)
    relu, tanh = model.layers[0], model.layers[1]
    relu.params["W"][...] = 0.0
    relu.params["b"][...] = [-1.0, 2.0, 0.0]  # dead, always on, never positive either (z = 0: dead)
    relu.params["W"][:, 2] = [1.0, 0.0]  # the third follows x1: on for half the points
    tanh.params["W"][...] = 0.0
    tanh.params["b"][...] = [5.0, 0.1, -5.0]  # saturated, normal, saturated
    x = make_dataset(spec.task).x_train
    model.forward(x)
    assert view_data.unit_states(relu).tolist() == [view_data.UNIT_DEAD, view_data.UNIT_ALWAYS_ON, view_data.UNIT_NORMAL]
    assert view_data.unit_states(tanh).tolist() == [view_data.UNIT_SATURATED, view_data.UNIT_NORMAL,
                                                    view_data.UNIT_SATURATED]


def test_unit_activity_matrix_rows_follow_the_classes():
    session = TrainingSession(Spec(task=Task("blobs", options={"classes": 4}), layers=(Dense(5), Dense(3))))
    x, y = session._sample(128)
    header, arrays = view_data.unit_activity(session.model, x, y, 4)
    assert header["matrix_layers"] == [[0, 5], [1, 3]]
    assert arrays["matrix/inputs"].shape == (48, 8) and arrays["matrix/classes"].shape == (4, 8)
    assert np.all(np.abs(arrays["matrix/inputs"]) <= 1.0 + 1e-6)
    assert list(arrays["matrix/labels"]) == sorted(arrays["matrix/labels"])


def test_pca_keeps_its_orientation_between_frames():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6))
    coordinates, explained, components = view_data.pca_projection(values)
    assert coordinates.shape == (200, 2) and explained[0] >= explained[1] > 0
    again, _, _ = view_data.pca_projection(values * 1.01, previous=components)
    assert np.corrcoef(again[:, 0], coordinates[:, 0])[0, 1] > 0.99
    flipped, _, _ = view_data.pca_projection(-values, previous=components)
    assert np.corrcoef(flipped[:, 0], coordinates[:, 0])[0, 1] < -0.99  # the data flipped, the axes did not


def test_cnn_data_and_the_inputs_a_filter_likes():
    spec = Spec(task=Task("digits"), layers=(Conv2D(4, 3), MaxPool(2), Flatten()))
    session = TrainingSession(spec, dtype=np.float64)
    header, arrays = view_data.cnn_data(session.model, session.example)
    assert arrays["cnn/maps/0"].shape == (4, 8, 8) and arrays["cnn/maps/1"].shape == (4, 4, 4)
    assert arrays["cnn/filters/0"].shape == (4, 1, 3, 3)
    assert arrays["cnn/output"].shape == (10,) and abs(arrays["cnn/output"].sum() - 1) < 1e-5
    assert arrays["cnn/saliency"].shape == (8, 8) and arrays["cnn/saliency"].max() == pytest.approx(1.0)
    header, arrays = session.probe("top_inputs", {"layer": 0, "unit": 2, "count": 5})
    scores = arrays["top/scores"]
    assert arrays["top/inputs"].shape == (5, 1, 8, 8) and list(scores) == sorted(scores, reverse=True)
    model = session.model
    model.forward(session.data.x_train)
    best = model.layers[0].output[:, 2].reshape(len(session.data.x_train), -1).max(axis=1).max()
    assert scores[0] == pytest.approx(best, rel=1e-5)


@pytest.mark.parametrize("cell", [SimpleRNN, GRU, LSTM])
def test_rnn_data_per_step_predictions_end_with_the_model_output(cell):
    spec = Spec(task=Task("echo", options={"delay": 5}), layers=(cell(6),), training=Training("adam", 0.01))
    session = TrainingSession(spec, dtype=np.float64)
    _, arrays = view_data.rnn_data(session.model, session.example)
    assert arrays["rnn/states/0"].shape == (6, 6)
    expected = session.model.forward(session.example[None])[0]
    np.testing.assert_allclose(arrays["rnn/predictions"][-1], expected, rtol=1e-5, atol=1e-6)
    gates = {name.rsplit("/", 1)[1] for name in arrays if name.startswith("rnn/gates/")}
    assert gates == set(session.model.layers[0].gate_names)
    _, bars = view_data.rnn_gradient_bars(session.model, *session._sample(8))
    assert bars["rnn/bow/0"].shape == (6,)


def test_landscape_is_centred_on_the_current_weights():
    session = TrainingSession(Spec(task=Task("xor"), layers=(Dense(3),)), dtype=np.float64)
    session.set_views({"landscape"})
    for _ in range(6):
        session.train(25)
        session.frame()
    params = session.model.params.copy()
    header, arrays = session.probe("landscape", {"size": 9})
    assert header["landscape_directions"] == "path"
    loss = arrays["landscape/loss"]
    x, y = session._sample(256)
    centre = session.model.evaluate(x, y)[0]
    assert loss.shape == (9, 9) and loss[4, 4] == pytest.approx(centre, rel=1e-4)
    assert arrays["landscape/path"].shape == (6, 2)
    assert np.allclose(arrays["landscape/path"][-1], 0, atol=1e-6), "the path ends where the weights are"
    np.testing.assert_array_equal(session.model.params, params)


def test_confusion_counts_every_example():
    matrix = view_data.confusion([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], 3)
    assert matrix == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]


def test_session_views_selection_and_probes_refuse_nonsense():
    session = TrainingSession(Spec(task=Task("circle"), layers=(Dense(3),)))
    with pytest.raises(ValueError, match="unknown views: colour"):
        session.set_views({"colour"})
    with pytest.raises(ValueError, match="two coordinates"):
        session.select(values=[1, 2, 3])
    with pytest.raises(ValueError, match="no training example 9999"):
        session.select(9999)
    with pytest.raises(ValueError, match="unknown probe"):
        session.probe("everything", {})
    session.select(values=[2.0, -1.5])
    assert session.example.tolist() == [2.0, -1.5]
    session.set_views({"activations"})
    header, arrays = session.frame()
    assert header["selected"] is None and arrays["act/input"].tolist() == [2.0, -1.5]


# --- the coach -----------------------------------------------------------------------------

def test_coach_pauses_a_diverged_run_and_says_what_to_do():
    advice = Coach().observe({"epoch": 3, "train_loss": None, "diverged": True})
    assert advice[0].severity == "stop" and "Lower the learning rate" in advice[0].text


def test_coach_stops_a_run_that_blew_up():
    coach = Coach()
    for epoch, loss in enumerate([0.7, 1.08, 1.08, 1.08, 1.08, 1.08]):
        advice = coach.observe({"epoch": epoch, "train_loss": loss, "test_loss": loss})
    assert [(a.kind, a.severity) for a in advice] == [("blown_up", "stop")]
    assert "0.7 → 1.08" in advice[0].text


def test_coach_sees_a_loss_that_grows():
    coach = Coach()
    for epoch, loss in enumerate([0.3, 0.2, 0.25, 0.5, 0.9, 1.6]):
        advice = coach.observe({"epoch": epoch, "train_loss": loss, "test_loss": loss})
    assert [a.kind for a in advice] == ["exploding"]


def test_coach_flags_dead_and_saturated_units():
    states = {0: np.array([0, 1, 1], dtype=np.uint8), 2: np.array([3, 0], dtype=np.uint8)}
    advice = Coach().observe({"epoch": 1, "train_loss": 0.4, "test_loss": 0.4}, states, {0: "relu", 2: "tanh"})
    kinds = {a.kind: a for a in advice}
    assert kinds["dead_units"].units == [[0, 1], [0, 2]] and "2 dead neurons" == kinds["dead_units"].title
    assert kinds["saturated_units"].units == [[2, 0]] and "tanh" in kinds["saturated_units"].text


def test_coach_sees_a_plateau_only_when_the_task_is_unsolved():
    coach = Coach()
    for epoch in range(60):
        advice = coach.observe({"epoch": epoch, "train_loss": 0.5 - 0.2 * min(epoch, 10) / 10,
                                "test_loss": 0.3, "train_accuracy": 0.8})
    assert [a.kind for a in advice] == ["plateau"]
    solved = Coach()
    for epoch in range(60):
        advice = solved.observe({"epoch": epoch, "train_loss": 0.05, "test_loss": 0.06, "train_accuracy": 1.0})
    assert advice == []


def test_coach_sees_overfitting():
    coach = Coach()
    for epoch in range(30):
        train = 0.5 * 0.9 ** epoch
        test = 0.3 if epoch < 15 else 0.3 + 0.03 * (epoch - 15)
        advice = coach.observe({"epoch": epoch, "train_loss": train, "test_loss": test, "train_accuracy": 0.9})
    assert "overfitting" in [a.kind for a in advice]
