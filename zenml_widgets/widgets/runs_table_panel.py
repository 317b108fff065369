"""The explorer's runs table: every run of the selected pipeline with its parameters and metrics.

Sorted, filtered and paged in SQL (``pipeline.runs.table``), newest first by default. Column
headers are buttons (click to sort, again to reverse); a run's name is a button that selects
that run in the explorer. Below, an SVG chart of a chosen metric over runs or against a
parameter (hover a point for its run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from zenml_widgets.display.html import STYLE, esc, status_badge
from zenml_widgets.display.runs_table import chart_svg, format_value
from zenml_widgets.views.runs_table import RunsTable
from zenml_widgets.widgets.panel import close_all

if TYPE_CHECKING:
    from zenml_widgets.views import PipelineView
    from zenml_widgets.widgets.state import ExplorerState

PAGE_SIZE = 15
#: A filtered count stops past this many runs (then "10,000+").
COUNT_UP_TO = 10_000
MAX_VALUE_COLUMNS = 12
CHART_RUNS = 500
OVER_RUNS = "(runs, oldest to newest)"
_FIRST = ("name", "status", "start", "duration")


class RunsTablePanel:
    """Runs of one pipeline as a sortable, filterable, paged table and a chart.

    Args:
        on_pick: called with a run name when its row is clicked.
        page_size: rows per page.
    """

    def __init__(self, on_pick: Callable[[str], None], page_size: int = PAGE_SIZE) -> None:
        self._on_pick = on_pick
        self.page_size = page_size
        self.toggle = w.ToggleButton(
            value=False, description="Runs table", icon="table", layout=w.Layout(width="auto")
        )
        self.toggle.add_class("zw-runs-table-toggle")
        self.where = w.Text(
            placeholder="filter: trainer.epochs >= 5 and evaluator.output.accuracy > 0.9",
            continuous_update=False,
            layout=w.Layout(width="min(100%, 560px)"),
        )
        self.where.add_class("zw-runs-table-filter")
        self.older = w.Button(description="Older >", layout=w.Layout(width="auto"))
        self.newer = w.Button(description="< Newer", layout=w.Layout(width="auto"))
        self.page_label = w.HTML()
        self.message = w.HTML()
        self.grid = w.GridBox(layout=w.Layout(overflow="auto", grid_gap="0px 6px"))
        self.grid.add_class("zw-runs-table-grid")
        self.metric = w.Dropdown(description="chart", style={"description_width": "48px"})
        self.x_axis = w.Dropdown(description="against", style={"description_width": "56px"})
        self.chart = w.HTML()
        self.chart.add_class("zw-runs-chart-box")
        self.content = w.VBox(
            [
                w.HBox([self.where, self.newer, self.older, self.page_label]),
                self.message,
                self.grid,
                w.HBox([self.metric, self.x_axis]),
                self.chart,
            ],
            layout=w.Layout(display="none"),
        )
        self.box = w.VBox([self.toggle, self.content], layout=w.Layout(display="none"))
        self.box.add_class("zw-runs-table")
        self.pipeline: PipelineView | None = None
        self.sort = "start"
        self.descending = True
        self.offset = 0
        self.table: RunsTable | None = None
        self._stale = True
        self._generation = 0
        self.toggle.observe(self._on_toggle_change, "value")
        self.where.observe(self._on_where_change, "value")
        self.older.on_click(lambda _: self.page(+1))
        self.newer.on_click(lambda _: self.page(-1))
        self.metric.observe(self._on_chart_change, "value")
        self.x_axis.observe(self._on_chart_change, "value")

    # -- driving it ------------------------------------------------------------------------------

    @property
    def widget(self) -> w.VBox:
        """The panel's box."""
        return self.box

    def show(self, state: ExplorerState) -> None:
        """Show the runs of the selected pipeline (queried when the table is open; again after
        a refresh)."""
        if state.generation != self._generation:
            self._generation = state.generation
            self._stale = True
        pipeline = state.pipeline
        if pipeline != self.pipeline:
            self.pipeline = pipeline
            self.sort, self.descending, self.offset = "start", True, 0
            with self._quiet_where():
                self.where.value = ""
            self._stale = True
        self.box.layout.display = "none" if pipeline is None else ""
        if self.toggle.value:
            self.reload()

    def close(self) -> None:
        """Close the panel's widgets."""
        close_all(self.box)

    def sort_by(self, column: str) -> None:
        """Sort by ``column``; the same column again reverses the order."""
        if column == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = column, True
        self.offset = 0
        self._stale = True
        self.reload()

    def page(self, step: int) -> None:
        """One page older (+1) or newer (-1)."""
        self.offset = max(0, self.offset + step * self.page_size)
        self._stale = True
        self.reload()

    def reload(self) -> None:
        """Query the page and redraw the table and chart (only when something changed)."""
        self.content.layout.display = "" if self.toggle.value else "none"
        if self.pipeline is None or not self._stale or not self.toggle.value:
            return
        self._stale = False
        try:
            table = self.pipeline.runs.table(
                where=self.where.value or None,
                sort=self.sort,
                descending=self.descending,
                limit=self.page_size,
                offset=self.offset,
                # counting a million runs takes longer than the page: count past the page only
                count=max(COUNT_UP_TO, self.offset + 2 * self.page_size),
            )
        except (KeyError, ValueError, TypeError) as e:
            self.message.value = f"<div style='color:#b00'>⚠ {esc(e)}</div>"
            return
        self.message.value = ""
        self.table = table
        self._draw(table)
        self._chart_options(table)
        self._draw_chart()

    # -- drawing -----------------------------------------------------------------------------------

    def _columns(self, table: RunsTable) -> list[str]:
        values = [c for c, k in zip(table.columns, table.kinds, strict=True) if k != "builtin"]
        shown = [c for c in _FIRST if c in table.columns] + values[:MAX_VALUE_COLUMNS]
        if self.sort not in shown:
            shown.append(self.sort)
        return shown

    def _draw(self, table: RunsTable) -> None:
        shown = self._columns(table)
        cells: list[w.Widget] = []
        for column in shown:
            arrow = (" ▼" if self.descending else " ▲") if column == self.sort else ""
            header = w.Button(
                description=column + arrow,
                tooltip=f"sort by {column}",
                layout=w.Layout(width="auto"),
            )
            header.add_class("zw-runs-table-sort")
            header.on_click(lambda _, c=column: self.sort_by(c))
            cells.append(header)
        index = {c: i for i, c in enumerate(table.columns)}
        for row in table.rows:
            for column in shown:
                value = row[index[column]]
                if column == "name":
                    button = w.Button(
                        description=str(value),
                        tooltip=f"select run {value}",
                        layout=w.Layout(width="auto"),
                    )
                    button.add_class("zw-runs-table-run")
                    button.on_click(lambda _, n=str(value): self._on_pick(n))
                    cells.append(button)
                elif column == "status" and isinstance(value, str):
                    cells.append(w.HTML(STYLE + f"<div class='zw'>{status_badge(value)}</div>"))
                else:
                    cells.append(w.HTML(esc(format_value(column, value))))
        self.grid.layout.grid_template_columns = f"repeat({len(shown)}, max-content)"
        self.grid.children = cells
        total = table.total or 0
        first = self.offset + 1 if table.rows else 0
        counted = f"{total:,}+" if table.total_is_lower_bound else f"{total}"
        self.page_label.value = (
            f"<span class='zw-runs-table-page'>{first}-{self.offset + len(table)} of {counted} "
            f"runs</span>"
        )
        self.newer.disabled = self.offset == 0
        self.older.disabled = self.offset + len(table) >= total

    def _chart_options(self, table: RunsTable) -> None:
        numeric = [
            c
            for c, k in zip(table.columns, table.kinds, strict=True)
            if k != "builtin" and any(_is_number(v) for v in table.column(c))
        ]
        numeric.append("duration")
        metrics = [c for c in numeric if c in table.columns]
        current = self.metric.value if self.metric.value in metrics else None
        if current is None:
            kinds = dict(zip(table.columns, table.kinds, strict=True))
            current = next((c for c in metrics if kinds.get(c) == "metric"), metrics[0])
        with self._quiet_chart():
            self.metric.options = metrics
            self.metric.value = current
            xs = [OVER_RUNS, *[c for c in metrics if c != current]]
            self.x_axis.options = xs
            self.x_axis.value = self.x_axis.value if self.x_axis.value in xs else OVER_RUNS

    def _draw_chart(self) -> None:
        if self.pipeline is None or not self.metric.value:
            self.chart.value = ""
            return
        x = None if self.x_axis.value in (None, OVER_RUNS) else str(self.x_axis.value)
        columns = [str(self.metric.value)] + ([x] if x else [])
        try:
            table = self.pipeline.runs.table(
                columns=columns, where=self.where.value or None, limit=CHART_RUNS
            )
        except (KeyError, ValueError, TypeError) as e:
            self.chart.value = f"<div style='color:#b00'>⚠ {esc(e)}</div>"
            return
        chart = table.chart(columns[0]) if x is None else table.scatter(x, columns[0])
        note = f" (newest {CHART_RUNS})" if len(table) == CHART_RUNS else ""
        self.chart.value = f"{chart_svg(chart)}<div style='color:#777'>{esc(note)}</div>"

    # -- reactions -------------------------------------------------------------------------------

    def _on_toggle_change(self, change: Any) -> None:
        self.reload()

    def _on_where_change(self, change: Any) -> None:
        if getattr(self, "_where_quiet", False):
            return
        self.offset = 0
        self._stale = True
        self.reload()

    def _on_chart_change(self, change: Any) -> None:
        if not getattr(self, "_chart_quiet", False):
            self._draw_chart()

    def _quiet_where(self) -> _Quiet:
        return _Quiet(self, "_where_quiet")

    def _quiet_chart(self) -> _Quiet:
        return _Quiet(self, "_chart_quiet")


class _Quiet:
    def __init__(self, owner: object, flag: str) -> None:
        self.owner, self.flag = owner, flag

    def __enter__(self) -> None:
        setattr(self.owner, self.flag, True)

    def __exit__(self, *exc: object) -> None:
        setattr(self.owner, self.flag, False)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
