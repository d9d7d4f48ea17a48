"""The page's Python side: the state refuses bad edits with a message, the
controls edit the spec and follow it, the JSON editor says what is wrong."""
from playground.app.controls import DataControls, RunControls
from playground.app.network_view import NetworkView
from playground.app.page import STARTER_SPEC, SpecEditor
from playground.app.state import PlaygroundState
from playground.spec import Dense, Spec, Task


def make_state(spec=STARTER_SPEC):
    return PlaygroundState(spec=spec)


def test_edits_by_name_and_refusals_with_a_message():
    state = make_state()
    assert state.edit("add_neuron", layer=0)
    assert state.spec.layers[0].units == 5 and state.message == ""
    assert not state.edit("add_neuron", layer=7)
    assert "there is no layer 8" in state.message and state.spec.layers[0].units == 5
    assert not state.edit("format_disk")
    assert "Unknown edit" in state.message
    assert not state.edit("add_neuron", layer="first")  # malformed arguments from a page
    assert "refused" in state.message


def test_controls_edit_the_spec_and_follow_it():
    state = make_state()
    view = NetworkView(state)
    run, data = RunControls(state, view), DataControls(state)
    run.learning_rate.value = 0.3
    data.noise.value = 20
    data.dataset.value = "spiral"
    run.regularization.value = "L2"
    run.rate.value = 0.01
    data.layers.value = 4
    spec = state.spec
    assert spec.training.learning_rate == 0.3 and spec.task.noise == 0.2 and spec.task.dataset == "spiral"
    assert spec.training.l2 == 0.01 and spec.training.l1 == 0.0 and len(spec.layers) == 4
    # a spec from elsewhere (a link, a snapshot): the widgets show it
    state.replace_spec(Spec(task=Task("blobs", options={"classes": 5}), layers=(Dense(3, "relu"),)))
    assert run.problem.value == "multiclass" and data.dataset.value == "blobs"
    classes = data._option_widgets[0]
    assert classes.label == "Classes" and classes.value == 5
    assert run.activation.value == "relu" and data.layers.value == 1
    classes.value = 3  # the dataset's own setting edits the spec
    assert state.spec.task.option("classes") == 3
    assert state.message == ""


def test_view_gets_the_spec_and_a_link_that_reproduces_it():
    state = make_state()
    view = NetworkView(state)
    state.edit("add_layer")
    assert Spec.from_json(view.spec_json) == state.spec
    from playground.spec.sharing import spec_from_link
    assert spec_from_link(view.share_query.split("=", 1)[1]) == state.spec


def test_view_messages_reach_the_state():
    state = make_state()
    view = NetworkView(state)
    view._handle_msg({"type": "edit", "op": "toggle_feature", "fields": {"feature": "sin_x1"}})
    assert "sin_x1" in state.spec.task.features
    view._handle_msg({"type": "summary", "step": 25, "train_loss": 0.5, "test_loss": 0.6, "tag": view.run_tag})
    assert state.summary["step"] == 25 and state.summary["trains_on"] == "browser"
    view._handle_msg("not even a dict")  # ignored, not a crash


def test_summaries_of_a_run_before_the_latest_change_are_dropped():
    """The engine echoes the tag of the change it made last; a summary that
    was on its way while the model changed must not reach a lesson's goal."""
    state = make_state()
    view = NetworkView(state)
    old = view.run_tag
    state.edit("add_neuron", layer=0)
    assert view.run_tag == old + 1 and view.run["tag"] == old + 1
    view._handle_msg({"type": "summary", "step": 900, "test_loss": 0.01, "tag": old})
    assert state.summary == {}
    view.reset()
    assert view.run_tag == old + 2
    view._handle_msg({"type": "summary", "step": 900, "test_loss": 0.01, "tag": old + 1})
    assert state.summary == {}
    view._handle_msg({"type": "summary", "step": 0, "test_loss": 0.5, "tag": old + 2})
    assert state.summary["step"] == 0


def test_a_lesson_lock_refuses_the_edit_and_says_why():
    state = make_state()
    before = state.spec
    state.set_by_lesson(before, locked=["layers", "learning_rate"], hidden=["problem"])
    assert not state.edit("add_layer")
    assert "adding and removing hidden layers" in state.message and state.spec == before
    assert not state.edit("set_training", learning_rate=0.3)
    assert not state.edit("set_problem", problem="regression")
    assert not state.replace_spec(Spec(task=Task("xor")))
    assert state.edit("add_neuron", layer=0), state.message
    state.set_by_lesson(state.spec)
    assert state.edit("add_layer")


def test_json_editor_applies_a_valid_spec_and_explains_an_invalid_one():
    state = make_state()
    editor = SpecEditor(state)
    editor.text = '{"task": {"dataset": "xor"}, "layers": [{"type": "dense", "units": 0}]}'
    editor.apply_text()
    alert = editor.feedback.objects[0]
    assert alert.alert_type == "danger" and "layer 1 (dense): units must be from 1 to 1,024, got 0" in alert.object
    assert state.spec == STARTER_SPEC, "an invalid spec changes nothing"
    editor.text = Spec(task=Task("xor"), layers=(Dense(3),)).to_json()
    editor.apply_text()
    assert state.spec.task.dataset == "xor" and state.spec.layers == (Dense(3),)


def test_images_and_sequences_come_with_their_own_settings_and_models():
    state = make_state()
    run, data = RunControls(state, NetworkView(state)), DataControls(state)
    run.problem.value = "images"
    assert state.spec.task.dataset == "digits" and state.spec.layers[0].type == "conv2d"
    assert not data.layers.visible and data.batch.value == 32
    data.dataset.value = "shapes"
    kinds = [w for w in data._option_widgets if w.label == "Kinds"][0]
    kinds.value = ["hbar", "vbar"]
    assert state.spec.task.option("kinds") == ("hbar", "vbar") and state.spec.output.activation == "tanh"  # two classes
    run.problem.value = "sequences"
    assert state.spec.task.dataset == "echo" and state.spec.layers[0].type == "gru"
    assert not data.noise.visible
    delay = [w for w in data._option_widgets if w.label == "Delay"][0]
    delay.value = 12
    assert state.spec.task.option("delay") == 12


def test_building_the_page_starts_one_run_and_no_reset():
    """The controls follow the starting spec without acting on it: the page's
    first run is its only one, so the engine's first summaries count."""
    state = make_state()
    view = NetworkView(state)
    RunControls(state, view)
    DataControls(state)
    assert view.run["tag"] == 1 and view.run["fresh_since"] == 0


def test_reset_draws_a_new_seed_unless_the_step_keeps_its_start():
    state = make_state()
    view = NetworkView(state)
    controls = RunControls(state, view)
    seeds = set()
    for _ in range(3):
        controls.reset.clicks += 1
        seeds.add(state.spec.training.seed)
        assert view.run["fresh_since"] == view.run["tag"]  # a fresh start of the new spec
    assert len(seeds) == 3 and None not in seeds
    state.set_by_lesson(state.spec, same_start=True)
    before = state.spec
    controls.reset.clicks += 1
    assert state.spec == before and view.run["fresh_since"] == view.run["tag"]
