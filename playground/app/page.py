"""The playground page. For now: a spec editor that checks a model as you
type and shows every layer's shapes — the live network view comes next."""
from __future__ import annotations

import panel as pn
import param

from playground.spec import Dense, Spec, SpecError, Task, describe_shape, plan_layers

TITLE = "Neural-network playground"

STARTER_SPEC = Spec(task=Task("xor"), layers=(Dense(4), Dense(2)))


class SpecChecker(pn.viewable.Viewer):
    """Edit a model spec (JSON) and see whether it is valid, and why not."""

    text = param.String(default=STARTER_SPEC.to_json(indent=2))

    def __panel__(self):
        editor = pn.widgets.TextAreaInput.from_param(
            self.param.text, name="Model spec (JSON)", height=460, sizing_mode="stretch_width")
        return pn.Row(editor, pn.panel(pn.bind(self.report, self.param.text), sizing_mode="stretch_width"),
                      sizing_mode="stretch_width")

    @staticmethod
    def report(text: str):
        try:
            spec = Spec.from_json(text)
        except SpecError as error:
            where = f" (at `{error.path}`)" if error.path else ""
            return pn.pane.Alert(f"**This spec cannot be used{where}.**\n\n{error}", alert_type="danger")
        rows = ["| layer | input | output | parameters |", "|---|---|---|---|"]
        for plan in plan_layers(spec):
            rows.append(f"| {plan.label} | {describe_shape(plan.input_shape)} | "
                        f"{describe_shape(plan.output_shape)} | {plan.parameter_count:,} |")
        total = sum(plan.parameter_count for plan in plan_layers(spec))
        return pn.Column(
            pn.pane.Alert(f"**Valid**: dataset *{spec.task.info.title}*, {total:,} parameters.",
                          alert_type="success"),
            pn.pane.Markdown("\n".join(rows)))


def create_page():
    intro = pn.pane.Markdown(
        f"# {TITLE}\n"
        "Build small feed-forward, convolutional and recurrent networks, train them and look inside. "
        "The live network view is on its way; meanwhile, describe a model as JSON and the playground "
        "checks it, layer by layer.")
    return pn.Column(intro, SpecChecker(), sizing_mode="stretch_width", margin=(10, 20))
