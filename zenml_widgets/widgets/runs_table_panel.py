"""The explorer's runs table: every run of the selected pipeline with its parameters and metrics.

A :class:`~zenml_widgets.widgets.runs_grid.RunsGrid`: sorted and filtered in SQL
(``pipeline.runs.table``), newest first by default, scrolled virtually and fetched a page at a
time, so 100k runs are as quick as 10. Headers sort (again: reversed), a row selects its run in
the explorer, the name column stays in view when scrolled sideways. A filter the store refuses
clears the rows and says why. Below, an SVG chart of a chosen metric over runs or against a
parameter (hover a point for its run); it starts on a metric whose values vary. When the runs
logged metrics (``log_metric``), one of them can be overlaid as curves: of the runs in view, or
of the runs marked with Ctrl/Cmd/Shift-click, up to 20, their names in the legend and on hover.

What a sort costs: one page query (the count of a filter is kept, the chart is not redrawn).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from zenml_widgets.display.runs_table import chart_svg, format_value
from zenml_widgets.visualizers.html import MUTED, error_html, esc
from zenml_widgets.widgets.panel import close_all
from zenml_widgets.widgets.runs_grid import Column, Row, RunsGrid
from zenml_widgets.widgets.runs_overlay import RunsOverlay

if TYPE_CHECKING:
    from zenml_widgets.views import PipelineView
    from zenml_widgets.views.runs_table import RunsTable
    from zenml_widgets.widgets.state import ExplorerState

PAGE_SIZE = 100  # rows per fetch
ROWS_SHOWN = 10
MAX_VALUE_COLUMNS = 30
CHART_RUNS = 500
OVER_RUNS = "(runs, oldest to newest)"
_FIRST = ("name", "status", "start", "duration")
_WIDTHS = {"status": 96, "start": 200, "duration": 84}


class RunsTablePanel:
    """Runs of one pipeline as a sortable, filterable, virtually scrolled grid and a chart.

    Args:
        on_pick: called with a run name when its row is clicked.
        page_size: rows per fetch from the store.
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
        self.message = w.HTML()
        self.grid = RunsGrid(
            self.rows, self._sorted, self._picked, page_size=page_size, rows_shown=ROWS_SHOWN
        )
        self.grid.add_class("zw-runs-table-grid")
        self.metric = w.Dropdown(description="chart", style={"description_width": "48px"})
        self.x_axis = w.Dropdown(description="against", style={"description_width": "56px"})
        self.chart = w.HTML()
        self.chart.add_class("zw-runs-chart-box")
        self.overlay = RunsOverlay(self.grid)
        self.content = w.VBox(
            [
                self.where, self.message, self.grid, w.HBox([self.metric, self.x_axis]),
                self.chart, self.overlay.box,
            ],
            layout=w.Layout(display="none"),
        )  # fmt: skip
        self.box = w.VBox([self.toggle, self.content], layout=w.Layout(display="none"))
        self.box.add_class("zw-runs-table")
        self.pipeline: PipelineView | None = None
        self.sort = "start"
        self.descending = True
        self.table: RunsTable | None = None  # the first page of the current query
        self.shown: list[str] = []  # the columns of the grid
        self._counts: dict[str, int] = {}  # by filter, for this pipeline and generation
        self._chart_table: RunsTable | None = None
        self._chart_key: tuple[Any, ...] | None = None
        self._stale = True
        self._generation = 0
        self._quiet = False
        self.toggle.observe(self._on_toggle_change, "value")
        self.where.observe(self._on_where_change, "value")
        self.metric.observe(self._on_chart_change, "value")
        self.x_axis.observe(self._on_chart_change, "value")

    # -- driving it ------------------------------------------------------------------------------

    @property
    def widget(self) -> w.VBox:
        """The panel's box."""
        return self.box

    def show(self, state: ExplorerState) -> None:
        """Show the runs of the selected pipeline (queried when the table is open; again after
        a refresh) with the selected run highlighted."""
        if state.generation != self._generation or state.pipeline != self.pipeline:
            self._generation = state.generation
            self._forget()
        if state.pipeline != self.pipeline:
            self.pipeline = state.pipeline
            self.overlay.pipeline = state.pipeline
            self.grid.marked = []
            self.sort, self.descending, self.shown = "start", True, []
            with self._quietly():
                self.where.value = ""
        self.grid.selected = state.run_name
        self.box.layout.display = "none" if self.pipeline is None else ""
        if self.toggle.value:
            self.reload()

    def close(self) -> None:
        """Close the panel's widgets."""
        close_all(self.box)

    def sort_by(self, column: str, descending: bool | None = None) -> None:
        """Sort by ``column``; the same column again reverses the order."""
        if descending is None:
            descending = not self.descending if column == self.sort else True
        self.sort, self.descending = column, descending
        self._stale = True
        self.reload()

    def reload(self) -> None:
        """Query the first page and restart the grid (only when something changed); the count
        and the chart only when the filter or the pipeline changed."""
        self.content.layout.display = "" if self.toggle.value else "none"
        if self.pipeline is None or not self._stale or not self.toggle.value:
            return
        self._stale = False
        where = self.where.value.strip()
        try:
            table = self._query(offset=0, limit=self.page_size, count=where not in self._counts)
        except (KeyError, ValueError, TypeError) as e:
            self._refused(e)
            return
        if table.total is not None:
            self._counts[where] = table.total
        self.message.value = ""
        self.table = table
        self._show_columns(table)
        self.grid.restart(total=self._counts[where], first=self._rows(table))
        key = (self.pipeline, where, self._generation)
        if key != self._chart_key:
            self._chart_key = key
            self._chart_options(table)
            self._draw_chart()
            self.overlay.offer(table)

    def rows(self, offset: int, limit: int) -> list[Row]:
        """The grid's rows at ``offset`` (at most ``limit``) of the current query."""
        if self.pipeline is None:
            return []
        return self._rows(self._query(offset=offset, limit=limit, columns=self.shown))

    # -- queries ---------------------------------------------------------------------------------

    def _query(
        self, *, offset: int, limit: int, count: bool = False, columns: Sequence[str] | None = None
    ) -> RunsTable:
        assert self.pipeline is not None
        return self.pipeline.runs.table(
            columns=list(columns) if columns else None,
            where=self.where.value.strip() or None,
            sort=self.sort,
            descending=self.descending,
            limit=limit,
            offset=offset,
            count=count,
        )

    def _refused(self, error: Exception) -> None:
        """A filter (or sort) the store refuses: no rows, no chart, and why."""
        self.message.value = error_html(f"⚠ {error}")
        self.table = None
        self._chart_key = None
        self.grid.restart(total=0, error=str(error))
        self.chart.value = ""

    def _forget(self) -> None:
        self._stale = True
        self._counts = {}
        self._chart_key = None
        self._chart_table = None

    # -- the grid --------------------------------------------------------------------------------

    def _show_columns(self, table: RunsTable) -> None:
        values = [c for c, k in zip(table.columns, table.kinds, strict=True) if k != "builtin"]
        if not self.shown:
            self.shown = [c for c in _FIRST if c in table.columns] + values[:MAX_VALUE_COLUMNS]
        if self.sort not in self.shown:
            self.shown.append(self.sort)
        with self.grid.hold_sync():
            self.grid.columns = self._column_specs(table)
            self.grid.sort, self.grid.descending = self.sort, self.descending

    def _column_specs(self, table: RunsTable) -> list[Column]:
        rows = self._rows(table)
        specs = []
        for i, name in enumerate(self.shown):
            texts = [r[i + 1] for r in rows[:50]]
            numeric = name == "duration" or (
                name in table.columns and any(_is_number(v) for v in table.column(name)[:50])
            )
            longest = max([len(name) + 2, *map(len, texts)])
            width = _WIDTHS.get(name, max(72, min(260, 16 + 7 * longest)))
            specs.append({"name": name, "numeric": numeric, "width": width})
        return specs

    def _rows(self, table: RunsTable) -> list[Row]:
        index = {c: i for i, c in enumerate(table.columns)}
        return [
            [str(row[index["name"]])]
            + [format_value(c, row[index[c]]) if c in index else "" for c in self.shown]
            for row in table.rows
        ]

    def _sorted(self, column: str, descending: bool) -> None:
        self.sort_by(column, descending)

    def _picked(self, name: str) -> None:
        self.grid.selected = name
        self._on_pick(name)

    # -- the chart -------------------------------------------------------------------------------

    def _chart_options(self, table: RunsTable) -> None:
        """The metrics that can be charted; the default one varies over the runs charted."""
        kinds = dict(zip(table.columns, table.kinds, strict=True))
        numeric = [
            c
            for c, k in kinds.items()
            if k != "builtin" and any(_is_number(v) for v in table.column(c))
        ]
        metrics = [*numeric, "duration"]
        self._chart_table = self._chart_query(metrics)
        current = self.metric.value if self.metric.value in metrics else None
        if current is None:
            by_kind = sorted(metrics, key=lambda c: kinds.get(c) != "metric")  # metrics first
            current = next((c for c in by_kind if self._varies(c)), by_kind[0])
        with self._quietly():
            self.metric.options = metrics
            self.metric.value = current
            xs = [OVER_RUNS, *[c for c in metrics if c != current]]
            self.x_axis.options = xs
            self.x_axis.value = self.x_axis.value if self.x_axis.value in xs else OVER_RUNS

    def _chart_query(self, columns: list[str]) -> RunsTable | None:
        assert self.pipeline is not None
        where = self.where.value.strip() or None
        try:
            return self.pipeline.runs.table(columns=columns, where=where, limit=CHART_RUNS)
        except (KeyError, ValueError, TypeError):
            return None

    def _varies(self, column: str) -> bool:
        table = self._chart_table
        if table is None or column not in table.columns:
            return False
        return len({v for v in table.column(column) if _is_number(v)}) > 1

    def _draw_chart(self) -> None:
        table = self._chart_table
        if self.pipeline is None or not self.metric.value or table is None:
            self.chart.value = ""
            return
        x = None if self.x_axis.value in (None, OVER_RUNS) else str(self.x_axis.value)
        y = str(self.metric.value)
        chart = table.chart(y) if x is None else table.scatter(x, y)
        note = f" (newest {CHART_RUNS})" if len(table) == CHART_RUNS else ""
        self.chart.value = f"{chart_svg(chart)}<div style='color:{MUTED}'>{esc(note)}</div>"

    # -- reactions -------------------------------------------------------------------------------

    def _on_toggle_change(self, change: Any) -> None:
        self.reload()

    def _on_where_change(self, change: Any) -> None:
        if not self._quiet:
            self._stale = True
            self.reload()

    def _on_chart_change(self, change: Any) -> None:
        if not self._quiet:
            self._draw_chart()

    def _quietly(self) -> _Quiet:
        return _Quiet(self)


class _Quiet:
    """While the panel writes its own widgets, their change events are not reactions."""

    def __init__(self, owner: RunsTablePanel) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        self.owner._quiet = True

    def __exit__(self, *exc: object) -> None:
        self.owner._quiet = False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
