"""The playground page: controls, the live network view, the loss chart,
and the model as JSON for those who want to read or paste it."""
from __future__ import annotations

from dataclasses import dataclass

import panel as pn
import param

from playground.lessons import LESSON_START, LESSONS_DIR
from playground.spec import Spec, SpecError, describe_shape, plan_layers
from playground.spec.sharing import QUERY_KEY, spec_from_link

from .classroom_link import ClassroomLink
from .controls import DataControls, RunControls
from .lesson_runner import LessonRunner
from .loss_chart import LossChart
from .network_view import NetworkView
from .state import PlaygroundState

TITLE = "Neural-network playground"

#: The first thing a learner sees: the classic playground's circle.
STARTER_SPEC = LESSON_START  # the lessons start from it too


@dataclass(frozen=True)
class PageConfig:
    """Where the browser finds what it needs, relative to the page."""

    assets_url: str = "assets/"
    pyodide_url: str = "pyodide/"
    bundle_url: str = "engine.zip"
    boot_timeout: float = 60.0
    lessons_dir: str = str(LESSONS_DIR)


class SpecEditor(pn.viewable.Viewer):
    """The model as JSON: read it, or paste one and apply it."""

    text = param.String()

    def __init__(self, state: PlaygroundState, **params):
        super().__init__(**params)
        self.state = state
        self.text = state.spec.to_json(indent=2)
        state.param.watch(lambda event: setattr(self, "text", event.new.to_json(indent=2)), "spec")
        self.apply = pn.widgets.Button(label="Apply", color="primary", width=90)
        self.apply.on_click(lambda _: self.apply_text())
        self.feedback = pn.Column()

    def apply_text(self) -> None:
        try:
            spec = Spec.from_json(self.text)
        except SpecError:
            self.feedback.objects = [self.report(self.text)]
            return
        if not self.state.replace_spec(spec.with_weights(None)):
            self.feedback.objects = [pn.pane.Alert(self.state.message, alert_type="warning")]
            return
        self.feedback.objects = [self.report(self.text)]

    @staticmethod
    def report(text: str):
        try:
            spec = Spec.from_json(text)
        except SpecError as error:
            where = f" (at `{error.path}`)" if error.path else ""
            return pn.pane.Alert(f"**This spec cannot be used{where}.**\n\n{error}", alert_type="danger")
        rows = ["| layer | input | output | parameters |", "|---|---|---|---|"]
        plans = plan_layers(spec)
        for plan in plans:
            rows.append(f"| {plan.label} | {describe_shape(plan.input_shape)} | "
                        f"{describe_shape(plan.output_shape)} | {plan.parameter_count:,} |")
        total = sum(plan.parameter_count for plan in plans)
        return pn.Column(
            pn.pane.Alert(f"**Valid**: dataset *{spec.task.info.title}*, {total:,} parameters.",
                          alert_type="success"),
            pn.pane.Markdown("\n".join(rows)))

    def __panel__(self):
        editor = pn.widgets.TextAreaInput.from_param(self.param.text, label="Model spec (JSON)", height=320,
                                                     sizing_mode="stretch_width")
        return pn.Card(editor, self.apply, self.feedback, title="Model as JSON", collapsed=True,
                       sizing_mode="stretch_width")


def initial_spec() -> tuple[Spec, str]:
    """The spec in the page's link, or the starter; a damaged link says so."""
    args = pn.state.session_args or {}
    code = (args.get(QUERY_KEY) or [b""])[0]
    if not code:
        return STARTER_SPEC, ""
    try:
        return spec_from_link(code.decode("ascii", "replace")), ""
    except SpecError as error:
        return STARTER_SPEC, f"{error} The page started from the default model instead."


def create_page(config: PageConfig = PageConfig(), trainer=None, classroom=None):
    """The page of one learner; ``trainer`` trains models too big for the
    browser (see server_training.py), None when this playground has none;
    ``classroom`` hosts classes (see classroom_link.py), None without."""
    pn.extension("mathjax")  # the lessons' formulas; Bokeh serves MathJax itself, no CDN
    spec, problem = initial_spec()
    state = PlaygroundState(spec=spec, message=problem)
    benchmark = (pn.state.session_args or {}).get("bench") == [b"1"]  # see server/browser_bench.py
    faults = (pn.state.session_args or {}).get("faults") == [b"1"]  # see tests/browser/test_engine_faults.py
    view = NetworkView(state, trainer=trainer, assets_url=config.assets_url, pyodide_url=config.pyodide_url,
                       bundle_url=config.bundle_url, boot_timeout=config.boot_timeout, benchmark=benchmark,
                       fault_hooks=faults, hang_timeout=5.0 if faults else 20.0, sizing_mode="stretch_width")
    intro = pn.pane.Markdown(
        f"## {TITLE}\n"
        "Build a network, press **Train** and watch it learn: every square is a neuron, showing its output "
        "over the input plane. **Orange means negative, blue positive** — in every map, edge and point.",
        margin=(0, 10))
    wanted = (pn.state.session_args or {}).get("lesson") or [b""]
    lessons = LessonRunner(state, view, config.lessons_dir, start_lesson=wanted[0].decode("ascii", "replace"))
    if classroom is not None:
        request = pn.state.curdoc.session_context.request if pn.state.curdoc and pn.state.curdoc.session_context \
            else None
        link = ClassroomLink(classroom, state, view, lessons, address=getattr(request, "remote_ip", None))
        lessons.above.append(pn.panel(link))
    return pn.Column(
        intro,
        RunControls(state, view),
        pn.Row(pn.Column(DataControls(state), LossChart(state), width=215),
               pn.Column(view, SpecEditor(state), sizing_mode="stretch_width"), lessons,
               sizing_mode="stretch_width"),
        sizing_mode="stretch_width", margin=(5, 10))
