"""Frozen records the store returns. Plain data: no session, no lazy loading.

Each record's fields are the columns its queries select (``sql.columns(RunRecord, "runs")``), and
rows become records by column name (:func:`record_builder`): the one definition of what a read
returns. The ORM models in ``models.py`` describe the same tables for the migrations; a test
keeps the two in step."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import cache
from typing import Any

RUN_STATUSES = ("running", "completed", "failed")
#: ``pending``: recorded when the run started, not started yet; ``skipped``: never ran (something
#: upstream failed, or the run ended first).
STEP_STATUSES = ("pending", "running", "completed", "cached", "failed", "skipped")
#: Steps and attempts that may still change.
OPEN_STEP_STATUSES = ("pending", "running")
ATTEMPT_STATUSES = ("running", "completed", "cached", "failed")


@dataclass(frozen=True, slots=True)
class PipelineRecord:
    """A pipeline row."""

    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run row, as stored (``status`` is what the runner last wrote)."""

    id: int
    pipeline_id: int
    name: str
    status: str
    start_time: datetime
    end_time: datetime | None
    heartbeat_at: datetime | None
    pid: int | None
    hostname: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A step row; ``parameters`` decoded from JSON."""

    id: int
    run_id: int
    position: int
    name: str
    entrypoint_name: str
    parameters: dict[str, Any] = field(hash=False, compare=False)
    status: str
    start_time: datetime
    end_time: datetime | None
    cache_key: str | None
    code_hash: str | None
    source_step_id: int | None
    error: str | None
    cache_enabled: bool | None = None  # None: recorded before schema 0003
    attempt: int = 0  # the current attempt's number (0: pending), the fencing token of writes


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One execution of a step: where it ran (``hostname`` and ``pid``, and ``worker``, the Dask
    worker's address), when, and how it ended."""

    id: int
    step_id: int
    number: int
    status: str
    start_time: datetime
    end_time: datetime | None
    hostname: str | None
    pid: int | None
    worker: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A step of a run as recorded when the run starts (``pending``)."""

    position: int
    name: str
    entrypoint_name: str
    parameters: dict[str, Any] = field(hash=False, compare=False)
    code_hash: str | None = None
    cache_enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class Worker:
    """Where an attempt runs: this host and process, and the Dask worker's address if any."""

    hostname: str | None
    pid: int | None
    worker: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    """An artifact row; ``uri`` is relative to the stack's artifact store."""

    id: int
    step_id: int
    name: str
    uri: str
    data_type: str
    materializer: str
    producer_step_id: int
    is_cached: bool
    size_bytes: int | None
    created_at: datetime
    num_rows: int | None = None  # tables only; None: not a table, or recorded before 0005
    num_columns: int | None = None


@dataclass(frozen=True, slots=True)
class InputRecord:
    """One input of a step: its name there and the artifact it received."""

    name: str
    artifact: ArtifactRecord


@dataclass(frozen=True, slots=True)
class RunGraph:
    """A run with its pipeline, its steps (in execution order) and their outputs and inputs (by
    step id): what the views of a run show, read together in one round trip."""

    pipeline: PipelineRecord
    run: RunRecord
    steps: tuple[StepRecord, ...]
    outputs: dict[int, tuple[ArtifactRecord, ...]] = field(hash=False, compare=False)
    inputs: dict[int, tuple[InputRecord, ...]] = field(hash=False, compare=False)

    @property
    def ended(self) -> bool:
        """Whether the run had ended when read (its records no longer change)."""
        return self.run.status != "running"


@dataclass(frozen=True, slots=True)
class RunLineage:
    """What explaining a run's steps compares them with, read together in one round trip.

    ``earlier``: by step name, the step of that name in the most recent earlier run of the
    pipeline that has one, with its ``outputs`` and ``inputs`` (by step id); ``sources``: by id,
    the steps whose outputs the run's cached steps reused; ``runs`` and ``pipelines``: those
    steps' runs and the runs' pipelines, by id.
    """

    earlier: dict[str, StepRecord] = field(hash=False, compare=False)
    outputs: dict[int, tuple[ArtifactRecord, ...]] = field(hash=False, compare=False)
    inputs: dict[int, tuple[InputRecord, ...]] = field(hash=False, compare=False)
    sources: dict[int, StepRecord] = field(hash=False, compare=False)
    runs: dict[int, RunRecord] = field(hash=False, compare=False)
    pipelines: dict[int, PipelineRecord] = field(hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class NewArtifact:
    """What the runner hands the store for one output it wrote (or reused)."""

    name: str
    uri: str
    data_type: str
    materializer: str
    producer_step_id: int | None = None  # None: the step being recorded wrote it
    is_cached: bool = False
    size_bytes: int | None = None
    shape: tuple[int | None, int | None] = (None, None)  # (rows, columns) of a table
    # Small scalar content ({"": 0.93} or {"accuracy": 0.93, ...}), recorded as run values.
    values: dict[str, bool | int | float | str] | None = field(
        default=None, hash=False, compare=False
    )

    @classmethod
    def cached_copy(cls, artifact: ArtifactRecord) -> NewArtifact:
        """``artifact`` recorded again as the output of a step served from the cache: the same
        file, its producer kept."""
        kept = ("name", "uri", "data_type", "materializer", "producer_step_id", "size_bytes")
        return cls(
            **{f: getattr(artifact, f) for f in kept},
            is_cached=True,
            shape=(artifact.num_rows, artifact.num_columns),
        )


@dataclass(frozen=True, slots=True)
class RunFilter:
    """One condition on runs: ``column op value`` (``op`` one of ``== != < <= > >=``)."""

    column: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class RunTableSchema:
    """What a runs table of some pipelines can show, read in one round trip before querying it:
    its value ``columns`` (``(name, kind, value types)``, parameters first) and the runs recorded
    as running here whose process is gone (``interrupted``: they show as ``failed``)."""

    columns: tuple[tuple[str, str, tuple[str, ...]], ...]
    interrupted: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RunTableRecord:
    """Runs as a table, column by column: ``data[i]`` holds column ``columns[i]``'s value for
    each run of ``run_ids`` (``kinds[i]``: ``builtin``, ``param`` or ``metric``); ``total``: how
    many runs match the filters (when asked), or at least how many (``total_is_lower_bound``:
    counting stopped there)."""

    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    data: tuple[list[Any], ...] = field(hash=False, compare=False)
    run_ids: tuple[int, ...]
    total: int | None = None
    total_is_lower_bound: bool = False

    @property
    def rows(self) -> tuple[tuple[Any, ...], ...]:
        """One tuple per run, values in column order."""
        if not self.data:
            return tuple(() for _ in self.run_ids)
        return tuple(zip(*self.data, strict=True))


def utcnow() -> datetime:
    """Timezone-aware now, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | str | None) -> datetime | None:
    """A stored datetime as an aware UTC one (SQLite holds UTC wall time as text)."""
    if isinstance(value, str):
        if value[-6:-5] not in ("+", "-") and not value.endswith("Z"):
            # SQLite's "YYYY-MM-DD HH:MM:SS.ffffff", UTC wall time: parsed as UTC directly
            # (six times faster than parsing, then replacing the zone)
            return datetime.fromisoformat(value + "+00:00")
        value = datetime.fromisoformat(value)
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _as_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _converter(name: str, hint: Any) -> Callable[[Any], Any] | None:
    if name == "parameters":
        return json.loads
    if hint in (datetime, datetime | None):
        return as_utc
    if hint in (bool, bool | None):
        return _as_bool
    return None


Builder = Callable[[Sequence[Any]], Any]


@cache
def record_builder(record: type[Any], names: tuple[str, ...]) -> Builder:
    """Rows whose columns are called ``names`` -> ``record`` instances, matched by name.

    Every field of the record must be among the columns (a missing one is a programming error,
    reported with both lists); extra columns are ignored. Built once per record and column list.
    """
    hints = typing.get_type_hints(record)
    index = {n: i for i, n in enumerate(names)}
    plan: list[tuple[int, Callable[[Any], Any] | None]] = []
    for f in fields(record):
        if f.name not in index:
            raise KeyError(f"{record.__name__}.{f.name} is not among the columns {names}")
        plan.append((index[f.name], _converter(f.name, hints[f.name])))

    def build(row: Sequence[Any]) -> Any:
        return record(*[row[i] if c is None else c(row[i]) for i, c in plan])

    return build
