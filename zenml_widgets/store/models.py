"""The metadata store's tables, as SQLAlchemy models: the schema the Alembic migrations build,
declared once for Alembic and for the test that holds the records (``records.py``) and the
migrated schema to it. The store reads and writes through ``reads.py`` and ``writes.py``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from zenml_widgets.store.values import METRIC_NAME_LENGTH, NAME_LENGTH, VALUE_NAME_LENGTH


class Base(DeclarativeBase):
    """Declarative base of the metadata store's tables."""


class PipelineRow(Base):
    """One pipeline (by name) of one store."""

    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"PipelineRow(id={self.id!r}, name={self.name!r})"


class RunRow(Base):
    """One run of a pipeline. ``id`` order is start order (the chronological order)."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "name", name="uq_runs_pipeline_name"),
        Index("ix_runs_pipeline_id_id", "pipeline_id", "id"),
        Index("ix_runs_pipeline_id_status", "pipeline_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pid: Mapped[int | None] = mapped_column(Integer)
    hostname: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"RunRow(id={self.id!r}, name={self.name!r}, status={self.status!r})"


class StepRow(Base):
    """One step of one run; ``position`` is its execution order inside the run."""

    __tablename__ = "steps"
    __table_args__ = (
        UniqueConstraint("run_id", "position", name="uq_steps_run_position"),
        Index("ix_steps_cache_key", "cache_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    entrypoint_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    parameters: Mapped[str] = mapped_column(Text)  # JSON object
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cache_key: Mapped[str | None] = mapped_column(String(64))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    source_step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id"))
    error: Mapped[str | None] = mapped_column(Text)
    cache_enabled: Mapped[bool | None] = mapped_column(Boolean)
    attempt: Mapped[int] = mapped_column(Integer, server_default="0")

    def __repr__(self) -> str:
        return f"StepRow(id={self.id!r}, name={self.name!r}, status={self.status!r})"


class StepAttemptRow(Base):
    """One execution of a step: its number (from 1), where and when it ran, how it ended."""

    __tablename__ = "step_attempts"
    __table_args__ = (UniqueConstraint("step_id", "number", name="uq_step_attempts_step_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hostname: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    pid: Mapped[int | None] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"StepAttemptRow(step_id={self.step_id!r}, number={self.number!r})"


class ArtifactRow(Base):
    """An output of a step. A cached step's outputs point at the producer's files."""

    __tablename__ = "artifacts"
    __table_args__ = (
        UniqueConstraint("step_id", "name", name="uq_artifacts_step_name"),
        Index("ix_artifacts_producer_step_id", "producer_step_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    uri: Mapped[str] = mapped_column(Text)  # relative to the stack's artifact store
    data_type: Mapped[str] = mapped_column(String(1024))
    materializer: Mapped[str] = mapped_column(String(1024))
    producer_step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    is_cached: Mapped[bool] = mapped_column(Boolean)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    num_rows: Mapped[int | None] = mapped_column(BigInteger)
    num_columns: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"ArtifactRow(id={self.id!r}, name={self.name!r}, uri={self.uri!r})"


class StepInputRow(Base):
    """Lineage: artifact ``artifact_id`` was the input ``name`` of step ``step_id``."""

    __tablename__ = "step_inputs"
    __table_args__ = (
        UniqueConstraint("step_id", "name", name="uq_step_inputs_step_name"),
        Index("ix_step_inputs_artifact_id", "artifact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"))

    def __repr__(self) -> str:
        return f"StepInputRow(step_id={self.step_id!r}, name={self.name!r})"


class RunValueRow(Base):
    """A parameter or small scalar output of a step, typed, so SQL can filter and sort runs.

    ``name`` is the column users see (``trainer.epochs``, ``evaluator.output.accuracy``);
    numbers (and bools, as 0/1) are in ``num_value``, strings in ``text_value``. The artifact
    stays the source of truth for ``read()``; these rows are an index over it.
    """

    __tablename__ = "run_values"
    __table_args__ = (
        UniqueConstraint("run_id", "name", name="uq_run_values_run_name"),
        Index("ix_run_values_pipeline_name_num_run", "pipeline_id", "name", "num_value", "run_id"),
        Index("ix_run_values_name_num_run", "name", "num_value", "run_id"),
        Index("ix_run_values_step_id", "step_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(VALUE_NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(8))  # "param" | "metric"
    output_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value_type: Mapped[str] = mapped_column(String(8))  # "bool" | "int" | "float" | "str"
    num_value: Mapped[float | None] = mapped_column(Double)
    text_value: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"RunValueRow(run_id={self.run_id!r}, name={self.name!r})"


class RunValueColumnRow(Base):
    """The catalogue of run-value columns a pipeline has: one row per name and value type seen."""

    __tablename__ = "run_value_columns"

    pipeline_id: Mapped[int] = mapped_column(
        ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(VALUE_NAME_LENGTH), primary_key=True)
    value_type: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))

    def __repr__(self) -> str:
        return f"RunValueColumnRow(pipeline_id={self.pipeline_id!r}, name={self.name!r})"


class RunTagRow(Base):
    """A mark a user set on a run (``baseline``, ``stage=prod``): a key with an optional value.

    Tags are the one thing the read API writes (``run.set_tag``); the runs table reads them as
    ``tags.<key>`` columns.
    """

    __tablename__ = "run_tags"
    __table_args__ = (Index("ix_run_tags_key_run", "key", "run_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"RunTagRow(run_id={self.run_id!r}, key={self.key!r})"


class MetricSeriesRow(Base):
    """One metric a step attempt logged (``log_metric``): its name, length and last point."""

    __tablename__ = "metric_series"
    __table_args__ = (
        UniqueConstraint("step_id", "attempt", "name", name="uq_metric_series_step_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(METRIC_NAME_LENGTH))
    points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_value: Mapped[float | None] = mapped_column(Double)
    last_time: Mapped[float | None] = mapped_column(Double)

    def __repr__(self) -> str:
        return f"MetricSeriesRow(step_id={self.step_id!r}, name={self.name!r})"


class MetricPointRow(Base):
    """One point of a metric series, in the order it was logged (``seq``); NaN is NULL."""

    __tablename__ = "metric_points"
    __table_args__ = {"sqlite_with_rowid": False}

    series_id: Mapped[int] = mapped_column(
        ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Double)
    time: Mapped[float] = mapped_column(Double)

    def __repr__(self) -> str:
        return f"MetricPointRow(series_id={self.series_id!r}, seq={self.seq!r})"


class MetricChunkRow(Base):
    """Consecutive points of a metric series packed for reading whole: from position ``seq``,
    ``points`` of them, as little-endian arrays of step indexes (int64), values (float64, NaN
    kept) and times (float64); written with the ``metric_points`` rows of the same batch."""

    __tablename__ = "metric_chunks"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    step_data: Mapped[bytes] = mapped_column(LargeBinary)
    value_data: Mapped[bytes] = mapped_column(LargeBinary)
    time_data: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"MetricChunkRow(series_id={self.series_id!r}, seq={self.seq!r})"
