"""Runs as data: one row per run with its parameters and recorded scalars, queried in SQL.

``pipeline.runs.to_dataframe(...)`` and ``Repository().runs_dataframe(...)`` end here; so do the
explorer's runs table and the rich display. pandas is imported only by ``to_dataframe``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from zenml_widgets import rendering
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.store import RunFilter, RunTableRecord, RunTableSchema
from zenml_widgets.store.run_table import BUILTIN_COLUMNS
from zenml_widgets.views._common import did_you_mean, listing
from zenml_widgets.views.run_filters import FilterSyntaxError, normalize_where

if TYPE_CHECKING:
    import pandas as pd

    from zenml_widgets.stack import Stack
    from zenml_widgets.views.metrics import RunCurves

_DATES = ("start", "end")


@dataclass(frozen=True)
class RunQuery:
    """Which runs to fetch as a table, and how: the one value every runs-as-data call takes.

    ``pipeline.runs.to_dataframe(...)``, ``pipeline.runs.table(...)``,
    ``Repository().runs_dataframe(...)`` and ``Repository().runs_table(...)`` accept a
    ``RunQuery`` as their first argument, its fields as keyword arguments, or both (keywords
    then change the query's fields). Filtering, sorting and limiting happen in SQL.

    Attributes:
        columns: the columns to return (``name`` is always there); default: all.
        where: conditions such as ``"trainer.epochs >= 5 and evaluator.output.accuracy >
            0.9"`` (see ``zenml_widgets.views.run_filters``), a ``(column, op, value)`` tuple,
            or a list of either. A run without the column does not match.
        status: keep runs with this status (or any of these).
        since, until: keep runs started at or after ``since`` and before ``until`` (datetimes,
            dates or ISO strings; naive ones are UTC).
        sort: the column to sort by (default ``start``); runs without it come last and ties
            keep start order.
        ascending, descending: the direction; default: descending (newest first, or the
            highest value first).
        limit, offset: a page of the result.
    """

    columns: Sequence[str] | None = None
    where: Any = None
    status: str | Sequence[str] | None = None
    since: Any = None
    until: Any = None
    sort: str | None = None
    ascending: bool | None = None
    descending: bool | None = None
    limit: int | None = None
    offset: int = 0

    @classmethod
    def of(
        cls, query: RunQuery | Sequence[str] | None = None, where: Any = None, /, **options: Any
    ) -> RunQuery:
        """The query of a call: a ``RunQuery`` (or the columns) first, ``where`` second, then
        any field as a keyword (which overrides the query's)."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise TypeError(
                f"Unknown runs-table option(s) {', '.join(map(repr, unknown))}; the options are "
                f"{', '.join(names)}."
            )
        for name, value in (("columns", query), ("where", where)):
            if value is not None and not isinstance(value, RunQuery):
                if name in options:
                    raise TypeError(f"{name} given twice, by position and as {name}=")
                options[name] = value
        if isinstance(options.get("columns"), str):
            options["columns"] = [options["columns"]]
        if isinstance(query, RunQuery):
            return replace(query, **options)
        return cls(**options)


@dataclass(frozen=True)
class CheckedQuery:
    """A :class:`RunQuery` checked against the columns that exist, as the store takes it."""

    columns: tuple[tuple[str, str], ...]
    value_types: dict[str, tuple[str, ...]]
    filters: tuple[RunFilter, ...]
    sort: str
    descending: bool
    limit: int | None
    offset: int


class RunsTable:
    """Runs of one pipeline (or several) as rows, as the store returned them (sorted, cut).

    ``columns`` are names (``name``, ``status``, ``trainer.epochs``,
    ``evaluator.output.accuracy``...); ``rows`` tuples of plain Python values; ``kinds`` say
    which columns are ``builtin``, ``param`` or ``metric``. Displays as an escaped HTML table.
    """

    def __init__(
        self, record: RunTableRecord, *, title: str, total: int | None = None, sort: str = "start",
        descending: bool = True, value_types: dict[str, tuple[str, ...]] | None = None,
        stack: Stack | None = None,
    ) -> None:  # fmt: skip
        self._record = record
        self._stack = stack
        self._rows: tuple[tuple[Any, ...], ...] | None = None
        self._value_types = value_types or {}
        self.title = title
        self.total = total
        #: Whether counting stopped at ``total`` (``table(count=N)``): at least that many match.
        self.total_is_lower_bound = record.total_is_lower_bound
        self.sort = sort
        self.descending = descending

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
            if name in _DATES:
                data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
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


# -- building queries ----------------------------------------------------------------------------


def _as_datetime(column: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"Column {column!r} compares with a date or time such as '2026-01-31' or "
                f"'2026-01-31T12:00:00+00:00'; got {value!r}"
            ) from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        return _as_datetime(column, value.to_pydatetime())
    raise TypeError(f"Column {column!r} compares with a date or time, not {value!r}")


class _Columns:
    """The columns a runs table can have, for checking names (a clear error otherwise)."""

    def __init__(self, table: RunTableSchema, label: str, multi: bool) -> None:
        known = table.columns
        self.kinds = {n: k for n, k, _ in known}
        self.types = {n: t for n, _, t in known}
        self.builtin = BUILTIN_COLUMNS if multi else BUILTIN_COLUMNS[1:]
        self.available = [*self.builtin, *(n for n, _, _ in known)]
        self.label = label

    def check(self, name: str, role: str) -> str:
        if name in self.builtin or name in self.kinds or name == "pipeline":
            return name
        raise NotFoundError(
            f"No column {name!r} ({role}) in the runs of {self.label}. Its columns are: "
            f"{listing(self.available, 40)}.{did_you_mean(name, self.available)} Parameters "
            "are '<step>.<parameter>', recorded outputs '<step>.<output>[.<key>]'."
        )


def check_query(query: RunQuery, table: RunTableSchema, *, label: str, multi: bool) -> CheckedQuery:
    """Check every name of ``query`` against the columns a table of runs has (``table``)."""
    known = _Columns(table, label, multi)
    if query.columns is None:
        chosen = list(known.available)
    else:
        names = [query.columns] if isinstance(query.columns, str) else list(query.columns)
        chosen = ["name"] + [known.check(c, "in columns=") for c in names if c != "name"]
        if multi and "pipeline" not in chosen:
            chosen.insert(0, "pipeline")
    sort = known.check(query.sort, "in sort=") if query.sort is not None else "start"
    if query.ascending is not None and query.ascending == query.descending:
        raise ValueError("ascending= and descending= contradict each other; give one of them")
    descending = (
        (not query.ascending) if query.ascending is not None else query.descending is not False
    )
    if query.limit is not None and query.limit < 0:
        raise ValueError(f"limit= must be 0 or more, got {query.limit}")
    if query.offset < 0:
        raise ValueError(f"offset= must be 0 or more, got {query.offset}")
    return CheckedQuery(
        columns=tuple((c, known.kinds.get(c, "builtin")) for c in chosen),
        value_types={c: known.types[c] for c in chosen if c in known.types},
        filters=_filters(query, known),
        sort=sort,
        descending=descending,
        limit=query.limit,
        offset=query.offset,
    )


def _filters(query: RunQuery, known: _Columns) -> tuple[RunFilter, ...]:
    filters: list[RunFilter] = []
    for column, op, value in normalize_where(query.where):
        known.check(column, "in where=")
        if column in _DATES:
            value = _as_datetime(column, value)
        if op == "in":
            raise ValueError("the 'in' operator is only for status=; write conditions with and")
        _check_comparable(column, known.types.get(column), value)
        filters.append(RunFilter(column, op, value))
    if query.status is not None:
        statuses = [query.status] if isinstance(query.status, str) else list(query.status)
        filters.append(RunFilter("status", "in", tuple(statuses)))
    if query.since is not None:
        filters.append(RunFilter("start", ">=", _as_datetime("start", query.since)))
    if query.until is not None:
        filters.append(RunFilter("start", "<", _as_datetime("start", query.until)))
    return tuple(filters)


def _check_comparable(column: str, recorded: tuple[str, ...] | None, value: Any) -> None:
    """A text value against a column that never held text (or a number against one that only
    held text) can match no run: say so instead of returning an empty table."""
    if recorded is None or value is None:
        return
    is_text = isinstance(value, str)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if (is_text and "str" not in recorded) or (is_number and set(recorded) == {"str"}):
        held = " and ".join(recorded)
        wanted = "a number" if is_text else "a quoted string"
        raise FilterSyntaxError(
            f"{column!r} holds {held} values, so comparing it with {value!r} matches no run; "
            f"compare it with {wanted}."
        )


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
        descending=q.descending,
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
        descending=q.descending,
        value_types=q.value_types,
        stack=stack,
    )
