"""The explorer's Logs panel: the selected step's log tail (a ``Panel``, ``panel.py``).

The lines are read from the artifact store, never the metadata store: a running step's are
polled where the last read stopped (the explorer's live refresh shows each tick's new lines),
an ended step's are read once per selection. A cached step ran nothing: its logs are those of
the step that produced its outputs, read when "Show logs" is clicked (finding that step costs
round trips that a click through the cascade should not pay). See
``zenml_widgets.display.log_html`` for how lines become HTML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as w

from zenml_widgets.display.log_html import joined, log_html
from zenml_widgets.visualizers.html import MUTED, esc
from zenml_widgets.widgets.panel import close_all

if TYPE_CHECKING:
    from zenml_widgets.artifacts.step_logs import LogLine, LogReader
    from zenml_widgets.views import StepView
    from zenml_widgets.widgets.state import ExplorerState

#: How many of the last lines the panel shows until "Show all" is clicked.
TAIL = 200


class LogsPanel:
    """The selected step's logs: the last ``TAIL`` lines, streams coloured, ANSI colours
    rendered (or stripped, ``ansi=False``), and a button to show them all."""

    def __init__(self, *, tail: int = TAIL, ansi: bool = True) -> None:
        self.tail = tail
        self.ansi = ansi
        self.title = w.HTML()
        self.more = w.Button(description="Show all", layout=w.Layout(width="auto"))
        self.view = w.HTML()
        self.box = w.VBox(
            [w.HBox([self.title, self.more]), self.view], layout=w.Layout(display="none")
        )
        self.box.add_class("zw-logs-panel")
        self.more.on_click(lambda _: self._show_all())
        self.lines: list[LogLine] = []
        self.showing_all = False
        self._ident: tuple[int, str] | None = None  # the step shown
        self._ended: str | None = None  # its status once it ended and all was read
        self._reader: LogReader | None = None
        self._step: StepView | None = None

    @property
    def widget(self) -> w.VBox:
        """The panel's box."""
        return self.box

    def show(self, state: ExplorerState) -> None:
        """Show the selected step's log tail (the lines written since the last look are
        read; nothing is read again for a step that ended and was shown already)."""
        step = state.step
        self._step = step
        if step is None:
            self._ident, self._reader, self.lines = None, None, []
            self.box.layout.display = "none"
            return
        self.box.layout.display = ""
        status = step.status
        ident = (step.id, step.stack_key)
        if ident != self._ident:  # another step: from its first line
            self._ident, self._ended = ident, None
            self.showing_all = False
            self.lines, self._reader = [], None
            if status == "cached":
                self._ended = status
                self._render(cached=True)
                return
        elif self._ended == status:
            return  # it ended, and its lines are all shown
        self._read(step)
        self._ended = status if status not in ("pending", "running") else None
        self._render()

    def close(self) -> None:
        """Close the panel's widgets."""
        close_all(self.box)

    def _read(self, step: StepView) -> None:
        if self._reader is None:
            self._reader = step.attempt_logs().reader()
        self.lines += self._reader.poll()

    def _show_all(self) -> None:
        step = self._step
        if step is not None and step.status == "cached" and not self.lines:
            self.lines = step.attempt_logs().lines()
        self.showing_all = True
        self._render()

    def _render(self, cached: bool = False) -> None:
        lines = joined(self.lines)
        shown = lines if self.showing_all else lines[-self.tail :]
        step = esc(self._step.name) if self._step is not None else ""
        if cached and not self.showing_all:
            note = "cached: its logs are those of the run that produced its outputs"
            self.title.value = f"<b>Logs</b> of <code>{step}</code> {_muted(note)}"
            self.more.description, self.more.layout.display = "Show logs", ""
            self.view.value = ""
            return
        hidden = len(lines) - len(shown)
        count = f"last {len(shown):,} of {len(lines):,}" if hidden else f"{len(lines):,}"
        self.title.value = f"<b>Logs</b> of <code>{step}</code> {_muted(count + ' lines')}"
        self.more.description = "Show all"
        self.more.layout.display = "" if hidden else "none"
        empty = _muted("nothing printed or logged yet")
        self.view.value = log_html(shown, ansi=self.ansi) if shown else empty


def _muted(text: str) -> str:
    return f"<span style='color:{MUTED}'>({esc(text)})</span>"
