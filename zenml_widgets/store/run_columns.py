"""The run-value columns of a runs table: each column's values, aligned with the table's runs.

A page of runs (a few dozen) reads its values in one query by run id. A large result (a whole
pipeline's table) reads column by column from the ``(pipeline_id, name, num_value, run_id)`` or
``(name, num_value, run_id)`` index alone: for a column that only ever held numbers (the usual
parameter or metric) that is every value of the table without touching the ``run_values`` table,
and values the index cannot give exactly (NaN, integers beyond 2**53, text) are read by row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from zenml_widgets.store.sql import Sql, placeholders
from zenml_widgets.store.values import EXACT_FLOAT_INT, decode

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection

#: Above this many runs a table's values are read column by column from the index.
BY_COLUMN_FROM = 1000
_CHUNK = 5000
_NUMERIC = {"bool", "int", "float"}


def column_values(
    conn: Connection,
    run_ids: Sequence[int],
    names: Sequence[str],
    types: Mapping[str, Sequence[str]],
    pipeline_ids: Sequence[int] | None,
    *,
    read: Sequence[Sequence[Any]] | None = None,
    every_run: bool = False,
) -> dict[str, list[Any]]:
    """For each column name, its value in each run of ``run_ids`` (``None`` where a run has
    none). ``types``: the value types each column ever recorded (from the catalogue).
    ``read``: the runs' value rows when the caller read them already (:func:`values_of`).
    ``every_run``: ``run_ids`` are every run of the one pipeline (a whole table)."""
    if not names or not run_ids:
        return {name: [None] * len(run_ids) for name in names}
    if read is not None or len(run_ids) < BY_COLUMN_FROM:
        rows = read if read is not None else _by_run(conn, run_ids, names)
        by_run = decoded_by_run(rows, names)
        return {name: [by_run.get((r, name)) for r in run_ids] for name in names}
    whole = every_run and _monotonic(run_ids)
    return {
        name: _column(conn, run_ids, name, set(types.get(name, ())), pipeline_ids, whole)
        for name in names
    }


def _monotonic(run_ids: Sequence[int]) -> bool:
    ids = list(run_ids)
    return ids == sorted(ids) or ids == sorted(ids, reverse=True)


def values_of(runs: Sql, names: Sequence[str]) -> Sql:
    """The value rows of the runs whose ids ``runs`` selects (a subquery), for ``names``."""
    sql = (
        "SELECT run_id, name, value_type, num_value, text_value FROM run_values "
        "WHERE run_id IN (" + runs + ")"
    )
    # A few columns: let SQL pick them; more: the runs' rows, the rest dropped in Python (one
    # range of the (run_id, name) index per run instead of one lookup per value).
    if len(names) <= 5:
        sql = sql + " AND name IN (" + placeholders(list(names)) + ")"
    return sql


def decoded_by_run(
    rows: Sequence[Sequence[Any]], names: Sequence[str]
) -> dict[tuple[int, str], Any]:
    """``(run id, name) -> value`` of :func:`values_of`'s rows, for ``names``."""
    wanted = set(names)
    return {
        (run_id, name): _decoded(value_type, num, text)
        for run_id, name, value_type, num, text in rows
        if name in wanted
    }


def _decoded(value_type: str, num: float | None, text: str | None) -> Any:
    if value_type == "float" and num is not None:
        return num
    if value_type == "str":
        return text
    return decode(value_type, num, text)


def _by_run(conn: Connection, run_ids: Sequence[int], names: Sequence[str]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(run_ids), _CHUNK):
        chunk = list(run_ids[start : start + _CHUNK])
        rows += conn.rows("reading run values", values_of(placeholders(chunk), names))
    return rows


def _scope(name: str, pipeline_ids: Sequence[int] | None) -> Sql:
    if pipeline_ids is None:
        return Sql("name = ?", (name,))
    return (
        "pipeline_id IN ("
        + placeholders(list(pipeline_ids) or [-1])
        + Sql(") AND name = ?", (name,))
    )


def _column(
    conn: Connection,
    run_ids: Sequence[int],
    name: str,
    types: set[str],
    pipeline_ids: Sequence[int] | None,
    whole: bool = False,
) -> list[Any]:
    where = _scope(name, pipeline_ids)
    if len(types) == 1 and types <= _NUMERIC:
        (kind,) = types
        descending = len(run_ids) > 1 and run_ids[0] > run_ids[-1]
        order = " ORDER BY run_id DESC" if descending else " ORDER BY run_id"
        if whole:  # one value per run of the table: in run order, the numbers are the column
            found = conn.rows(
                "reading a run-value column",
                "SELECT num_value FROM run_values WHERE " + where + order,
            )
            if len(found) == len(run_ids):
                column = _numbers([r[0] for r in found], kind)
                if column is not None:
                    return column
        sql = "SELECT run_id, num_value FROM run_values WHERE " + where + order
        rows = conn.rows("reading a run-value column", sql)
        aligned = _aligned(rows, run_ids, kind)
        if aligned is not None:
            return aligned
        values: dict[int, Any] = dict(rows)
        numbers = values.values()
        inexact = None in numbers or (
            kind == "int" and bool(numbers) and max(map(abs, numbers)) > EXACT_FLOAT_INT
        )
        if kind == "int":
            values = dict(zip(values, map(int, numbers), strict=True)) if not inexact else values
        elif kind == "bool":
            values = dict(zip(values, map(bool, numbers), strict=True)) if not inexact else values
        if inexact:  # NaN, or an integer a float cannot hold: the stored text says exactly
            values = _exact(conn, where)
    else:
        sql = "SELECT run_id, value_type, num_value, text_value FROM run_values WHERE " + where
        rows = conn.rows("reading a run-value column", sql)
        values = {r: _decoded(t, n, x) for r, t, n, x in rows}
    return list(map(values.get, run_ids))


def _aligned(rows: list[Any], run_ids: Sequence[int], kind: str) -> list[Any] | None:
    """The column's values in ``run_ids``' order when its rows are exactly those runs, in that
    order, and need no decoding beyond the number (no dict needed)."""
    if len(rows) != len(run_ids) or [r[0] for r in rows] != list(run_ids):
        return None
    return _numbers([r[1] for r in rows], kind)


def _numbers(numbers: list[Any], kind: str) -> list[Any] | None:
    """Stored numbers as the column's values; ``None`` when some need their stored text (NaN,
    integers a float cannot hold)."""
    if None in numbers:
        return None
    if kind == "float":
        return numbers
    if kind == "int" and max(map(abs, numbers)) <= EXACT_FLOAT_INT:
        return list(map(int, numbers))
    if kind == "bool":
        return list(map(bool, numbers))
    return None


def _exact(conn: Connection, where: Sql) -> dict[int, Any]:
    sql = "SELECT run_id, value_type, num_value, text_value FROM run_values WHERE " + where
    rows = conn.rows("reading a run-value column", sql)
    return {r: decode(t, n, x) for r, t, n, x in rows}
