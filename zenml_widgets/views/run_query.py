"""``RunQuery``: which runs a runs table holds, and how they are sorted; checked against the
columns that exist before the store runs it (``check_query``).

Names are checked here (an unknown column is an error listing those that exist), filters become
the store's :class:`~zenml_widgets.store.RunFilter` trees and sort columns its
:class:`~zenml_widgets.store.RunSort` keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from typing import Any

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.store import RunFilter, RunFilterGroup, RunSort, RunTableSchema
from zenml_widgets.store.run_table import BUILTIN_COLUMNS
from zenml_widgets.store.run_tags import TAG_PREFIX
from zenml_widgets.views._common import did_you_mean, listing
from zenml_widgets.views.run_filters import (
    AllOf,
    AnyOf,
    FilterSyntaxError,
    Not,
    Where,
    normalize_where,
)

DATES = ("start", "end")


@dataclass(frozen=True)
class RunQuery:
    """Which runs to fetch as a table, and how: the one value every runs-as-data call takes.

    ``pipeline.runs.to_dataframe(...)``, ``pipeline.runs.table(...)``,
    ``Repository().runs_dataframe(...)`` and ``Repository().runs_table(...)`` accept a
    ``RunQuery`` as their first argument, its fields as keyword arguments, or both (keywords
    then change the query's fields). Filtering, sorting and limiting happen in SQL.

    Attributes:
        columns: the columns to return (``name`` is always there); default: all (``name``,
            ``status``, ``start``, ``end``, ``duration``, ``run_id``, the parameters, the
            recorded outputs, then the tags as ``tags.<key>``).
        where: conditions such as ``"trainer.epochs >= 5 and (evaluator.output.accuracy >
            0.9 or tags.stage in ('prod', 'staging'))"`` (``and``, ``or``, ``not``,
            parentheses, ``in``, ``like``, ``ilike``, ``is null``: see
            ``zenml_widgets.views.run_filters``), a ``(column, op, value)`` tuple, or a list
            of either (joined by ``and``). A comparison on a column the run lacks is false.
        status: keep runs with this status (or any of these).
        since, until: keep runs started at or after ``since`` and before ``until`` (datetimes,
            dates or ISO strings; naive ones are UTC).
        sort: the column to sort by (default ``start``), or a list of them (the second breaks
            ties of the first...); runs without a value come last and ties keep start order.
        ascending, descending: the direction, one for every sort column or a list with one per
            column (as pandas' ``sort_values``); default: descending (newest first, or the
            highest value first).
        limit, offset: a page of the result.
    """

    columns: Sequence[str] | None = None
    where: Any = None
    status: str | Sequence[str] | None = None
    since: Any = None
    until: Any = None
    sort: str | Sequence[str] | None = None
    ascending: bool | Sequence[bool] | None = None
    descending: bool | Sequence[bool] | None = None
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        for name in ("columns", "sort", "ascending", "descending", "status"):
            value = getattr(self, name)
            if isinstance(value, list | set | frozenset):  # hashable, like the rest of it
                object.__setattr__(self, name, tuple(value))

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
    filters: tuple[RunFilter | RunFilterGroup, ...]
    sort: tuple[RunSort, ...]
    limit: int | None
    offset: int


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
        if name.startswith(TAG_PREFIX) and len(name) > len(TAG_PREFIX):
            return name  # a tag no run has yet: no run matches, the column is empty
        raise NotFoundError(
            f"No column {name!r} ({role}) in the runs of {self.label}. Its columns are: "
            f"{listing(self.available, 40)}.{did_you_mean(name, self.available)} Parameters "
            "are '<step>.<parameter>', recorded outputs '<step>.<output>[.<key>]', logged "
            "metrics '<step>.metrics.<name>', tags 'tags.<key>'."
        )

    def kind(self, name: str) -> str:
        """``builtin``, ``tag``, or the kind of a run value (``param``, ``metric``...)."""
        if name in self.builtin or name == "pipeline":
            return "builtin"
        return self.kinds.get(name, "tag" if name.startswith(TAG_PREFIX) else "builtin")

    def value_types(self, name: str) -> tuple[str, ...] | None:
        """The value types the column ever held (``None``: a built-in column)."""
        return ("str",) if self.kind(name) == "tag" else self.types.get(name)


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
    if query.limit is not None and query.limit < 0:
        raise ValueError(f"limit= must be 0 or more, got {query.limit}")
    if query.offset < 0:
        raise ValueError(f"offset= must be 0 or more, got {query.offset}")
    return CheckedQuery(
        columns=tuple((c, known.kind(c)) for c in chosen),
        value_types={c: t for c in chosen if (t := known.value_types(c)) is not None},
        filters=_filters(query, known),
        sort=_sort_keys(query, known),
        limit=query.limit,
        offset=query.offset,
    )


def _directions(name: str, given: Any, count: int) -> list[bool] | None:
    """``ascending=`` / ``descending=`` as one bool per sort column (``None``: not given)."""
    if given is None:
        return None
    if isinstance(given, bool):
        return [given] * count
    if isinstance(given, Sequence) and not isinstance(given, str):
        flags = list(given)
        if len(flags) != count or not all(isinstance(f, bool) for f in flags):
            raise ValueError(
                f"{name}= takes a bool or a list of {count} bools, one per sort column; got "
                f"{given!r}"
            )
        return flags
    raise TypeError(f"{name}= takes a bool or a list of bools, not {given!r}")


def _sort_keys(query: RunQuery, known: _Columns) -> tuple[RunSort, ...]:
    """The sort columns, each with its direction: descending unless asked otherwise."""
    sort = query.sort
    names = ["start"] if not sort else [sort] if isinstance(sort, str) else list(sort)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"sort= takes a column name or a list of them, not {sort!r}")
    names = [known.check(n, "in sort=") for n in names]
    if len(set(names)) != len(names):
        raise ValueError(f"sort= names a column twice: {names!r}")
    ascending = _directions("ascending", query.ascending, len(names))
    descending = _directions("descending", query.descending, len(names))
    if (
        ascending is not None
        and descending is not None
        and any(a == d for a, d in zip(ascending, descending, strict=True))
    ):
        raise ValueError("ascending= and descending= contradict each other; give one of them")
    flags = [not a for a in ascending] if ascending is not None else descending
    flags = flags if flags is not None else [True] * len(names)
    return tuple(
        RunSort(n, d, "tag" if known.kind(n) == "tag" else "")
        for n, d in zip(names, flags, strict=True)
    )


def _filters(query: RunQuery, known: _Columns) -> tuple[RunFilter | RunFilterGroup, ...]:
    filters = [_filter(node, known) for node in normalize_where(query.where)]
    if query.status is not None:
        statuses = [query.status] if isinstance(query.status, str) else list(query.status)
        filters.append(RunFilter("status", "in", tuple(statuses)))
    if query.since is not None:
        filters.append(RunFilter("start", ">=", _as_datetime("start", query.since)))
    if query.until is not None:
        filters.append(RunFilter("start", "<", _as_datetime("start", query.until)))
    return tuple(filters)


def _filter(node: Where, known: _Columns) -> RunFilter | RunFilterGroup:
    """A parsed condition (or group) checked against the columns, as the store takes it."""
    if isinstance(node, AnyOf | AllOf):
        op = "or" if isinstance(node, AnyOf) else "and"
        return RunFilterGroup(op, tuple(_filter(item, known) for item in node.items))
    if isinstance(node, Not):
        return RunFilterGroup("not", (_filter(node.item, known),))
    column, op, value = node
    known.check(column, "in where=")
    kind = known.kind(column)
    values = list(value) if op in ("in", "not in") else [] if value is None else [value]
    if column in DATES:
        values = [_as_datetime(column, v) for v in values]
        value = tuple(values) if op in ("in", "not in") else value and values[0]
    recorded = known.value_types(column)
    if "like" in op and recorded is not None and "str" not in recorded:
        raise FilterSyntaxError(
            f"{column!r} holds {' and '.join(recorded)} values, so {op!r} matches no run; "
            f"{op} matches text."
        )
    for v in values:
        _check_comparable(column, recorded, v)
    return RunFilter(column, op, value, "tag" if kind == "tag" else "")


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
