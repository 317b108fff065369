"""Runs as a table: filtering, sorting and limiting runs by their values in SQL.

A query runs in up to three ordered segments when it sorts by a run value (runs whose value is a
number, then runs whose value is text, then runs without the value or with NaN, as pandas'
``na_position="last"``), so each segment can
walk the ``(pipeline_id, name, num_value)`` index and stop at the limit instead of sorting every
run. The same statements run on SQLite and PostgreSQL (text sorts by bytes on both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zenml_widgets.store import run_conditions as rc
from zenml_widgets.store.liveness import gone, running_here, status_sql
from zenml_widgets.store.records import (
    RunFilter,
    RunFilterGroup,
    RunSort,
    RunTableRecord,
    RunTableSchema,
    as_utc,
)
from zenml_widgets.store.run_columns import BY_COLUMN_FROM, column_values, values_of
from zenml_widgets.store.run_conditions import BUILTIN_COLUMNS
from zenml_widgets.store.run_tags import (
    TAG_PREFIX,
    tag_column_names,
    tag_columns_sql,
    tag_values,
    tags_of,
)
from zenml_widgets.store.sql import Dialect, Sql, join, placeholders

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection

__all__ = ["BUILTIN_COLUMNS", "query", "schema", "value_columns"]

NO_ORDER = Sql("")
Filter = RunFilter | RunFilterGroup


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
    outer: tuple[Sql, ...] = ()  # LEFT JOINs of secondary sort keys
    front: int = 0  # leading tables that stay first (a condition few runs hold)

    def sql(self) -> Sql:
        text = (
            "SELECT runs.id, pipelines.name, runs.name, "
            + self.status
            + " AS status, runs.start_time, runs.end_time FROM "
            + " CROSS JOIN ".join(self.tables)
            + join(("", *self.outer), " ")
            + " WHERE "
            + join(self.where, " AND ")
        )
        return text + (" ORDER BY " + self.order if self.order.text else "")

    def joined(
        self, table: str, *conditions: Sql, first: bool = False, lead: bool = False
    ) -> _Select:
        """With ``table`` walked last, or first (after the ``lead`` tables; ``lead``: before
        everything, and kept there).

        A filter's table (a run value, a tag) is walked last: each run the sort's walk reaches
        is checked by the table's primary key, and the walk stops at the limit. A tag or value
        condition few runs hold leads instead (:data:`FEW_TAGGED`): walking a common tag's
        runs first would sort all of them (``tags.stage == 'prod'``, a quarter of 55,000 runs:
        650 ms against 20 ms), walking the sort for a rare one would visit every run (3 s at
        100,000)."""
        at = 0 if lead else self.front if first else len(self.tables)
        tables = (*self.tables[:at], table, *self.tables[at:])
        front = self.front + 1 if lead else self.front
        return replace(self, tables=tables, where=(*self.where, *conditions), front=front)

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
    """The value and tag columns of these pipelines' runs and their interrupted runs: one
    batch. Tag columns (``tags.<key>``, kind ``tag``) come after the run values."""
    columns, tags, running = conn.batch(
        "listing run-value columns",
        [_columns_sql(pipeline_ids), tag_columns_sql(pipeline_ids), running_here(pipeline_ids)],
    )
    found = _columns(columns[1])
    taken = {name for name, _, _ in found}
    found += [(name, "tag", ("str",)) for name in tag_column_names(tags[1]) if name not in taken]
    return RunTableSchema(tuple(found), gone(running[1]))


#: A condition on a tag or a run value held by fewer runs than this is walked first.
FEW_TAGGED = 5000


def _leads(conn: Connection, f: RunFilter, table: str, held: Sql, pipeline_id: int | None) -> bool:
    """Whether the condition ``f`` on a tag or a run value (its table ``run_tags vN`` or
    ``run_values vN``, ``held`` what the row holds) is walked first: in process only (SQLite
    walks the tables in the order given; a server orders them itself, and the count would cost
    a round trip), when fewer than :data:`FEW_TAGGED` rows hold it (the count stops there).
    A value's range is counted on its index; a tag value few runs hold reads every tag of that
    key to know: 0.2 s at 75,000 tags, against 3 s to walk 100,000 runs. A value no run holds
    (``trainer.p1 > 1000``) is counted in a millisecond, where walking the sort's index checks
    every run (1.4 s at 100,000)."""
    if conn.backend.pipelines:
        return False
    alias = table.split()[-1]
    if table.startswith("run_tags"):
        key = Sql(f"{alias}.key = ?", (f.column[len(TAG_PREFIX) :],))
    else:
        key = Sql(f"{alias}.name = ?", (f.column,))
        if pipeline_id is not None:
            key = key + Sql(f" AND {alias}.pipeline_id = ?", (pipeline_id,))
    sql = "SELECT count(*) FROM (SELECT 1 FROM " + table + " WHERE " + key + " AND " + held
    count = conn.scalar("counting matching runs", sql + Sql(" LIMIT ?) few", (FEW_TAGGED,)))
    return int(count) < FEW_TAGGED


def _base(
    conn: Connection,
    pipeline_ids: Sequence[int] | None,
    filters: Sequence[Filter],
    interrupted: Sequence[int],
) -> _Select:
    select = _Select(status_sql(interrupted))
    if pipeline_ids is not None:
        ids = list(pipeline_ids) or [-1]
        select = select.filtered("runs.pipeline_id IN (" + placeholders(ids) + ")")
    one = pipeline_ids[0] if pipeline_ids is not None and len(pipeline_ids) == 1 else None
    aliases = (f"c{i}" for i in range(1_000_000))
    d = conn.dialect
    for i, f in enumerate(filters):
        joined = rc.join_condition(d, f, f"v{i}", one) if isinstance(f, RunFilter) else None
        if joined is None or not isinstance(f, RunFilter):
            select = select.filtered(rc.condition(d, f, select.status, aliases))
            continue
        table, on, held = joined
        select = select.joined(table, on, held, lead=_leads(conn, f, table, held, one))
    return select


def _secondary(d: Dialect, base: _Select, keys: Sequence[RunSort]) -> tuple[_Select, Sql]:
    """The LEFT JOINs and ORDER BY terms of the sort keys after the first, and the tie-break
    (start order)."""
    terms: list[Sql] = []
    outer: list[Sql] = []
    for i, key in enumerate(keys):
        joins, order = rc.order_terms(d, key, f"k{i}", base.status)
        outer += joins
        terms += order
    terms.append(Sql("runs.id ASC"))
    return replace(base, outer=(*base.outer, *outer)), join(terms, ", ")


def _segments(
    d: Dialect, base: _Select, pipeline_ids: Sequence[int] | None, sort: Sequence[RunSort]
) -> list[_Select]:
    first, rest = sort[0], sort[1:]
    direction = "DESC" if first.descending else "ASC"
    kind = rc.kind_of(first.column, first.kind)
    if kind == "builtin" and first.column in ("start", "run_id"):
        return [replace(base, order=Sql(f"runs.id {direction}"))]  # id order: start order
    base, then = _secondary(d, base, rest)
    if kind != "value":
        outer, terms = rc.order_terms(d, first, "s0", base.status)
        joined = replace(base, outer=(*outer, *base.outer))
        return [replace(joined, order=join(terms, ", ") + ", " + then)]
    # The value's index is walked first: (pipeline_id, name, num_value) for one pipeline,
    # (name, num_value) for several, whose runs are then kept by the runs' own condition.
    on = Sql("vs.run_id = runs.id AND vs.name = ?", (first.column,))
    if pipeline_ids is not None and len(pipeline_ids) == 1:
        on = on + Sql(" AND vs.pipeline_id = ?", (pipeline_ids[0],))
    joined = base.joined("run_values vs", on, first=True)
    numbers = replace(
        joined.filtered(Sql("vs.num_value IS NOT NULL")),
        order=Sql(f"vs.num_value {direction}, ") + then,
    )
    texts = replace(  # text (and integers no float holds); a NaN is no value, as missing
        joined.filtered(Sql("vs.num_value IS NULL AND vs.value_type != 'float'")),
        order=Sql(f"{d.text_key('vs.text_value')} {direction} NULLS LAST, ") + then,
    )
    missing = replace(
        base.filtered(
            Sql(
                "NOT EXISTS (SELECT 1 FROM run_values vm WHERE vm.run_id = runs.id "
                "AND vm.name = ? AND (vm.value_type != 'float' OR vm.num_value IS NOT NULL))",
                (first.column,),
            )
        ),
        order=then,
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


def sort_keys(sort: str | Sequence[RunSort], descending: bool = True) -> list[RunSort]:
    """``sort`` as sort keys: a column name (with ``descending``) or the keys themselves."""
    keys = [RunSort(sort, descending)] if isinstance(sort, str) else list(sort)
    return keys or [RunSort("start", descending)]


def query(
    conn: Connection,
    pipeline_ids: Sequence[int] | None,
    *,
    columns: Sequence[tuple[str, str]],
    filters: Sequence[Filter],
    sort: str | Sequence[RunSort],
    descending: bool = True,
    limit: int | None,
    offset: int,
    table: RunTableSchema | None = None,
    count: bool | int = False,
) -> RunTableRecord:
    """Runs matching every filter, sorted and cut in SQL, with the chosen columns' values
    (and, with ``count``, how many runs match in all; ``count=N`` counts up to ``N`` only, so
    that a page of a million runs does not wait for all of them to be counted).

    ``columns`` are ``(name, kind)`` pairs, kind ``builtin``, ``tag`` or that of a run value
    (``param``, ``metric``...), checked by the caller against ``table`` (:func:`schema`; read
    here when not given). ``sort``: a column (``descending`` gives its direction) or several
    :class:`RunSort` keys. Ties keep start order; missing values sort last either way. A page
    (a few dozen runs) is one round trip to a server: its runs, their values and tags and the
    count are read together.
    """
    table = table if table is not None else schema(conn, pipeline_ids)
    base = _base(conn, pipeline_ids, filters, table.interrupted)
    segments = _segments(conn.dialect, base, pipeline_ids, sort_keys(sort, descending))
    wanted = [name for name, kind in columns if kind not in ("builtin", "tag")]
    tagged = [name for name, kind in columns if kind == "tag"]
    page = segments[0].sql() + conn.dialect.page(limit, offset)
    ids = "SELECT page.id FROM (" + page + ") page"
    # To a server, a page's values and tags ride along in its one round trip, each running
    # the page again; in process (SQLite) reading them by the page's run ids costs less.
    along = limit is not None and limit < BY_COLUMN_FROM and conn.backend.pipelines
    together = {"page": page}
    if along and wanted:
        together["values"] = values_of(ids, wanted)
    if along and tagged:
        together["tags"] = tags_of(ids, tagged)
    cap = None if count is True or not count else int(count)
    if count:
        counted = replace(base, status=Sql("runs.status"))  # counting needs no status
        limited = Sql("") if cap is None else Sql(" LIMIT ?", (cap + 1,))
        together["count"] = "SELECT count(*) FROM (" + counted.sql() + limited + ") counted"
    batch = conn.batch("querying the runs table", list(together.values()))
    results = {name: rows for name, (_, rows) in zip(together, batch, strict=True)}
    found = results["page"]
    if len(segments) > 1 and (limit is None or len(found) < limit):
        found = _fetch(conn, segments, limit, offset)  # the first segment did not fill it
        results.pop("values", None)
        results.pop("tags", None)
    total = int(results["count"][0][0]) if count else None
    every_run = not filters and limit is None and not offset and len(pipeline_ids or ()) == 1
    read = (results.get("values"), results.get("tags"))
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
    read: tuple[Sequence[Any] | None, Sequence[Any] | None],
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
        "run_id": list(run_ids),
    }
    wanted = [name for name, kind in columns if kind not in ("builtin", "tag")]
    tagged = [name for name, kind in columns if kind == "tag"]
    types = {n: t for n, _, t in table.columns}
    values: dict[str, list[Any]] = column_values(
        conn, run_ids, wanted, types, pipeline_ids, read=read[0], every_run=every_run
    )
    values.update(tag_values(conn, run_ids, tagged, pipeline_ids, read=read[1]))
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
