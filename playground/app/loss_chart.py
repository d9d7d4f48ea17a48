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
        self.figure.legend.location = "top_right"
        self.figure.xaxis.formatter = NumeralTickFormatter(format="0a")  # 1k, 2k: fits a narrow chart
        self.figure.xaxis.ticker.desired_num_ticks = 4
        self.last_step = -1
        state.param.watch(lambda event: self.add(event.new), "summary")

    def add(self, summary: dict) -> None:
        step = summary.get("step")
        if not isinstance(step, int):
            return
        if step < self.last_step:  # a reset or a loaded snapshot: start the chart again
            self._replace({"step": [], "train": [], "test": []})
        elif step == self.last_step:
            return
        self.last_step = step
        train, test = summary.get("train_loss"), summary.get("test_loss")
        nan = float("nan")  # a diverged loss leaves a gap
        point = {"step": [step], "train": [nan if train is None else train], "test": [nan if test is None else test]}
        document = self.source.document
        if document is None:  # not shown yet (or no server): no lock to take
            self.source.stream(point, rollover=KEEP)
        else:  # summaries arrive outside the document's lock; Bokeh holds it on the next tick
            document.add_next_tick_callback(lambda: self.source.stream(point, rollover=KEEP))

    def _replace(self, data: dict) -> None:
        document = self.source.document
        if document is None:
            self.source.data = data
        else:
            document.add_next_tick_callback(lambda: setattr(self.source, "data", data))

    def __panel__(self):
        return pn.pane.Bokeh(self.figure)
