"""The controls around the network view: the run (play, step, reset) and
hyper-parameters across the top, the data on the left. Every widget edits
the spec through PlaygroundState, and follows the spec when it changes
from elsewhere (a link, a snapshot, a lesson)."""
from __future__ import annotations

import html

import panel as pn

from playground.spec import ACTIVATIONS, DATASETS, INITS, OPTIMIZERS, Dense, Spec
from playground.spec.edits import MAX_HIDDEN_LAYERS, PROBLEMS, problem_of

from .network_view import NetworkView
from .state import PlaygroundState

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATIONS = {"None": "none", "L1": "l1", "L2": "l2"}
TRAIN_IN = {"Automatic": "automatic", "This browser": "browser", "The server": "server"}


def _numbers(values, current) -> dict:
    """Options for a select of numbers, the spec's current value included."""
    return {f"{v:g}": v for v in sorted(set(values) | {current})}


class Synced(pn.viewable.Viewer):
    """Widgets that edit the spec and follow it; ``_syncing`` stops the echo.
    Each widget belongs to a lesson control (playground.lessons.CONTROLS):
    a lesson's lock disables it, hiding takes it off the page."""

    def __init__(self, state: PlaygroundState, **params):
        super().__init__(**params)
        self.state = state
        self._syncing = False
        self._controls: dict[str, list] = {}  # lesson control -> its widgets
        self._shown: dict[int, bool] = {}  # id(widget) -> shown apart from any lesson
        self._unusable: set[int] = set()  # widgets disabled for reasons of their own
        state.param.watch(lambda event: self._follow(event.new), "spec")
        state.param.watch(lambda event: self.apply_locks(), ["locked", "hidden"])

    def _follow(self, spec: Spec) -> None:
        self._syncing = True
        try:
            self.follow(spec)
        finally:
            self._syncing = False
        self.apply_locks()

    def control(self, name: str, *widgets) -> None:
        self._controls.setdefault(name, []).extend(widgets)

    def show(self, widget, shown: bool) -> None:
        """Whether a widget shows apart from lessons (a dataset without noise has no noise slider)."""
        self._shown[id(widget)] = shown
        widget.visible = shown and not any(
            widget in self._controls.get(name, ()) for name in self.state.hidden)

    def apply_locks(self) -> None:
        for name, widgets in self._controls.items():
            locked, hidden = name in self.state.locked, name in self.state.hidden
            for widget in widgets:
                widget.disabled = locked or hidden or id(widget) in self._unusable
                widget.visible = self._shown.get(id(widget), True) and not hidden

    def follow(self, spec: Spec) -> None:
        raise NotImplementedError

    def _on(self, widget, action):
        widget.param.watch(lambda event: None if self._syncing else action(event.new), "value")
        return widget


class RunControls(Synced):
    """Play/pause, step, reset and the training hyper-parameters."""

    def __init__(self, state: PlaygroundState, view: NetworkView, **params):
        super().__init__(state, **params)
        self.view = view
        # No hover tooltips on these buttons: Bokeh shows them over the next button.
        self.play = pn.widgets.Button(label="▶ Train", color="primary", width=110)
        self.play.on_click(lambda _: setattr(state, "playing", not state.playing))
        state.param.watch(lambda event: self._show_playing(event.new), "playing")
        self.step = pn.widgets.Button(label="Step", width=70)
        self.step.on_click(lambda _: (setattr(state, "playing", False), view.step()))
        self.reset = pn.widgets.Button(label="Reset", width=70)
        self.reset.on_click(lambda _: (setattr(state, "playing", False), state.reseed(), view.reset()))
        training = state.spec.training
        self.learning_rate = self._on(pn.widgets.Select(
            label="Learning rate", options=_numbers(LEARNING_RATES, training.learning_rate),
            value=training.learning_rate, width=110), lambda v: state.edit("set_training", learning_rate=v))
        self.optimizer = self._on(pn.widgets.Select(label="Optimizer", options=list(OPTIMIZERS), width=110),
                                  lambda v: state.edit("set_training", optimizer=v))
        self.activation = self._on(pn.widgets.Select(label="Activation (all layers)", width=150),
                                   lambda v: v != "mixed" and state.edit("set_activation", activation=v))
        self.regularization = self._on(pn.widgets.Select(label="Regularization", options=list(REGULARIZATIONS),
                                                         width=110), self._set_regularization)
        self.rate = self._on(pn.widgets.Select(label="Regularization rate", width=140),
                             lambda v: self._set_regularization(self.regularization.value))
        self.problem = self._on(pn.widgets.Select(label="Problem type", options=list(PROBLEMS), width=140),
                                lambda v: state.edit("set_problem", problem=v))
        self.init = self._on(pn.widgets.Select(label="Initialisation", options=list(INITS), width=110),
                             self._set_init)
        self.train_in = pn.widgets.Select(label="Train in", options=TRAIN_IN, value=state.train_in, width=130,
                                          disabled=not view.server_where)
        if not view.server_where:
            self._unusable.add(id(self.train_in))
        self.train_in.param.watch(lambda event: setattr(state, "train_in", event.new), "value")
        for name in ("learning_rate", "optimizer", "activation", "problem", "train_in", "init"):
            self.control(name, getattr(self, name))
        self.control("run", self.play, self.step, self.reset)
        self.control("regularization", self.regularization, self.rate)
        self.where = pn.pane.HTML(pn.bind(_where_text, view.param.route_reason, state.param.route_note),
                                  sizing_mode="stretch_width", margin=(0, 10))
        self._follow(state.spec)  # as a change of the spec would: the widgets' own watchers stay quiet

    def _set_init(self, init: str) -> None:
        """How the weights start only matters at the start: training starts again."""
        if init != self.state.spec.training.init and self.state.edit("set_training", init=init):
            self.state.playing = False
            self.view.reset()

    def _show_playing(self, playing: bool) -> None:
        self.play.label = "❚❚ Pause" if playing else "▶ Train"

    def _set_regularization(self, label: str) -> None:
        kind = REGULARIZATIONS.get(label, "none")
        rate = self.rate.value or 0.0
        self.state.edit("set_training", l1=rate if kind == "l1" else 0.0, l2=rate if kind == "l2" else 0.0)

    def follow(self, spec: Spec) -> None:
        training = spec.training
        self.learning_rate.options = _numbers(LEARNING_RATES, training.learning_rate)
        self.learning_rate.value = training.learning_rate
        self.optimizer.value = training.optimizer
        self.init.value = training.init
        activations = {layer.activation for layer in spec.layers if isinstance(layer, Dense)}
        self.activation.options = list(ACTIVATIONS) + (["mixed"] if len(activations) > 1 else [])
        self.activation.value = activations.pop() if len(activations) == 1 else (
            "mixed" if activations else "tanh")
        if training.l1 or training.l2:
            self.regularization.value = "L1" if training.l1 and not training.l2 else "L2"
        # At rate 0 the spec has no kind: keep the learner's choice, so that
        # choosing L2 and then a rate works.
        rate = training.l1 or training.l2
        self.rate.options = _numbers(REGULARIZATION_RATES, rate)
        self.rate.value = rate
        self.problem.value = problem_of(spec)

    def __panel__(self):
        return pn.Column(
            pn.Row(self.play, self.step, self.reset, self.learning_rate, self.optimizer, self.activation,
                   self.regularization, self.rate, self.init, self.problem, self.train_in, align="end",
                   styles={"flex-wrap": "wrap"}),
            self.where, margin=0, sizing_mode="stretch_width")


def _where_text(reason: str, refused: str) -> str:
    """Where the model trains and why; first, why the learner's choice was not followed."""
    note = f'<strong class="pg-route-refused">{html.escape(refused)}</strong> ' if refused else ""
    return f'<div class="pg-route" data-role="route" style="font-size:13px">{note}{html.escape(reason)}</div>'


class DataControls(Synced):
    """Which data, its own settings (from the catalogue), how much of it
    trains, how noisy, batches, new data."""

    def __init__(self, state: PlaygroundState, **params):
        super().__init__(state, **params)
        self.dataset = self._on(pn.widgets.Select(label="Dataset", width=190),
                                lambda v: state.edit("set_task", dataset=v))
        self.options = pn.Column(margin=0)  # the dataset's own settings, rebuilt for each dataset
        self._options_for = None
        self.ratio = self._on(pn.widgets.IntSlider(label="Training data (%)", start=10, end=90, step=10, width=190),
                              lambda v: state.edit("set_task", train_ratio=v / 100))
        self.noise = self._on(pn.widgets.IntSlider(label="Noise (%)", start=0, end=50, step=5, width=190),
                              lambda v: state.edit("set_task", noise=v / 100))
        self.batch = self._on(pn.widgets.IntSlider(label="Batch size", start=1, end=30, width=190),
                              lambda v: state.edit("set_training", batch_size=v))
        self.regenerate = pn.widgets.Button(label="Regenerate data", width=190)
        self.regenerate.on_click(lambda _: state.edit("set_task", seed=(state.spec.task.seed + 1) % 2**32))
        self.layers = pn.widgets.IntInput(label="Hidden layers", start=0, end=MAX_HIDDEN_LAYERS, width=190)
        self._on(self.layers, self._set_layer_count)
        self.message = pn.pane.Alert("", alert_type="warning", visible=False, width=190)
        state.param.watch(lambda event: self._show_message(event.new), "message")
        self.control("dataset", self.dataset)
        self.control("ratio", self.ratio)
        self.control("noise", self.noise)
        self.control("batch_size", self.batch)
        self.control("regenerate", self.regenerate)
        self.control("layers", self.layers)
        self._follow(state.spec)  # as a change of the spec would: the widgets' own watchers stay quiet

    def _set_layer_count(self, count: int) -> None:
        current = len(self.state.spec.layers)
        while count > current and self.state.edit("add_layer"):
            current += 1
        while count < current and self.state.edit("remove_layer"):
            current -= 1

    def _show_message(self, text: str) -> None:
        self.message.object = text
        self.message.visible = bool(text)

    def _set_option(self, name: str, value) -> None:
        options = dict(self.state.spec.task.options)
        options[name] = list(value) if isinstance(value, (list, tuple)) else value
        self.state.edit("set_task", options=options)

    def _option_widget(self, name: str, option):
        label = name.replace("_", " ").capitalize()
        if option.choices:
            widget = pn.widgets.MultiChoice(label=label, options=list(option.choices), width=190)
        else:
            widget = pn.widgets.IntSlider(label=label, start=option.low, end=option.high,
                                          step=2 if option.even else 1, width=190)
        self._option_widgets.append(widget)
        self.control("dataset", widget)
        self._on(widget, lambda v, name=name: self._set_option(name, v))
        help_text = pn.pane.HTML(f'<span style="font-size:12px;color:#5c636a">{option.help}</span>',
                                 width=190, margin=(-8, 10, 4, 10))
        return pn.Column(widget, help_text, margin=0)

    def follow(self, spec: Spec) -> None:
        info = spec.task.info
        problem = problem_of(spec)
        self.dataset.options = {DATASETS[name].title + (" — server" if DATASETS[name].server_only else ""): name
                                for name in PROBLEMS[problem]}
        self.dataset.value = spec.task.dataset
        if self._options_for != spec.task.dataset:  # another dataset, other settings
            self._options_for = spec.task.dataset
            self._option_widgets = []
            self._controls["dataset"] = [self.dataset]
            self.options.objects = [self._option_widget(name, option) for name, option in info.options.items()]
        for widget, name in zip(self._option_widgets, info.options):
            value = spec.task.option(name)
            widget.value = list(value) if isinstance(value, tuple) else value
        self.ratio.value = int(round(spec.task.train_ratio * 10)) * 10
        self.show(self.noise, info.uses_noise)
        self.noise.value = min(50, int(round(spec.task.noise * 20)) * 5)
        self.batch.end = 30 if info.kind == "points" else 128
        self.batch.value = min(self.batch.end, spec.training.batch_size)
        self.show(self.layers, info.kind == "points")  # CNN and RNN models are built in their own views
        self.layers.value = len(spec.layers)

    def __panel__(self):
        return pn.Column(pn.pane.Markdown("### Data"), self.dataset, self.options, self.ratio, self.noise,
                         self.batch, self.regenerate, self.layers, self.message, width=210)
