"""``RunsGrid``: runs as rows, scrolled virtually, fetched from the kernel a page at a time.

An anywidget widget (``static/grid.js``, ``static/grid.css``, shipped in the package: nothing
from the network, the same in JupyterLab, Notebook 7, VS Code and Colab). The page holds only the
rows in view. When it needs rows it sends ``{"type": "fetch", "offset", "limit"}``; the grid
answers with ``{"type": "rows", "offset", "rows"}`` from its ``source`` (the runs table panel
queries the store through the views, in SQL, sorted and filtered there). A header click sends
``{"type": "sort", "column", "descending"}``, a row click ``{"type": "select", "name"}``; both go to
the callables the grid was given. Every message carries the grid's ``generation``: rows of an
older query are dropped, while a click on one still counts (it names a run or a column).
Cells are plain text (the page sets them as text, never as HTML).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anywidget
from traitlets import Bool, Dict, Int, List, Unicode

from zenml_widgets.visualizers.html import STATUS_COLOURS

__all__ = ["Column", "RunsGrid"]

STATIC = Path(__file__).parent / "static"
#: A row as the page gets it: the run's name, then one text per column.
Row = list[str]
Column = dict[str, Any]  # {"name": str, "numeric": bool, "width": int}


class RunsGrid(anywidget.AnyWidget):
    """A virtual grid of runs.

    Args:
        source: ``source(offset, limit)`` -> the rows at these positions of the current query.
        on_sort: called with ``(column, descending)`` when a header is clicked.
        on_select: called with a run's name when its row is clicked.
        **kwargs: passed to ``anywidget.AnyWidget``.
    """

    _esm = (STATIC / "grid.js").read_text(encoding="utf-8")
    _css = (STATIC / "grid.css").read_text(encoding="utf-8")

    columns = List(Dict(), help="The columns: name, numeric, width (px).").tag(sync=True)
    total = Int(0, help="How many rows the current query has.").tag(sync=True)
    sort = Unicode("start", help="The column the rows are sorted by.").tag(sync=True)
    descending = Bool(True, help="Whether the sort is descending.").tag(sync=True)
    selected = Unicode(None, allow_none=True, help="The selected run (highlighted).").tag(sync=True)
    generation = Int(0, help="Bumped with every new query: the page drops its rows.").tag(sync=True)
    error = Unicode("", help="Why the query failed ('' if it did not); no rows then.").tag(
        sync=True
    )
    rows_shown = Int(10, help="How many rows the grid shows at a time.").tag(sync=True)
    page_size = Int(100, help="How many rows one fetch asks for.").tag(sync=True)
    status_colours = Dict(
        dict(STATUS_COLOURS), help="The badge colour of each status (white text on it)."
    ).tag(sync=True)

    def __init__(
        self,
        source: Callable[[int, int], Sequence[Row]],
        on_sort: Callable[[str, bool], None],
        on_select: Callable[[str], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._source = source
        self._on_sort = on_sort
        self._on_select = on_select
        self.on_msg(self._on_message)

    def rows(self, offset: int, limit: int) -> list[Row]:
        """The rows at ``offset`` (at most ``limit``) of the current query, as the page gets
        them."""
        if self.error or offset >= self.total:
            return []
        return [list(row) for row in self._source(offset, limit)]

    def restart(self, *, total: int, error: str = "", first: Sequence[Row] = ()) -> None:
        """A new query: ``total`` rows (none when ``error``); ``first``: its first rows, sent
        right away so that the page need not ask for them."""
        with self.hold_sync():
            self.error = error
            self.total = 0 if error else total
            self.generation += 1
        if first and not error:
            self._send_rows(0, [list(row) for row in first])

    def _send_rows(self, offset: int, rows: list[Row]) -> None:
        message = {"type": "rows", "offset": offset, "rows": rows, "generation": self.generation}
        self.send(message)

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "fetch" and content.get("generation") != self.generation:
            return  # rows asked for by a query since replaced; a click still counts
        try:
            self._handle(content)
        except Exception as e:  # shown in the grid, not raised into the kernel's log
            self.restart(total=0, error=f"{type(e).__name__}: {e}")

    def _handle(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind == "fetch":
            offset, limit = int(content.get("offset", 0)), int(content.get("limit", 0))
            self._send_rows(offset, self.rows(offset, max(0, min(limit, 1000))))
        elif kind == "sort" and isinstance(content.get("column"), str):
            self._on_sort(content["column"], bool(content.get("descending", True)))
        elif kind == "select" and isinstance(content.get("name"), str):
            self._on_select(content["name"])
