"""Runs as a table: recording run values, and filtering / sorting / limiting runs by them in SQL.

Used by :class:`~zenml_widgets.store.MetadataStore`; functions here take the session. A query
runs in up to three ordered segments when it sorts by a run value (runs whose value is a number,
then runs whose value is text or NaN, then runs without the value), so each segment can walk the
``(pipeline_id, name, num_value)`` index and stop at the limit instead of sorting every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Double, Integer, Select, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from zenml_widgets.store.models import (
    VALUE_NAME_LENGTH,
    PipelineRow,
    RunRow,
    RunValueColumnRow,
    RunValueRow,
)
from zenml_widgets.store.records import RunFilter, RunTableRecord
from zenml_widgets.store.values import Scalar, column_name, decode, encode

BUILTIN_COLUMNS = ("pipeline", "name", "status", "start", "end", "duration")
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in")
_CHUNK = 5000


def record_values(
    s: Session,
    *,
    pipeline_id: int,
    run_id: int,
    step_id: int,
    step_name: str,
    kind: str,
    values: dict[str, Scalar],
    output_name: str | None = None,
    catalogued: Set[tuple[int, str, str]] = frozenset(),
) -> set[tuple[int, str, str]]:
    """Insert run values of one step (parameters, or one output's metrics) and catalogue them.

    A column name that the run already has (two steps whose names collide once joined with
    dots) keeps its first value. ``catalogued``: ``(pipeline id, name, value type)`` known to be
    in the catalogue already (not inserted again). Returns the catalogue entries written.
    """
    rows: list[dict[str, Any]] = []
    for key, value in values.items():
        name = column_name(step_name, kind, key, output_name)
        if len(name) > VALUE_NAME_LENGTH:
            continue
        value_type, num, text = encode(value)
        rows.append(
            {
                "pipeline_id": pipeline_id,
                "run_id": run_id,
                "step_id": step_id,
                "name": name,
                "kind": kind,
                "output_name": output_name,
                "key": key,
                "value_type": value_type,
                "num_value": num,
                "text_value": text,
            }
        )
    if not rows:
        return set()
    _insert_ignoring_duplicates(s, RunValueRow, rows, ("run_id", "name"))
    catalogue = {
        (pipeline_id, r["name"], r["value_type"]): {
            "pipeline_id": pipeline_id,
            "name": r["name"],
            "value_type": r["value_type"],
            "kind": kind,
        }
        for r in rows
    }
    new = {key: row for key, row in catalogue.items() if key not in catalogued}
    if new:
        _insert_ignoring_duplicates(
            s, RunValueColumnRow, list(new.values()), ("pipeline_id", "name", "value_type")
        )
    return set(new)


def _insert_ignoring_duplicates(
    s: Session, model: Any, rows: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(model).on_conflict_do_nothing(index_elements=list(keys))
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).on_conflict_do_nothing(index_elements=list(keys))
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"run values on {dialect}")
    s.execute(stmt, rows)


def copy_metrics(
    s: Session, *, source_step_id: int, output_name: str, run_id: int, step_id: int, step_name: str
) -> None:
    """A cached step's output: the same metrics as the step that wrote it, under this run."""
    found = s.execute(
        select(
            RunValueRow.key,
            RunValueRow.value_type,
            RunValueRow.num_value,
            RunValueRow.text_value,
        ).where(
            RunValueRow.step_id == source_step_id,
            RunValueRow.kind == "metric",
            RunValueRow.output_name == output_name,
        )
    ).all()
    if not found:
        return
    values = {}
    for key, value_type, num, text in found:
        value = decode(value_type, num, text)
        if value is not None:
            values[key] = value
    pipeline_id = s.execute(select(RunRow.pipeline_id).where(RunRow.id == run_id)).scalar_one()
    record_values(
        s,
        pipeline_id=pipeline_id,
        run_id=run_id,
        step_id=step_id,
        step_name=step_name,
        kind="metric",
        values=values,
        output_name=output_name,
    )


def value_columns(
    s: Session, pipeline_ids: Sequence[int] | None
) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(name, kind, value types)`` of every run-value column of these pipelines (all: None).

    Parameters first, then metrics, each sorted by name; value types sorted.
    """
    stmt = select(
        RunValueColumnRow.name, RunValueColumnRow.kind, RunValueColumnRow.value_type
    ).distinct()
    if pipeline_ids is not None:
        stmt = stmt.where(RunValueColumnRow.pipeline_id.in_(pipeline_ids))
    found: dict[str, tuple[str, set[str]]] = {}
    for name, kind, value_type in s.execute(stmt):
        found.setdefault(name, (kind, set()))[1].add(value_type)
    return sorted(
        ((n, k, tuple(sorted(t))) for n, (k, t) in found.items()),
        key=lambda c: (c[1] != "param", c[0]),
    )


# -- queries ------------------------------------------------------------------------------------


def _text(s: Session, column: Any) -> Any:
    # Byte order on both backends, so SQLite and PostgreSQL sort strings the same way.
    return column.collate("C") if s.get_bind().dialect.name == "postgresql" else column


def _duration(s: Session) -> Any:
    if s.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", RunRow.end_time - RunRow.start_time)

    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff": whole seconds plus the exact fraction (julianday
    # would round to ~20 microseconds and misorder short steps).
    def seconds(column: Any) -> Any:
        return func.cast(func.strftime("%s", column), Integer) + func.cast(
            func.substr(column, 20), Double
        )

    return seconds(RunRow.end_time) - seconds(RunRow.start_time)


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "==":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "in":
        return column.in_(list(value))  # type: ignore[no-any-return]
    raise ValueError(f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}")


def _builtin_condition(s: Session, f: RunFilter) -> ColumnElement[bool]:
    if f.column in ("start", "end"):
        column = RunRow.start_time if f.column == "start" else RunRow.end_time
        value = f.value
        if not isinstance(value, datetime):
            raise TypeError(f"column {f.column!r} compares with a datetime, not {value!r}")
        if s.get_bind().dialect.name == "sqlite":
            value = _naive_utc(value)
        return _compare(column, f.op, value)
    if f.column == "duration":
        if isinstance(f.value, bool) or not isinstance(f.value, int | float):
            raise TypeError(f"column 'duration' compares with seconds (a number), not {f.value!r}")
        return _compare(_duration(s), f.op, f.value)
    is_list = f.op == "in" and all(isinstance(v, str) for v in f.value)
    if not isinstance(f.value, str) and not is_list:
        raise TypeError(f"column {f.column!r} compares with a string, not {f.value!r}")
    if f.column == "pipeline":
        return _compare(_text(s, PipelineRow.name), f.op, f.value)
    text_column: Any = RunRow.name if f.column == "name" else RunRow.status
    return _compare(_text(s, text_column), f.op, f.value)


def _value_condition(s: Session, alias: Any, f: RunFilter) -> ColumnElement[bool]:
    value = f.value
    if isinstance(value, bool):
        return _compare(alias.num_value, f.op, 1.0 if value else 0.0)
    if isinstance(value, int | float):
        return _compare(alias.num_value, f.op, value)
    if isinstance(value, str):
        return and_(alias.value_type == "str", _compare(_text(s, alias.text_value), f.op, value))
    raise TypeError(f"column {f.column!r} compares with a number, bool or string, not {value!r}")


def _base(
    s: Session, pipeline_ids: Sequence[int] | None, filters: Sequence[RunFilter]
) -> Select[Any]:
    stmt: Any = select(
        RunRow.id,
        PipelineRow.name,
        RunRow.name,
        RunRow.status,
        RunRow.start_time,
        RunRow.end_time,
    ).join(PipelineRow, PipelineRow.id == RunRow.pipeline_id)
    if pipeline_ids is not None:
        stmt = stmt.where(RunRow.pipeline_id.in_(pipeline_ids))
    for f in filters:
        if f.column in BUILTIN_COLUMNS:
            stmt = stmt.where(_builtin_condition(s, f))
            continue
        alias = aliased(RunValueRow)
        stmt = stmt.join(
            alias,
            and_(
                alias.run_id == RunRow.id,
                alias.name == f.column,
                _value_condition(s, alias, f),
            ),
        )
    return cast("Select[Any]", stmt)


def _segments(
    s: Session,
    base: Select[Any],
    pipeline_ids: Sequence[int] | None,
    sort: str,
    descending: bool,
) -> list[Select[Any]]:
    def directed(column: Any) -> Any:
        return column.desc() if descending else column.asc()

    if sort in BUILTIN_COLUMNS:
        if sort == "start":
            return [base.order_by(directed(RunRow.id))]  # id order is start order
        column: Any = {
            "pipeline": _text(s, PipelineRow.name),
            "name": _text(s, RunRow.name),
            "status": _text(s, RunRow.status),
            "end": RunRow.end_time,
            "duration": _duration(s),
        }[sort]
        return [base.order_by(directed(column).nulls_last(), RunRow.id.asc())]
    v = aliased(RunValueRow)
    on = [v.run_id == RunRow.id, v.name == sort]
    if pipeline_ids is not None:
        on.append(v.pipeline_id.in_(pipeline_ids))
    joined = base.join(v, and_(*on))
    numbers = joined.where(v.num_value.is_not(None)).order_by(
        directed(v.num_value), RunRow.id.asc()
    )
    texts = joined.where(v.num_value.is_(None)).order_by(
        directed(_text(s, v.text_value)).nulls_last(), RunRow.id.asc()
    )
    missing = base.where(
        ~select(v.id).where(v.run_id == RunRow.id, v.name == sort).exists()
    ).order_by(RunRow.id.asc())
    return [numbers, texts, missing]


def query(
    s: Session,
    pipeline_ids: Sequence[int] | None,
    *,
    columns: Sequence[tuple[str, str]],
    filters: Sequence[RunFilter],
    sort: str,
    descending: bool,
    limit: int | None,
    offset: int,
) -> RunTableRecord:
    """Runs matching every filter, sorted and cut in SQL, with the chosen columns' values.

    ``columns`` are ``(name, kind)`` pairs, kind ``builtin``, ``param`` or ``metric``; names
    are checked by the caller. Ties keep start order; missing values sort last either way.
    """
    base = _base(s, pipeline_ids, filters)
    found: list[Any] = []
    skip = offset
    for segment in _segments(s, base, pipeline_ids, sort, descending):
        stmt = segment
        if skip:
            stmt = stmt.offset(skip)
        if limit is not None:
            stmt = stmt.limit(limit - len(found))
        page = s.connection().execute(stmt).all()
        found.extend(page)
        if limit is not None and len(found) >= limit:
            break
        if skip and page:
            skip = 0
        elif skip:  # the offset lies beyond this segment: skip its rows in the next ones
            total = s.execute(select(func.count()).select_from(segment.subquery())).scalar_one()
            skip = max(0, skip - int(total))
    run_ids = [r[0] for r in found]
    wanted = [name for name, kind in columns if kind != "builtin"]
    values = _values(s, run_ids, wanted) if wanted else {}
    # Per column: where its value comes from (a field of the run row, or the run's values).
    sources = [(_BUILTIN_FIELD.get(n, -1) if k == "builtin" else -1, n) for n, k in columns]
    rows = []
    for r in found:
        start, end = _utc(r[4]), _utc(r[5])
        fields = (r[1], r[2], r[3], start, end, _seconds(start, end))
        mine = values.get(r[0], _EMPTY)
        rows.append(tuple(fields[i] if i >= 0 else mine.get(n) for i, n in sources))
    return RunTableRecord(
        columns=tuple(n for n, _ in columns),
        kinds=tuple(k for _, k in columns),
        rows=tuple(rows),
        run_ids=tuple(run_ids),
    )


_BUILTIN_FIELD = {"pipeline": 0, "name": 1, "status": 2, "start": 3, "end": 4, "duration": 5}
_EMPTY: dict[str, Any] = {}


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def count(s: Session, pipeline_ids: Sequence[int] | None, filters: Sequence[RunFilter]) -> int:
    """How many runs match every filter."""
    base = _base(s, pipeline_ids, filters)
    return int(s.execute(select(func.count()).select_from(base.subquery())).scalar_one())


def _values(s: Session, run_ids: list[int], names: list[str]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    # A few columns: let SQL pick them; more: fetch the runs' rows and drop the rest here (one
    # range of the (run_id, name) index per run instead of one lookup per value).
    every = len(names) > 5
    wanted = set(names)
    conn = s.connection()  # Core rows: no ORM bookkeeping for tens of thousands of values
    for chunk in _chunks(run_ids, _CHUNK):
        stmt = select(
            RunValueRow.run_id,
            RunValueRow.name,
            RunValueRow.value_type,
            RunValueRow.num_value,
            RunValueRow.text_value,
        ).where(RunValueRow.run_id.in_(chunk))
        if not every:
            stmt = stmt.where(RunValueRow.name.in_(names))
        for run_id, name, value_type, num, text in conn.execute(stmt).all():
            if every and name not in wanted:
                continue
            if value_type == "float" and num is not None:
                value: Any = num
            elif value_type == "str":
                value = text
            else:
                value = decode(value_type, num, text)
            row = out.get(run_id)
            if row is None:
                row = out[run_id] = {}
            row[name] = value
    return out


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
