"""Rows of the store's tables (tuples in column order) into frozen records.

Shared by both read paths: SQLAlchemy's (:mod:`~zenml_widgets.store.sql_store`), which hands
back ``datetime`` and ``bool`` values, and the plain ``sqlite3`` one
(:mod:`~zenml_widgets.store.sqlite_reader`), which hands back SQLAlchemy's stored forms of them
(ISO text and 0 / 1). Both give the same records. No SQLAlchemy here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from zenml_widgets.store.records import ArtifactRecord, PipelineRecord, RunRecord, StepRecord

# Column order of each record's row, as SQL (the sqlite3 path) and as names (both paths).
PIPELINE_COLUMNS = ("id", "name", "created_at")
RUN_COLUMNS = (
    "id",
    "pipeline_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "heartbeat_at",
    "pid",
    "hostname",
    "error",
)
STEP_COLUMNS = (
    "id",
    "run_id",
    "position",
    "name",
    "entrypoint_name",
    "parameters",
    "status",
    "start_time",
    "end_time",
    "cache_key",
    "code_hash",
    "source_step_id",
    "error",
    "cache_enabled",
)
ARTIFACT_COLUMNS = (
    "id",
    "step_id",
    "name",
    "uri",
    "data_type",
    "materializer",
    "producer_step_id",
    "is_cached",
    "size_bytes",
    "created_at",
    "num_rows",
    "num_columns",
)


def utcnow() -> datetime:
    """Timezone-aware now, in UTC."""
    return datetime.now(UTC)


def _utc(value: datetime | str | None) -> datetime | None:
    # SQLite keeps datetimes as SQLAlchemy's ISO text, without a zone; everything stored is UTC.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def pipeline_record(row: Any) -> PipelineRecord:
    """A ``PIPELINE_COLUMNS`` row as a record."""
    return PipelineRecord(row[0], row[1], _utc(row[2]))  # type: ignore[arg-type]


def run_record(row: Any) -> RunRecord:
    """A ``RUN_COLUMNS`` row as a record."""
    return RunRecord(
        id=row[0],
        pipeline_id=row[1],
        name=row[2],
        status=row[3],
        start_time=_utc(row[4]),  # type: ignore[arg-type]
        end_time=_utc(row[5]),
        heartbeat_at=_utc(row[6]),
        pid=row[7],
        hostname=row[8],
        error=row[9],
    )


def step_record(row: Any) -> StepRecord:
    """A ``STEP_COLUMNS`` row as a record (``parameters`` decoded from JSON)."""
    return StepRecord(
        id=row[0],
        run_id=row[1],
        position=row[2],
        name=row[3],
        entrypoint_name=row[4],
        parameters=json.loads(row[5]),
        status=row[6],
        start_time=_utc(row[7]),  # type: ignore[arg-type]
        end_time=_utc(row[8]),
        cache_key=row[9],
        code_hash=row[10],
        source_step_id=row[11],
        error=row[12],
        cache_enabled=_bool(row[13]),
    )


def artifact_record(row: Any) -> ArtifactRecord:
    """An ``ARTIFACT_COLUMNS`` row as a record."""
    return ArtifactRecord(
        id=row[0],
        step_id=row[1],
        name=row[2],
        uri=row[3],
        data_type=row[4],
        materializer=row[5],
        producer_step_id=row[6],
        is_cached=bool(row[7]),
        size_bytes=row[8],
        created_at=_utc(row[9]),  # type: ignore[arg-type]
        num_rows=row[10],
        num_columns=row[11],
    )
