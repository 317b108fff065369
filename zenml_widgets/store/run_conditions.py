"""The SQL of a runs table's conditions and sort keys, over ``runs`` and ``pipelines``.

Every condition is two-valued: true or false, never SQL's unknown, on SQLite and PostgreSQL
alike. A comparison (``== != < <= > >= in not in like ilike``) is false for a run that lacks
the column, or whose value is of the other kind (text against a number); ``not`` negates the
whole condition, so ``not x > 5`` keeps the runs without ``x``; ``x is null`` holds for those
(and for a NaN value, as the DataFrame's ``isna()``). A condition on a run value or a tag is an
``EXISTS`` probe of the ``(run_id, name)`` / ``(run_id, key)`` key of its run, so conditions
joined by ``or`` and ``not`` keep walking the runs (or the sort column's index) and stop at
the limit; the plain conditions of the top-level ``and`` are joins instead
(:func:`join_condition`), which the runs query walks in its chosen order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from zenml_widgets.store.records import RunFilter, RunFilterGroup, RunSort
from zenml_widgets.store.run_tags import TAG_PREFIX
from zenml_widgets.store.sql import Dialect, Sql, join, placeholders

#: The columns every run has, in table order (``pipeline`` only in tables of several pipelines).
BUILTIN_COLUMNS = ("pipeline", "name", "status", "start", "end", "duration", "run_id")
_COMPARISONS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NULLABLE = ("end", "duration")
_TEXT = ("pipeline", "name", "status")


def kind_of(column: str, kind: str = "") -> str:
    """``builtin``, ``tag`` or ``value``: where a column's values are."""
    if kind == "tag":
        return "tag"
    return "builtin" if column in BUILTIN_COLUMNS else "value"


def builtin_sql(d: Dialect, column: str, status: Sql, *, collate: bool = True) -> Sql:
    """A built-in column as an SQL expression (text columns byte-ordered with ``collate``)."""
    if column in _TEXT:
        plain = {"pipeline": Sql("pipelines.name"), "name": Sql("runs.name")}.get(
            column, "(" + status + ")"
        )
        return plain + d.collation if collate else plain
    return Sql(
        {
            "start": "runs.start_time",
            "end": "runs.end_time",
            "duration": d.seconds_between("runs.start_time", "runs.end_time"),
            "run_id": "runs.id",
        }[column]
    )


def _compare(left: Sql, op: str, value: Any) -> Sql:
    if op in ("in", "not in"):
        values = list(value)
        if not values:
            return Sql("1 = 0" if op == "in" else "1 = 1")
        return left + f" {op.upper()} (" + placeholders(values) + ")"
    if op not in _COMPARISONS:
        raise ValueError(f"unknown operator {op!r}")
    return left + Sql(f" {_COMPARISONS[op]} ?", (value,))


def _values(op: str, value: Any) -> list[Any]:
    return list(value) if op in ("in", "not in") else [value]


def _like(d: Dialect, column: str, f: RunFilter) -> Sql:
    if not isinstance(f.value, str):
        raise TypeError(f"{f.op!r} on column {f.column!r} takes a pattern string, not {f.value!r}")
    matched = d.like(column, f.value, fold="ilike" in f.op)
    return "NOT " + matched if f.op.startswith("not ") else matched


def _check_builtin(f: RunFilter) -> None:
    values = _values(f.op, f.value)
    if f.column in ("start", "end"):
        wanted, ok = "a datetime", all(isinstance(v, datetime) for v in values)
    elif f.column in ("duration", "run_id"):
        wanted = "seconds (a number)" if f.column == "duration" else "an integer"
        ok = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    else:
        wanted, ok = "a string", all(isinstance(v, str) for v in values)
    if not ok:
        raise TypeError(f"column {f.column!r} compares with {wanted}, not {f.value!r}")


def builtin_condition(d: Dialect, f: RunFilter, status: Sql) -> Sql:
    """A condition on a built-in column."""
    if f.op in ("is null", "is not null"):
        return builtin_sql(d, f.column, status, collate=False) + f" {f.op.upper()}"
    if "like" in f.op:
        if f.column not in _TEXT:
            raise TypeError(f"{f.op!r} matches text; column {f.column!r} does not hold text")
        return "(" + _like(d, builtin_sql(d, f.column, status, collate=False).text, f) + ")"
    _check_builtin(f)
    compared = _compare(builtin_sql(d, f.column, status), f.op, f.value)
    if f.column in _NULLABLE:  # a run still running has no end: false, not unknown
        plain = builtin_sql(d, f.column, status, collate=False)
        return "(" + plain + " IS NOT NULL AND " + compared + ")"
    return compared


def value_condition(d: Dialect, alias: str, f: RunFilter) -> Sql:
    """What a run value row ``alias`` must hold for ``f`` (the row exists)."""
    if f.op == "is not null":  # a NaN is no value, as the DataFrame's isna() says
        return Sql(f"({alias}.value_type != 'float' OR {alias}.num_value IS NOT NULL)")
    text = f"{alias}.value_type = 'str'"
    if "like" in f.op:
        return "(" + text + " AND " + _like(d, f"{alias}.text_value", f) + ")"
    values = _values(f.op, f.value)
    if not values:  # in (): nothing; not in (): any value
        return Sql("1 = 0") if f.op == "in" else value_condition(d, alias, _present(f))
    numbers = [float(v) if isinstance(v, bool) else v for v in values if not isinstance(v, str)]
    strings = [v for v in values if isinstance(v, str)]
    for v in numbers:
        if not isinstance(v, int | float):
            raise TypeError(
                f"column {f.column!r} compares with a number, bool or string, not {v!r}"
            )
    # Inside the row's WHERE an unknown (a NULL number) is false, as it must be.
    parts = []
    many = f.op in ("in", "not in")
    if numbers:
        parts.append(_compare(Sql(f"{alias}.num_value"), f.op, numbers if many else numbers[0]))
    if strings:
        text_value = Sql(d.text_key(f"{alias}.text_value"))
        parts.append(text + " AND " + _compare(text_value, f.op, strings if many else strings[0]))
    if len(parts) == 2:
        return "(" + parts[0] + " OR (" + parts[1] + "))"
    return parts[0] if parts else Sql("1 = 0")


def _present(f: RunFilter) -> RunFilter:
    return RunFilter(f.column, "is not null", None, f.kind)


def tag_condition(d: Dialect, alias: str, f: RunFilter) -> Sql:
    """What a tag row ``alias`` must hold for ``f`` (the row exists); tags hold text."""
    if f.op == "is not null":
        return Sql("1 = 1")
    if "like" in f.op:
        return _like(d, f"{alias}.value", f)
    if not all(isinstance(v, str) for v in _values(f.op, f.value)):
        raise TypeError(f"column {f.column!r} (a tag) compares with strings, not {f.value!r}")
    return _compare(Sql(d.text_key(f"{alias}.value")), f.op, f.value)


def _row(kind: str, alias: str, column: str) -> tuple[str, Sql]:
    """The table of a run value or tag column and the condition that finds its run's row."""
    if kind == "tag":
        key = column[len(TAG_PREFIX) :]
        return f"run_tags {alias}", Sql(f"{alias}.run_id = runs.id AND {alias}.key = ?", (key,))
    return f"run_values {alias}", Sql(f"{alias}.run_id = runs.id AND {alias}.name = ?", (column,))


def _held(d: Dialect, kind: str, alias: str, f: RunFilter) -> Sql:
    return tag_condition(d, alias, f) if kind == "tag" else value_condition(d, alias, f)


def condition(
    d: Dialect, f: RunFilter | RunFilterGroup, status: Sql, aliases: Iterator[str]
) -> Sql:
    """A filter (or a group of them) as one two-valued SQL condition on ``runs``."""
    if isinstance(f, RunFilterGroup):
        parts = [condition(d, item, status, aliases) for item in f.items]
        if f.op == "not":
            return "(NOT " + parts[0] + ")"
        if f.op not in ("and", "or"):
            raise ValueError(f"unknown filter group {f.op!r}")
        return "(" + join(parts, f" {f.op.upper()} ") + ")" if parts else Sql("1 = 1")
    kind = kind_of(f.column, f.kind)
    if kind == "builtin":
        return builtin_condition(d, f, status)
    alias = next(aliases)
    table, on = _row(kind, alias, f.column)
    missing = f.op == "is null"
    held = _held(d, kind, alias, _present(f) if missing else f)
    exists = "EXISTS (SELECT 1 FROM " + table + " WHERE " + on + " AND " + held + ")"
    return "NOT " + exists if missing else exists


def join_condition(
    d: Dialect, f: RunFilter, alias: str, pipeline_id: int | None
) -> tuple[str, Sql, Sql] | None:
    """A plain condition on a run value or tag as a join: ``(table, join condition, what the
    row holds)``; ``None`` for the conditions that are not (built-in columns, ``is null``).
    ``pipeline_id``: the table's one pipeline, which lets a run value start from its index."""
    kind = kind_of(f.column, f.kind)
    if kind == "builtin" or f.op == "is null":
        return None
    table, on = _row(kind, alias, f.column)
    if kind == "value" and pipeline_id is not None:
        on = on + Sql(f" AND {alias}.pipeline_id = ?", (pipeline_id,))
    return table, on, _held(d, kind, alias, f)


def order_terms(d: Dialect, key: RunSort, alias: str, status: Sql) -> tuple[list[Sql], list[Sql]]:
    """A secondary sort key: the ``LEFT JOIN`` it needs and its ``ORDER BY`` terms. Runs
    without the value (or with NaN) come last; a run value sorts numbers first, then text, as
    the first key's segments do."""
    direction = "DESC" if key.descending else "ASC"
    kind = kind_of(key.column, key.kind)
    if kind == "builtin":
        if key.column in ("start", "run_id"):
            return [], [Sql(f"runs.id {direction}")]
        return [], [builtin_sql(d, key.column, status) + f" {direction} NULLS LAST"]
    table, on = _row(kind, alias, key.column)
    joined = ["LEFT JOIN " + table + " ON " + on]
    if kind == "tag":
        return joined, [Sql(f"{d.text_key(alias + '.value')} {direction} NULLS LAST")]
    # numbers, then text (and integers no float holds), then no value or NaN (as the first key)
    text = f"{alias}.num_value IS NULL AND {alias}.value_type != 'float'"
    return joined, [
        Sql(f"CASE WHEN {alias}.num_value IS NOT NULL THEN 0 WHEN {text} THEN 1 ELSE 2 END"),
        Sql(f"{alias}.num_value {direction}"),
        Sql(f"(CASE WHEN {text} THEN {alias}.text_value END){d.collation} {direction} NULLS LAST"),
    ]
