"""Runs as a table: filtering, sorting and limiting runs by their values in SQL.

A query runs in up to three ordered segments when it sorts by a run value (runs whose value is a
number, then runs whose value is text or NaN, then runs without the value), so each segment can
walk the ``(pipeline_id, name, num_value)`` index and stop at the limit instead of sorting every
run. The same statements run on SQLite and PostgreSQL (text sorts by bytes on both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zenml_widgets.store.liveness import gone, running_here, status_sql
from zenml_widgets.store.records import RunFilter, RunTableRecord, RunTableSchema, as_utc
from zenml_widgets.store.run_columns import BY_COLUMN_FROM, column_values, values_of
from zenml_widgets.store.sql import Dialect, Sql, join, placeholders

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection

#: The columns every run has, in table order (``pipeline`` only in tables of several pipelines).
BUILTIN_COLUMNS = ("pipeline", "name", "status", "start", "end", "duration")
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in")
_SQL_OPERATORS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


NO_ORDER = Sql("")


@dataclass(frozen=True)
class _Select:
    """The runs query: the status readers report (``liveness.status_sql``), its tables in the
    order they are walked, its conditions and its order.

    Tables are joined with ``CROSS JOIN`` and their join conditions are in ``where``: SQLite
    then walks them in the order given (a sort by a run value walks that value's index first
    and stops at the limit, rather than filtering every run and sorting them); PostgreSQL's
    planner orders them itself.
    """

    status: Sql
    tables: tuple[str, ...] = ("runs", "pipelines")
    where: tuple[Sql, ...] = (Sql("pipelines.id = runs.pipeline_id"),)
    order: Sql = NO_ORDER

    def sql(self) -> Sql:
        text = (
            "SELECT runs.id, pipelines.name, runs.name, "
            + self.status
            + " AS status, runs.start_time, runs.end_time FROM "
            + " CROSS JOIN ".join(self.tables)
            + " WHERE "
            + join(self.where, " AND ")
        )
        return text + (" ORDER BY " + self.order if self.order.text else "")

    def joined(self, table: str, *conditions: Sql, first: bool = False) -> _Select:
        tables = (table, *self.tables) if first else (*self.tables, table)
        return replace(self, tables=tables, where=(*self.where, *conditions))

    def filtered(self, sql: Sql) -> _Select:
        return replace(self, where=(*self.where, sql))


def _columns_sql(pipeline_ids: Sequence[int] | None) -> Sql:
    sql = Sql("SELECT DISTINCT name, kind, value_type FROM run_value_columns")
    if pipeline_ids is None:
        return sql
    return sql + " WHERE pipeline_id IN (" + placeholders(list(pipeline_ids) or [-1]) + ")"


def _columns(rows: Sequence[Sequence[Any]]) -> list[tuple[str, str, tuple[str, ...]]]:
    found: dict[str, tuple[str, set[str]]] = {}
    for name, kind, value_type in rows:
        found.setdefault(name, (kind, set()))[1].add(value_type)
    return sorted(
        ((n, k, tuple(sorted(t))) for n, (k, t) in found.items()),
        key=lambda c: (c[1] != "param", c[0]),
    )


def value_columns(
    conn: Connection, pipeline_ids: Sequence[int] | None
) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(name, kind, value types)`` of every run-value column of these pipelines (all: None).

    Parameters first, then metrics, each sorted by name; value types sorted.
    """
    return _columns(conn.rows("listing run-value columns", _columns_sql(pipeline_ids)))


def schema(conn: Connection, pipeline_ids: Sequence[int] | None) -> RunTableSchema:
    """The value columns of these pipelines' runs and their interrupted runs: one batch."""
    columns, running = conn.batch(
        "listing run-value columns", [_columns_sql(pipeline_ids), running_here(pipeline_ids)]
    )
    return RunTableSchema(tuple(_columns(columns[1])), gone(running[1]))


def _compare(column: Sql | str, op: str, value: Any) -> Sql:
    left = column if isinstance(column, Sql) else Sql(column)
    if op == "in":
        values = list(value)
        return left + " IN (" + placeholders(values) + ")" if values else Sql("1 = 0")
    if op not in _SQL_OPERATORS:
        raise ValueError(f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
    return left + Sql(f" {_SQL_OPERATORS[op]} ?", (value,))


def _builtin_condition(d: Dialect, f: RunFilter, status: Sql) -> Sql:
    if f.column in ("start", "end"):
        if not isinstance(f.value, datetime):
            raise TypeError(f"column {f.column!r} compares with a datetime, not {f.value!r}")
        return _compare(
            "runs.start_time" if f.column == "start" else "runs.end_time", f.op, f.value
        )
    if f.column == "duration":
        if isinstance(f.value, bool) or not isinstance(f.value, int | float):
            raise TypeError(f"column 'duration' compares with seconds (a number), not {f.value!r}")
        return _compare(d.seconds_between("runs.start_time", "runs.end_time"), f.op, f.value)
    is_list = f.op == "in" and all(isinstance(v, str) for v in f.value)
    if not isinstance(f.value, str) and not is_list:
        raise TypeError(f"column {f.column!r} compares with a string, not {f.value!r}")
    if f.column == "status":
        return _compare("(" + status + ")", f.op, f.value)
    text = {"pipeline": "pipelines.name", "name": "runs.name"}[f.column]
    return _compare(d.text_key(text), f.op, f.value)


def _value_condition(d: Dialect, alias: str, f: RunFilter) -> Sql:
    value = f.value
    if isinstance(value, bool):
        return _compare(f"{alias}.num_value", f.op, 1.0 if value else 0.0)
    if isinstance(value, int | float):
        return _compare(f"{alias}.num_value", f.op, value)
    if isinstance(value, str):
        return f"{alias}.value_type = 'str' AND " + _compare(
            d.text_key(f"{alias}.text_value"), f.op, value
        )
    raise TypeError(f"column {f.column!r} compares with a number, bool or string, not {value!r}")


def _base(
    d: Dialect,
    pipeline_ids: Sequence[int] | None,
    filters: Sequence[RunFilter],
    interrupted: Sequence[int],
) -> _Select:
    select = _Select(status_sql(interrupted))
    if pipeline_ids is not None:
        ids = list(pipeline_ids) or [-1]
        select = select.filtered("runs.pipeline_id IN (" + placeholders(ids) + ")")
    for i, f in enumerate(filters):
        if f.column in BUILTIN_COLUMNS:
            select = select.filtered(_builtin_condition(d, f, select.status))
            continue
        alias = f"v{i}"
        on = Sql(f"{alias}.run_id = runs.id AND {alias}.name = ?", (f.column,))
        if pipeline_ids is not None and len(pipeline_ids) == 1:  # lets it start from the index
            on = on + Sql(f" AND {alias}.pipeline_id = ?", (pipeline_ids[0],))
        select = select.joined(f"run_values {alias}", on, _value_condition(d, alias, f))
    return select


def _segments(
    d: Dialect, base: _Select, pipeline_ids: Sequence[int] | None, sort: str, descending: bool
) -> list[_Select]:
    direction = "DESC" if descending else "ASC"
    if sort in BUILTIN_COLUMNS:
        if sort == "start":
            return [replace(base, order=Sql(f"runs.id {direction}"))]  # id order: start order
        column = {
            "pipeline": Sql(d.text_key("pipelines.name")),
            "name": Sql(d.text_key("runs.name")),
            "status": "(" + base.status + ")" + d.collation,
            "end": Sql("runs.end_time"),
            "duration": Sql(d.seconds_between("runs.start_time", "runs.end_time")),
        }[sort]
        return [replace(base, order=column + f" {direction} NULLS LAST, runs.id ASC")]
    # The value's index is walked first: (pipeline_id, name, num_value) for one pipeline,
    # (name, num_value) for several, whose runs are then kept by the runs' own condition.
    on = Sql("vs.run_id = runs.id AND vs.name = ?", (sort,))
    if pipeline_ids is not None and len(pipeline_ids) == 1:
        on = on + Sql(" AND vs.pipeline_id = ?", (pipeline_ids[0],))
    joined = base.joined("run_values vs", on, first=True)
    numbers = replace(
        joined.filtered(Sql("vs.num_value IS NOT NULL")),
        order=Sql(f"vs.num_value {direction}, runs.id ASC"),
    )
    texts = replace(
        joined.filtered(Sql("vs.num_value IS NULL")),
        order=Sql(f"{d.text_key('vs.text_value')} {direction} NULLS LAST, runs.id ASC"),
    )
    missing = replace(
        base.filtered(
            Sql(
                "NOT EXISTS (SELECT 1 FROM run_values vm WHERE vm.run_id = runs.id "
                "AND vm.name = ?)",
                (sort,),
            )
        ),
        order=Sql("runs.id ASC"),
    )
    return [numbers, texts, missing]


@dataclass
class _Page:
    """Rows gathered across segments, and how many rows of the offset are still to skip."""

    limit: int | None
    skip: int
    rows: list[Any] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return self.limit is not None and len(self.rows) >= self.limit


def _fetch(conn: Connection, segments: list[_Select], limit: int | None, offset: int) -> list[Any]:
    page = _Page(limit, offset)
    for segment in segments:
        want = None if limit is None else limit - len(page.rows)
        sql = segment.sql() + conn.dialect.page(want, page.skip)
        found = conn.rows("querying the runs table", sql)
        page.rows.extend(found)
        if page.full:
            break
        if page.skip and found:
            page.skip = 0
        elif page.skip:  # the offset lies beyond this segment: skip its rows in the next ones
            total = conn.scalar(
                "counting the runs table",
                "SELECT count(*) FROM (" + replace(segment, order=NO_ORDER).sql() + ") counted",
            )
            page.skip = max(0, page.skip - int(total))
    return page.rows


def query(
    conn: Connection,
    pipeline_ids: Sequence[int] | None,
    *,
    columns: Sequence[tuple[str, str]],
    filters: Sequence[RunFilter],
    sort: str,
    descending: bool,
    limit: int | None,
    offset: int,
    table: RunTableSchema | None = None,
    count: bool | int = False,
) -> RunTableRecord:
    """Runs matching every filter, sorted and cut in SQL, with the chosen columns' values
    (and, with ``count``, how many runs match in all; ``count=N`` counts up to ``N`` only, so
    that a page of a million runs does not wait for all of them to be counted).

    ``columns`` are ``(name, kind)`` pairs, kind ``builtin``, ``param`` or ``metric``, checked
    by the caller against ``table`` (:func:`schema`; read here when not given). Ties keep start
    order; missing values sort last either way. A page (a few dozen runs) is one round trip:
    its runs, their values and the count are read together.
    """
    table = table if table is not None else schema(conn, pipeline_ids)
    base = _base(conn.dialect, pipeline_ids, filters, table.interrupted)
    segments = _segments(conn.dialect, base, pipeline_ids, sort, descending)
    wanted = [name for name, kind in columns if kind != "builtin"]
    page = segments[0].sql() + conn.dialect.page(limit, offset)
    together = [page]
    small = limit is not None and limit < BY_COLUMN_FROM and bool(wanted)
    if small:
        together.append(values_of("SELECT page.id FROM (" + page + ") page", wanted))
    cap = None if count is True or not count else int(count)
    if count:
        counted = replace(base, status=Sql("runs.status"))  # counting needs no status
        limited = Sql("") if cap is None else Sql(" LIMIT ?", (cap + 1,))
        together.append("SELECT count(*) FROM (" + counted.sql() + limited + ") counted")
    results = conn.batch("querying the runs table", together)
    found, read = results[0][1], results[1][1] if small else None
    if len(segments) > 1 and (limit is None or len(found) < limit):
        found, read = _fetch(conn, segments, limit, offset), None  # the first did not fill it
    total = int(results[-1][1][0][0]) if count else None
    every_run = not filters and limit is None and not offset and len(pipeline_ids or ()) == 1
    record = _record(conn, found, columns, table, pipeline_ids, read, total, every_run)
    if cap is not None and total is not None and total > cap:
        return replace(record, total=cap, total_is_lower_bound=True)
    return record


def _record(
    conn: Connection,
    found: Sequence[Any],
    columns: Sequence[tuple[str, str]],
    table: RunTableSchema,
    pipeline_ids: Sequence[int] | None,
    read: Sequence[Any] | None,
    total: int | None,
    every_run: bool,
) -> RunTableRecord:
    run_ids = [r[0] for r in found]
    starts = [as_utc(r[4]) for r in found]
    ends = [as_utc(r[5]) for r in found]
    builtin: dict[str, list[Any]] = {
        "pipeline": [r[1] for r in found],
        "name": [r[2] for r in found],
        "status": [r[3] for r in found],
        "start": starts,
        "end": ends,
        "duration": [_seconds(s, e) for s, e in zip(starts, ends, strict=True)],
    }
    wanted = [name for name, kind in columns if kind != "builtin"]
    types = {n: t for n, _, t in table.columns}
    values = column_values(
        conn, run_ids, wanted, types, pipeline_ids, read=read, every_run=every_run
    )
    data = [builtin[n] if k == "builtin" else values[n] for n, k in columns]
    return RunTableRecord(
        columns=tuple(n for n, _ in columns),
        kinds=tuple(k for _, k in columns),
        data=tuple(data),
        run_ids=tuple(run_ids),
        total=total,
    )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()
