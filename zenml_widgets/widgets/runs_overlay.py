"""The runs table's overlay of learning curves: one logged metric of several runs in one chart.

Below the runs grid of the explorer's runs table. It offers the table's logged metrics
(``<step>.metrics.<name>`` columns) and draws the chosen one for the runs in view in the grid or
the runs marked there with Ctrl/Cmd/Shift-click (``RunsGrid.visible`` / ``RunsGrid.marked``), at
most 20, with their names in the legend and on hover. Each change of those runs reads their
curves once (one query, about 500 points a curve) and draws them with
:func:`zenml_widgets.display.curves.run_curves_html`, a pure function of what was read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as w

from zenml_widgets.display.curves import run_curves_html
from zenml_widgets.views.metrics import MAX_RUNS
from zenml_widgets.visualizers.html import muted_html
from zenml_widgets.widgets.panel import close_all

if TYPE_CHECKING:
    from zenml_widgets.views import PipelineView
    from zenml_widgets.views.metrics import RunCurves
    from zenml_widgets.views.runs_table import RunsTable
    from zenml_widgets.widgets.runs_grid import RunsGrid

IN_VIEW = "runs in view"
MARKED = "marked runs"


class RunsOverlay:
    """One logged metric of the runs in view (or the marked ones) overlaid as curves.

    Args:
        grid: the runs grid whose runs in view and marked runs it draws.
    """

    def __init__(self, grid: RunsGrid) -> None:
        self.grid = grid
        self.pipeline: PipelineView | None = None
        self.metric = w.Dropdown(description="curves", style={"description_width": "48px"})
        self.runs = w.ToggleButtons(options=[IN_VIEW, MARKED], value=IN_VIEW)
        self.runs.add_class("zw-overlay-runs")
        self.log_scale = w.ToggleButton(value=False, description="log scale")
        self.chart = w.HTML()
        self.chart.add_class("zw-runs-curves")
        self.box = w.VBox(
            [w.HBox([self.metric, self.runs, self.log_scale]), self.chart],
            layout=w.Layout(display="none"),
        )
        self.box.add_class("zw-runs-overlay")
        #: What the last read returned.
        self.curves: RunCurves | None = None
        self._names: list[str] = []
        self._offering = False
        for control in (self.metric, self.runs):
            control.observe(self._on_choice_change, names="value")
        self.log_scale.observe(self._on_log_scale_change, names="value")
        grid.observe(self._on_grid_runs_change, names=["visible", "marked"])

    def offer(self, table: RunsTable) -> None:
        """Offer the logged metrics of ``table`` (hidden when it has none)."""
        logged = [c for c, k in zip(table.columns, table.kinds, strict=True) if k == "curve"]
        self.box.layout.display = "" if logged else "none"
        keep = self.metric.value if self.metric.value in logged else None
        self._offering = True  # one read below, not one per control set here
        try:
            self.metric.options = logged
            self.metric.value = keep or (logged[0] if logged else None)
        finally:
            self._offering = False
        self.draw(read=True)

    def names(self) -> list[str]:
        """The runs to draw: those in view or those marked, at most 20."""
        chosen = self.grid.marked if self.runs.value == MARKED else self.grid.visible
        return list(chosen)[:MAX_RUNS]

    def draw(self, *, read: bool = False) -> None:
        """Draw the chosen metric of the chosen runs; ``read``: read their curves first (also
        done when those runs changed)."""
        column, names = self.metric.value, self.names()
        if self.pipeline is None or not column or not names:
            self.curves, self._names = None, []
            hint = "Mark runs with Ctrl/Cmd/Shift-click." if self.runs.value == MARKED else ""
            self.chart.value = muted_html(f"No runs to draw. {hint}".strip()) if column else ""
            return
        stale = self.curves is None or self.curves.column != column or names != self._names
        if read or stale:
            self.curves, self._names = self.pipeline.runs.curves(column, names), names
        assert self.curves is not None
        self.chart.value = run_curves_html(self.curves, log_scale=self.log_scale.value)

    def close(self) -> None:
        """Close the overlay's widgets."""
        close_all(self.box)

    def _on_choice_change(self, change: Any) -> None:
        if not self._offering:
            self.draw()

    def _on_grid_runs_change(self, change: Any) -> None:
        if self.box.layout.display != "none":
            self.draw()

    def _on_log_scale_change(self, change: Any) -> None:
        self.draw()
