"""The explorer's learning curves: the selected step's logged metrics, below its preview.

A ``Panel`` (``panel.py``). Each time a step is shown it reads the step's curves once (one round
trip: its metrics and about 500 points of each) and draws them with
:func:`zenml_widgets.display.curves.step_curves_html`, a pure function of what was read; the
"log scale" switch redraws what was read, without reading again. A refresh calls
:meth:`CurvesPanel.show` again: a running step's fresh points are read and redrawn (its curve
grows); a finished step's curves, read since it finished, cannot change and are not read again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as w

from zenml_widgets.display.curves import step_curves_html
from zenml_widgets.widgets.panel import close_all

#: The statuses of a step that may still log points.
OPEN = ("pending", "running")

if TYPE_CHECKING:
    from zenml_widgets.views.metrics import StepCurves
    from zenml_widgets.widgets.state import ExplorerState


class CurvesPanel:
    """The selected step's learning curves, with a log-scale switch; hidden when the selection
    is not a step, or the step logged no metrics."""

    def __init__(self) -> None:
        self.log_scale = w.ToggleButton(
            value=False, description="log scale", icon="line-chart", layout=w.Layout(width="auto")
        )
        self.log_scale.add_class("zw-curves-log")
        self.title = w.HTML("<b>Metrics</b>")
        self.chart = w.HTML()
        self.chart.add_class("zw-curves-box")
        self.box = w.VBox(
            [w.HBox([self.title, self.log_scale]), self.chart], layout=w.Layout(display="none")
        )
        self.box.add_class("zw-curves-panel")
        #: What the last read returned (``None``: no step shown).
        self.curves: StepCurves | None = None
        self._step_id: int | None = None  # the step whose curves were read last
        self.log_scale.observe(self._on_log_scale_change, names="value")

    @property
    def widget(self) -> w.VBox:
        """The panel's box."""
        return self.box

    def show(self, state: ExplorerState) -> None:
        """Read and draw the selected step's curves (when the selection is a step)."""
        step = state.step
        if step is None or state.current is not step:
            self.curves, self._step_id = None, None
        elif not self._final(step.id):
            self.curves, self._step_id = step.curves(), step.id
        self.draw()

    def _final(self, step_id: int) -> bool:
        """Whether the curves read last are this step's, read once it had finished."""
        read = self.curves
        return read is not None and self._step_id == step_id and read.status not in OPEN

    def draw(self) -> None:
        """Draw what was read last, on the chosen scale."""
        curves = self.curves
        if curves is None or not curves.series:
            self.box.layout.display = "none"
            self.chart.value = ""
            return
        self.box.layout.display = ""
        self.chart.value = step_curves_html(curves, log_scale=self.log_scale.value)

    def close(self) -> None:
        """Close the panel's widgets."""
        close_all(self.box)

    def _on_log_scale_change(self, change: Any) -> None:
        self.draw()
