"""Training and test loss over the run, fed by the engine's summaries
(about five a second). Lines are grey and black: orange and blue mean
negative and positive values everywhere else on the page."""
from __future__ import annotations

import panel as pn
from bokeh.models import ColumnDataSource, NumeralTickFormatter
from bokeh.plotting import figure

from .state import PlaygroundState

KEEP = 5000  # points kept per line


class LossChart(pn.viewable.Viewer):
    def __init__(self, state: PlaygroundState, **params):
        super().__init__(**params)
        self.source = ColumnDataSource({"step": [], "train": [], "test": []})
        self.figure = figure(height=190, width=220, toolbar_location=None, x_axis_label="step",
                             title="Loss", min_border_left=30)
        self.figure.line("step", "train", source=self.source, color="#868e96", line_width=2,
                         legend_label="training")
        self.figure.line("step", "test", source=self.source, color="#212529", line_width=2,
                         legend_label="test")
        # The legend above the plot, not over the lines it names.
        legend = self.figure.legend[0]
        legend.orientation, legend.location, legend.label_text_font_size = "horizontal", "top_left", "11px"
        legend.margin, legend.padding, legend.spacing, legend.border_line_alpha = 0, 2, 8, 0
        self.figure.add_layout(legend, "above")
        self.figure.xaxis.formatter = NumeralTickFormatter(format="0a")  # 1k, 2k: fits a narrow chart
        self.figure.xaxis.ticker.desired_num_ticks = 4
        self.last_step, self.last_losses = -1, None
        state.param.watch(lambda event: self.add(event.new), "summary")
        state.param.watch(lambda event: self.restore(event.new), "resumed_curve")

    def add(self, summary: dict) -> None:
        step = summary.get("step")
        if not isinstance(step, int):
            return
        train, test = summary.get("train_loss"), summary.get("test_loss")
        nan = float("nan")  # a diverged loss leaves a gap
        train, test = nan if train is None else train, nan if test is None else test
        if step < self.last_step:  # a reset or a loaded snapshot: start the chart again
            self._replace({"step": [], "train": [], "test": []})
        elif step == self.last_step:  # the same step with other losses (a weight typed in): the point moves
            if (train, test) != self.last_losses:
                self.last_losses = (train, test)
                self._now(lambda: self._move_last_point(step, train, test))
            return
        self.last_step, self.last_losses = step, (train, test)
        point = {"step": [step], "train": [train], "test": [test]}
        self._now(lambda: self.source.stream(point, rollover=KEEP))

    def _move_last_point(self, step: int, train: float, test: float) -> None:
        steps = self.source.data["step"]
        if len(steps) and steps[-1] == step:
            last = len(steps) - 1
            self.source.patch({"train": [(last, train)], "test": [(last, test)]})

    def restore(self, points: list[dict]) -> None:
        """The curve of a run the page resumed: it goes on from its last point."""
        nan = float("nan")
        self.last_step = points[-1]["step"] if points else -1
        self._replace({"step": [point["step"] for point in points],
                       "train": [nan if point["train"] is None else point["train"] for point in points],
                       "test": [nan if point["test"] is None else point["test"] for point in points]})

    def _replace(self, data: dict) -> None:
        self._now(lambda: setattr(self.source, "data", data))

    def _now(self, change) -> None:
        """Change the chart's data: at once when it is not shown yet (no lock
        to take), else on the document's next tick, since summaries arrive
        outside its lock."""
        document = self.source.document
        if document is None:
            change()
        else:
            document.add_next_tick_callback(change)

    def __panel__(self):
        return pn.pane.Bokeh(self.figure)
