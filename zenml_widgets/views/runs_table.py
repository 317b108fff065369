"""Runs as data: one row per run with its parameters and recorded scalars, queried in SQL.

``pipeline.runs.to_dataframe(...)`` and ``Repository().runs_dataframe(...)`` end here; so do the
explorer's runs table and the rich display. pandas is imported only by ``to_dataframe``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zenml_widgets import rendering
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.store import RunSort, RunTableRecord
from zenml_widgets.views._common import did_you_mean, listing
from zenml_widgets.views.run_query import DATES, CheckedQuery, RunQuery, check_query

__all__ = ["CheckedQuery", "RunQuery", "RunsChart", "RunsTable", "check_query", "run_table"]

if TYPE_CHECKING:
    import pandas as pd

    from zenml_widgets.stack import Stack
    from zenml_widgets.views.metrics import RunCurves


class RunsTable:
    """Runs of one pipeline (or several) as rows, as the store returned them (sorted, cut).

    ``columns`` are names (``name``, ``status``, ``trainer.epochs``,
    ``evaluator.output.accuracy``...); ``rows`` tuples of plain Python values; ``kinds`` say
    which columns are ``builtin``, ``param`` or ``metric``. Displays as an escaped HTML table.
    """

    def __init__(
        self, record: RunTableRecord, *, title: str, total: int | None = None,
        sort: str | Sequence[RunSort] = "start", descending: bool = True,
        value_types: dict[str, tuple[str, ...]] | None = None, stack: Stack | None = None,
    ) -> None:  # fmt: skip
        self._record = record
        self._stack = stack
        self._rows: tuple[tuple[Any, ...], ...] | None = None
        self._value_types = value_types or {}
        self.title = title
        self.total = total
        #: Whether counting stopped at ``total`` (``table(count=N)``): at least that many match.
        self.total_is_lower_bound = record.total_is_lower_bound
        keys = [RunSort(sort, descending)] if isinstance(sort, str) else list(sort)
        #: ``(column, descending)`` of every sort key, in order.
        self.sort_keys: tuple[tuple[str, bool], ...] = tuple(
            (k.column, k.descending) for k in keys
        ) or (("start", True),)
        #: The first sort column and its direction.
        self.sort, self.descending = self.sort_keys[0]

    def __repr__(self) -> str:
        return f"<RunsTable {self.title}: {len(self)} runs x {len(self.columns)} columns>"

    def __len__(self) -> int:
        return len(self._record.run_ids)

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in order."""
        return self._record.columns

    @property
    def kinds(self) -> tuple[str, ...]:
        """``builtin``, ``param`` or ``metric`` for each column."""
        return self._record.kinds

    @property
    def rows(self) -> tuple[tuple[Any, ...], ...]:
        """One tuple per run, values in column order (``None`` where a run has no value)."""
        rows = self._rows
        if rows is None:
            rows = self._rows = self._record.rows
        return rows

    @property
    def run_ids(self) -> tuple[int, ...]:
        """The store ids of the runs, row by row."""
        return self._record.run_ids

    def column(self, name: str) -> list[Any]:
        """The values of one column, row by row."""
        try:
            i = self.columns.index(name)
        except ValueError:
            raise NotFoundError(
                f"No column {name!r} in this runs table. Its columns are: "
                f"{listing(list(self.columns), 30)}.{did_you_mean(name, self.columns)}"
            ) from None
        return list(self._record.data[i]) if self._record.data else []

    def to_dataframe(self) -> pd.DataFrame:
        """A pandas DataFrame: one row per run, numbers as numbers (mixed int/float: float)."""
        import pandas as pd

        data: dict[str, Any] = {}
        for i, (name, kind) in enumerate(zip(self.columns, self.kinds, strict=True)):
            values = self._record.data[i]
            if name in DATES:
                data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
            elif name == "run_id":
                data[name] = pd.Series(values, dtype="int64")
            elif name == "duration":
                data[name] = pd.Series(values, dtype="float64")
            elif kind == "builtin":
                data[name] = pd.Series(values, dtype=object)
            else:
                data[name] = _typed_series(pd, values, self._value_types.get(name))
        return pd.DataFrame(data, columns=list(self.columns))

    def chart(self, metric: str) -> RunsChart:
        """An offline SVG line of ``metric`` over these runs in start order."""
        self.column(metric)
        return RunsChart(self, y=metric)

    def scatter(self, x: str, y: str) -> RunsChart:
        """An offline SVG scatter of column ``x`` (e.g. a parameter) against column ``y``."""
        self.column(x)
        self.column(y)
        return RunsChart(self, y=y, x=x)

    def curves(self, column: str, runs: Sequence[str] | None = None) -> RunCurves:
        """Logged metric ``column`` (``trainer.metrics.loss``) of these runs overlaid: the
        first 20 rows, or the runs named in ``runs`` (at most 20); displays as inline SVG with
        the run names in the legend and on hover."""
        from zenml_widgets.views.metrics import MAX_RUNS, RunCurves

        self._check_curve(column)
        assert self._stack is not None
        if runs is None:
            return RunCurves(self._stack, column, run_ids=self.run_ids[:MAX_RUNS])
        names = list(runs)
        if len(names) > MAX_RUNS:
            raise ValueError(f"An overlay draws at most {MAX_RUNS} runs, not {len(names)}.")
        ids = dict(zip(self.column("name"), self.run_ids, strict=True))
        missing = [n for n in names if n not in ids]
        if missing:
            raise NotFoundError(
                f"No run {missing[0]!r} in this runs table. Its runs are: "
                f"{listing([str(n) for n in ids], 20)}.{did_you_mean(missing[0], map(str, ids))}"
            )
        return RunCurves(self._stack, column, run_ids=[ids[n] for n in names])

    def metric_histories(self, column: str) -> dict[str, pd.Series]:
        """Every point of logged metric ``column`` in each run of the table that logged it:
        run name -> a Series indexed by step, in table order (one query)."""
        from zenml_widgets.views.metrics import histories

        self._check_curve(column)
        assert self._stack is not None
        names = dict(zip(self.run_ids, map(str, self.column("name")), strict=True))
        return histories(self._stack, column, names)

    def _check_curve(self, column: str) -> None:
        if self._stack is None:
            raise ValueError("This runs table was not read from a store; it has no curves.")
        kinds = dict(zip(self.columns, self.kinds, strict=True))
        if kinds.get(column) != "curve":
            logged = [c for c, k in kinds.items() if k == "curve"]
            raise NotFoundError(
                f"{column!r} is not a logged metric of this runs table (columns "
                "'<step>.metrics.<name>', from log_metric). Its logged metrics are: "
                f"{listing(logged, 30)}.{did_you_mean(column, logged)}"
            )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return rendering.mimebundle(self, "runs_table", include, exclude)


class RunsChart:
    """A metric over runs (``x=None``) or a scatter of two columns, drawn as inline SVG."""

    def __init__(self, table: RunsTable, *, y: str, x: str | None = None) -> None:
        self.table = table
        self.y = y
        self.x = x

    def __repr__(self) -> str:
        what = f"{self.y} over runs" if self.x is None else f"{self.y} against {self.x}"
        return f"<RunsChart {what}: {len(self.points())} points>"

    def points(self) -> list[tuple[float, float, str]]:
        """``(x, y, run name)`` of every run with numbers for both; runs in start order."""
        names = self.table.column("name")
        ys = self.table.column(self.y)
        order = sorted(range(len(names)), key=lambda i: self.table.run_ids[i])
        out = []
        for position, i in enumerate(order):
            y = _number(ys[i])
            x = float(position) if self.x is None else _number(self.table.column(self.x)[i])
            if x is not None and y is not None:
                out.append((x, y, str(names[i])))
        return out

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return rendering.mimebundle(self, "runs_chart", include, exclude)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _typed_series(pd: Any, values: list[Any], types: tuple[str, ...] | None) -> Any:
    """A column typed by every value type the column ever recorded (not only these rows), so a
    filtered table has the same dtypes as the full one: only ints -> ``Int64``, ints and floats
    -> ``float64``, only bools -> ``boolean``, anything with strings -> ``object``."""
    if types is None:  # not from the store: type by the values at hand
        present = [v for v in values if v is not None]
        seen = {"bool" if isinstance(v, bool) else type(v).__name__ for v in present}
        types = tuple(sorted(seen))
    kinds = set(types)
    if kinds == {"bool"}:
        return pd.Series(pd.array(values, dtype="boolean"))
    if kinds == {"int"}:
        present = [v for v in values if v is not None]
        if not present or (min(present) >= -(2**63) and max(present) < 2**63):
            return pd.Series(pd.array(values, dtype="Int64"))
        return pd.Series(values, dtype=object)
    if kinds and kinds <= {"int", "float"}:
        import numpy as np

        return pd.Series(np.array(values, dtype="float64"))  # None -> NaN, ints -> floats
    return pd.Series(values, dtype=object)


def run_table(
    stack: Stack,
    pipeline_ids: list[int] | None,
    query: RunQuery,
    *,
    title: str,
    multi: bool,
    count: bool | int = False,
) -> RunsTable:
    """Check the query, run it in the store, wrap the rows (``count``: also the total).

    Two round trips: what the table can show (its columns), then the page with its values
    and count."""
    store = stack.metadata_store
    table = store.run_table_schema(pipeline_ids)
    q = check_query(query, table, label=title, multi=multi)
    record = store.query_run_table(
        pipeline_ids,
        columns=q.columns,
        filters=q.filters,
        sort=q.sort,
        limit=q.limit,
        offset=q.offset,
        table=table,
        count=count,
    )
    return RunsTable(
        record,
        title=title,
        total=record.total,
        sort=q.sort,
        value_types=q.value_types,
        stack=stack,
    )
