"""``SqlStore``: every read and write of pipeline history through SQLAlchemy, returning frozen
records.

:class:`~zenml_widgets.store.MetadataStore` creates one on first need: for every write, for the
runs table, for PostgreSQL, and for reads inside a transaction. Reads of an SQLite store that is
already at the newest schema go through :mod:`zenml_widgets.store.sqlite_reader` instead, so a
process that only reads never imports SQLAlchemy."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from zenml_widgets.exceptions import RunNameClashError, StoreError
from zenml_widgets.store import run_table
from zenml_widgets.store.engine import describe_url, get_engine, translate_errors
from zenml_widgets.store.models import ArtifactRow, PipelineRow, RunRow, StepInputRow, StepRow
from zenml_widgets.store.records import (
    ArtifactRecord,
    InputRecord,
    NewArtifact,
    PipelineRecord,
    RunFilter,
    RunRecord,
    RunTableRecord,
    StepRecord,
)
from zenml_widgets.store.rows import (
    ARTIFACT_COLUMNS,
    RUN_COLUMNS,
    STEP_COLUMNS,
    artifact_record,
    pipeline_record,
    run_record,
    step_record,
    utcnow,
)
from zenml_widgets.store.schema import ensure_schema
from zenml_widgets.store.values import Scalar, parameter_values

# The columns of each record, in the order zenml_widgets.store.rows reads them.
_RUN_COLUMNS = tuple(getattr(RunRow, c) for c in RUN_COLUMNS)
_STEP_COLUMNS = tuple(getattr(StepRow, c) for c in STEP_COLUMNS)
_ARTIFACT_COLUMNS = tuple(getattr(ArtifactRow, c) for c in ARTIFACT_COLUMNS)


_STAGED = "zw_staged"


@dataclass
class _Staged:
    """What a write session learned, kept by the store if the session commits."""

    run_pipeline: dict[int, int] = field(default_factory=dict)
    step_run: dict[int, tuple[int, str]] = field(default_factory=dict)
    catalogued: set[tuple[int, str, str]] = field(default_factory=set)


def _staged(session: Session) -> _Staged:
    staged: _Staged = session.info.setdefault(_STAGED, _Staged())
    return staged


def _drop_staged(session: Session) -> None:
    session.info.pop(_STAGED, None)


class SqlStore:
    """Pipeline history in a SQL database (SQLite embedded, or PostgreSQL), via SQLAlchemy.

    Every method opens its own short session and returns frozen records, never ORM objects.
    Several writes can share one transaction with ``with store.transaction(): ...``.
    The schema is created or upgraded on open unless the caller checked it already
    (``schema_checked``).
    """

    def __init__(self, url: str, *, schema_checked: bool = False) -> None:
        self.url = url
        self.description = describe_url(url)
        self._engine = get_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self._engine.execution_options(zw_write=True), expire_on_commit=False
        )
        self._tx = threading.local()
        # Facts the writers of this process need again and that never change once committed:
        # a run's pipeline, a step's run and name, the run-value columns already catalogued.
        # Staged in the session and kept only when it commits (a rolled-back id may be reused).
        self._run_pipeline: dict[int, int] = {}
        self._step_run: dict[int, tuple[int, str]] = {}
        self._catalogued: set[tuple[int, str, str]] = set()
        event.listen(self._write_sessions, "after_commit", self._keep_staged)
        event.listen(self._write_sessions, "after_rollback", _drop_staged)
        if not schema_checked:
            with translate_errors(url, "opening the store"):
                ensure_schema(self._engine, self.description)

    def __repr__(self) -> str:
        return f"SqlStore({self.description!r})"

    def _keep_staged(self, session: Session) -> None:
        staged = session.info.pop(_STAGED, None)
        if staged is not None:
            self._run_pipeline.update(staged.run_pipeline)
            self._step_run.update(staged.step_run)
            self._catalogued |= staged.catalogued

    def _pipeline_of_run(self, s: Session, run_id: int) -> int:
        found = self._run_pipeline.get(run_id) or _staged(s).run_pipeline.get(run_id)
        if found is None:
            found = s.execute(select(RunRow.pipeline_id).where(RunRow.id == run_id)).scalar_one()
            _staged(s).run_pipeline[run_id] = found
        return found

    def _run_and_name_of_step(self, s: Session, step_id: int) -> tuple[int, str]:
        found = self._step_run.get(step_id) or _staged(s).step_run.get(step_id)
        if found is None:
            run_id, name = s.execute(
                select(StepRow.run_id, StepRow.name).where(StepRow.id == step_id)
            ).one()
            found = _staged(s).step_run[step_id] = (run_id, name)
        return found

    def _record_values(self, s: Session, **kwargs: Any) -> None:
        staged = _staged(s)
        written = run_table.record_values(
            s, **kwargs, catalogued=self._catalogued | staged.catalogued
        )
        staged.catalogued |= written

    def in_transaction(self) -> bool:
        """Whether this thread is inside ``transaction()`` (its reads must see its writes)."""
        return getattr(self._tx, "session", None) is not None

    # -- sessions ------------------------------------------------------------------------------

    @contextmanager
    def _read(self, action: str) -> Iterator[Session]:
        active: Session | None = getattr(self._tx, "session", None)
        if active is not None:
            yield active
            return
        with translate_errors(self.url, action), self._sessions() as session:
            yield session

    @contextmanager
    def _write(self, action: str) -> Iterator[Session]:
        active: Session | None = getattr(self._tx, "session", None)
        if active is not None:
            yield active
            return
        with translate_errors(self.url, action), self._write_sessions.begin() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes made inside the block into one transaction (per thread)."""
        if getattr(self._tx, "session", None) is not None:
            yield
            return
        with translate_errors(self.url, "writing"), self._write_sessions.begin() as session:
            self._tx.session = session
            try:
                yield
            finally:
                self._tx.session = None

    # -- pipelines -----------------------------------------------------------------------------

    def list_pipelines(self) -> list[PipelineRecord]:
        """All pipelines, ordered by name."""
        with self._read("listing pipelines") as s:
            rows = s.execute(
                select(PipelineRow.id, PipelineRow.name, PipelineRow.created_at).order_by(
                    PipelineRow.name
                )
            )
            return [pipeline_record(r) for r in rows]

    def get_pipeline(self, name: str) -> PipelineRecord | None:
        """The pipeline called ``name`` or ``None``."""
        with self._read(f"reading pipeline {name!r}") as s:
            r = s.execute(
                select(PipelineRow.id, PipelineRow.name, PipelineRow.created_at).where(
                    PipelineRow.name == name
                )
            ).first()
            return None if r is None else pipeline_record(r)

    def get_pipeline_by_id(self, pipeline_id: int) -> PipelineRecord:
        """The pipeline with this id."""
        with self._read("reading a pipeline") as s:
            r = s.execute(
                select(PipelineRow.id, PipelineRow.name, PipelineRow.created_at).where(
                    PipelineRow.id == pipeline_id
                )
            ).one()
            return pipeline_record(r)

    def get_or_create_pipeline(self, name: str) -> PipelineRecord:
        """The pipeline called ``name``, created if it does not exist yet."""
        found = self.get_pipeline(name)
        if found is not None:
            return found
        try:
            with self._write(f"creating pipeline {name!r}") as s:
                row = PipelineRow(name=name, created_at=utcnow())
                s.add(row)
                s.flush()
                return PipelineRecord(row.id, row.name, row.created_at)
        except StoreError as e:
            if isinstance(e.__cause__, IntegrityError):  # created meanwhile by another writer
                found = self.get_pipeline(name)
                if found is not None:
                    return found
            raise

    # -- runs ----------------------------------------------------------------------------------

    def count_runs(self, pipeline_id: int) -> int:
        """How many runs the pipeline has."""
        with self._read("counting runs") as s:
            stmt = select(func.count()).select_from(RunRow).where(RunRow.pipeline_id == pipeline_id)
            return int(s.execute(stmt).scalar_one())

    def list_runs(
        self,
        pipeline_id: int,
        *,
        offset: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
        name_contains: str | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
    ) -> list[RunRecord]:
        """A page of the pipeline's runs in start order, sorted and cut in SQL.

        ``name_contains`` matches case-insensitively on every backend (``ILIKE`` on PostgreSQL,
        ``lower() LIKE`` elsewhere; SQLite folds only ASCII letters) with ``%`` and ``_`` taken
        literally. ``before_id`` / ``after_id`` keep runs with a smaller / larger id (keyset).
        """
        stmt = select(*_RUN_COLUMNS).where(RunRow.pipeline_id == pipeline_id)
        if name_contains:
            stmt = stmt.where(RunRow.name.icontains(name_contains, autoescape=True))
        if before_id is not None:
            stmt = stmt.where(RunRow.id < before_id)
        if after_id is not None:
            stmt = stmt.where(RunRow.id > after_id)
        stmt = stmt.order_by(RunRow.id.desc() if newest_first else RunRow.id.asc())
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._read("listing runs") as s:
            return [run_record(r) for r in s.execute(stmt)]

    def get_run(self, run_id: int) -> RunRecord:
        """The run with this id."""
        with self._read("reading a run") as s:
            return run_record(s.execute(select(*_RUN_COLUMNS).where(RunRow.id == run_id)).one())

    def get_run_by_name(self, pipeline_id: int, name: str) -> RunRecord | None:
        """The pipeline's run called ``name`` or ``None``."""
        with self._read(f"reading run {name!r}") as s:
            r = s.execute(
                select(*_RUN_COLUMNS).where(RunRow.pipeline_id == pipeline_id, RunRow.name == name)
            ).first()
            return None if r is None else run_record(r)

    def list_run_names(self, pipeline_id: int, limit: int | None = None) -> list[str]:
        """Run names in start order (the newest ``limit`` if given)."""
        stmt = select(RunRow.name).where(RunRow.pipeline_id == pipeline_id)
        with self._read("listing run names") as s:
            if limit is None:
                return list(s.execute(stmt.order_by(RunRow.id)).scalars())
            newest = list(s.execute(stmt.order_by(RunRow.id.desc()).limit(limit)).scalars())
            return newest[::-1]

    def create_run(
        self, pipeline_id: int, name: str, *, pid: int | None, hostname: str | None
    ) -> RunRecord:
        """Record a new run as ``running``; a name already used in the pipeline is refused."""
        try:
            with self._write(f"creating run {name!r}") as s:
                s.connection()  # holds the write lock on SQLite: start times follow id order
                now = utcnow()
                row = RunRow(
                    pipeline_id=pipeline_id,
                    name=name,
                    status="running",
                    start_time=now,
                    heartbeat_at=now,
                    pid=pid,
                    hostname=hostname,
                )
                s.add(row)
                s.flush()
                _staged(s).run_pipeline[row.id] = pipeline_id
                return run_record(
                    (row.id, pipeline_id, name, "running", now, None, now, pid, hostname, None)
                )
        except StoreError as e:
            # Only a taken name is a clash; any other constraint failing stays a StoreError.
            if (
                isinstance(e.__cause__, IntegrityError)
                and self.get_run_by_name(pipeline_id, name) is not None
            ):
                raise RunNameClashError(
                    f"A run named {name!r} already exists in this pipeline; run names are unique "
                    "per pipeline. Pass another run_name, or None for a generated one."
                ) from e
            raise

    def finish_run(self, run_id: int, status: str, error: str | None = None) -> None:
        """Set the run's final ``status`` and end time."""
        with self._write("finishing a run") as s:
            s.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(status=status, end_time=utcnow(), error=error)
            )

    def heartbeat(self, run_id: int) -> None:
        """Record that the process running ``run_id`` is alive."""
        with self._write("recording a heartbeat") as s:
            s.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == "running")
                .values(heartbeat_at=utcnow())
            )

    # -- steps ---------------------------------------------------------------------------------

    def list_steps(self, run_id: int) -> list[StepRecord]:
        """The run's steps in execution order."""
        with self._read("listing steps") as s:
            stmt = select(*_STEP_COLUMNS).where(StepRow.run_id == run_id).order_by(StepRow.position)
            return [step_record(r) for r in s.execute(stmt)]

    def get_step_at(self, run_id: int, position: int) -> StepRecord | None:
        """The run's step at ``position``, or ``None`` if it was not recorded (yet)."""
        with self._read("reading a step") as s:
            stmt = select(*_STEP_COLUMNS).where(
                StepRow.run_id == run_id, StepRow.position == position
            )
            r = s.execute(stmt).first()
            return None if r is None else step_record(r)

    def restart_step(self, step_id: int) -> StepRecord:
        """Record a new attempt of a step whose worker died: ``running`` again, from now."""
        with self._write("restarting a step") as s:
            s.execute(
                update(StepRow)
                .where(StepRow.id == step_id)
                .values(status="running", start_time=utcnow(), end_time=None, error=None)
            )
        return self.get_step(step_id)

    def fail_running_steps(self, run_id: int, error: str) -> list[str]:
        """Mark the run's steps still ``running`` as failed with ``error``; their names."""
        with self._write("failing unfinished steps") as s:
            names = list(
                s.execute(
                    select(StepRow.name)
                    .where(StepRow.run_id == run_id, StepRow.status == "running")
                    .order_by(StepRow.position)
                ).scalars()
            )
            if names:
                s.execute(
                    update(StepRow)
                    .where(StepRow.run_id == run_id, StepRow.status == "running")
                    .values(status="failed", end_time=utcnow(), error=error)
                )
            return names

    def latest_earlier_steps(
        self, pipeline_id: int, before_run_id: int, names: Sequence[str], lookback: int
    ) -> dict[str, StepRecord]:
        """For each step name, the step of that name in the most recent of the pipeline's
        ``lookback`` runs before ``before_run_id`` that has one. One query for all names."""
        if not names:
            return {}
        recent = (
            select(RunRow.id)
            .where(RunRow.pipeline_id == pipeline_id, RunRow.id < before_run_id)
            .order_by(RunRow.id.desc())
            .limit(lookback)
            .subquery()
        )
        stmt = (
            select(*_STEP_COLUMNS)
            .where(StepRow.run_id.in_(select(recent.c.id)), StepRow.name.in_(list(names)))
            .order_by(StepRow.run_id.desc())
        )
        found: dict[str, StepRecord] = {}
        with self._read("looking up earlier steps") as s:
            for row in s.execute(stmt):
                record = step_record(row)
                found.setdefault(record.name, record)
                if len(found) == len(names):
                    break
        return found

    def get_step(self, step_id: int) -> StepRecord:
        """The step with this id."""
        with self._read("reading a step") as s:
            return step_record(s.execute(select(*_STEP_COLUMNS).where(StepRow.id == step_id)).one())

    def create_step(
        self,
        run_id: int,
        *,
        position: int,
        name: str,
        entrypoint_name: str,
        parameters: dict[str, Any],
        cache_key: str | None,
        code_hash: str | None,
        cache_enabled: bool | None = None,
    ) -> StepRecord:
        """Record a step as ``running`` (``cache_enabled``: whether it may reuse outputs)."""
        now = utcnow()
        params = json.dumps(parameters, sort_keys=True)
        with self._write(f"recording step {name!r}") as s:
            row = StepRow(
                run_id=run_id,
                position=position,
                name=name,
                entrypoint_name=entrypoint_name,
                parameters=params,
                status="running",
                start_time=now,
                cache_key=cache_key,
                code_hash=code_hash,
                cache_enabled=cache_enabled,
            )
            s.add(row)
            s.flush()
            _staged(s).step_run[row.id] = (run_id, name)
            values = parameter_values(parameters)
            if values:
                self._record_values(
                    s,
                    pipeline_id=self._pipeline_of_run(s, run_id),
                    run_id=run_id,
                    step_id=row.id,
                    step_name=name,
                    kind="param",
                    values=values,
                )
            return step_record(
                (
                    row.id,
                    run_id,
                    position,
                    name,
                    entrypoint_name,
                    params,
                    "running",
                    now,
                    None,
                    cache_key,
                    code_hash,
                    None,
                    None,
                    cache_enabled,
                )
            )

    def finish_step(
        self,
        step_id: int,
        status: str,
        *,
        outputs: Sequence[NewArtifact] = (),
        source_step_id: int | None = None,
        error: str | None = None,
    ) -> list[ArtifactRecord]:
        """Record the step's outputs and final ``status`` in one transaction."""
        now = utcnow()
        with self._write("finishing a step") as s:
            rows = [
                ArtifactRow(
                    step_id=step_id,
                    name=o.name,
                    uri=o.uri,
                    data_type=o.data_type,
                    materializer=o.materializer,
                    producer_step_id=o.producer_step_id or step_id,
                    is_cached=o.is_cached,
                    size_bytes=o.size_bytes,
                    created_at=now,
                    num_rows=o.shape[0],
                    num_columns=o.shape[1],
                )
                for o in outputs
            ]
            s.add_all(rows)
            s.execute(
                update(StepRow)
                .where(StepRow.id == step_id)
                .values(status=status, end_time=now, source_step_id=source_step_id, error=error)
            )
            s.flush()
            self._record_metrics(s, step_id, outputs)
            return [
                artifact_record(
                    (
                        r.id,
                        r.step_id,
                        r.name,
                        r.uri,
                        r.data_type,
                        r.materializer,
                        r.producer_step_id,
                        r.is_cached,
                        r.size_bytes,
                        now,
                        r.num_rows,
                        r.num_columns,
                    )
                )
                for r in rows
            ]

    def add_inputs(self, step_id: int, inputs: dict[str, int]) -> None:
        """Record lineage: input name -> artifact id."""
        if not inputs:
            return
        with self._write("recording step inputs") as s:
            s.add_all(
                StepInputRow(step_id=step_id, name=n, artifact_id=a) for n, a in inputs.items()
            )

    def find_cached_step(self, cache_key: str) -> StepRecord | None:
        """The newest finished step with this cache key, whose outputs can be reused."""
        stmt = (
            select(*_STEP_COLUMNS)
            .where(StepRow.cache_key == cache_key, StepRow.status.in_(("completed", "cached")))
            .order_by(StepRow.id.desc())
            .limit(1)
        )
        with self._read("looking up the cache") as s:
            r = s.execute(stmt).first()
            return None if r is None else step_record(r)

    # -- artifacts -----------------------------------------------------------------------------

    def list_outputs(self, step_id: int) -> list[ArtifactRecord]:
        """The step's outputs, in the order they were declared."""
        with self._read("listing outputs") as s:
            stmt = (
                select(*_ARTIFACT_COLUMNS)
                .where(ArtifactRow.step_id == step_id)
                .order_by(ArtifactRow.id)
            )
            return [artifact_record(r) for r in s.execute(stmt)]

    def runs_by_id(self, run_ids: Sequence[int]) -> dict[int, RunRecord]:
        """The runs with these ids that exist (ids of unknown runs are left out)."""
        found: dict[int, RunRecord] = {}
        with self._read("reading runs") as s:
            for start in range(0, len(run_ids), 500):
                batch = list(run_ids[start : start + 500])
                for row in s.execute(select(*_RUN_COLUMNS).where(RunRow.id.in_(batch))):
                    run = run_record(row)
                    found[run.id] = run
        return found

    def output_uris(self, run_ids: Sequence[int]) -> set[str]:
        """Every artifact URI the steps of these runs record."""
        uris: set[str] = set()
        with self._read("listing output URIs") as s:
            for start in range(0, len(run_ids), 500):
                batch = list(run_ids[start : start + 500])
                stmt = (
                    select(ArtifactRow.uri)
                    .join(StepRow, StepRow.id == ArtifactRow.step_id)
                    .where(StepRow.run_id.in_(batch))
                )
                uris.update(s.execute(stmt).scalars())
        return uris

    def list_inputs(self, step_id: int) -> list[InputRecord]:
        """The step's inputs with the artifacts they received."""
        with self._read("listing inputs") as s:
            stmt = (
                select(StepInputRow.name, *_ARTIFACT_COLUMNS)
                .join(ArtifactRow, ArtifactRow.id == StepInputRow.artifact_id)
                .where(StepInputRow.step_id == step_id)
                .order_by(StepInputRow.id)
            )
            return [InputRecord(r[0], artifact_record(r[1:])) for r in s.execute(stmt)]

    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        """The artifact with this id."""
        with self._read("reading an artifact") as s:
            stmt = select(*_ARTIFACT_COLUMNS).where(ArtifactRow.id == artifact_id)
            return artifact_record(s.execute(stmt).one())

    # -- runs as data: parameters and small outputs as run values ----------------------------

    def _record_metrics(self, s: Session, step_id: int, outputs: Sequence[NewArtifact]) -> None:
        if not outputs:
            return
        step = self._run_and_name_of_step(s, step_id)
        for o in outputs:
            if o.values:
                self._record_values(
                    s,
                    pipeline_id=self._pipeline_of_run(s, step[0]),
                    run_id=step[0],
                    step_id=step_id,
                    step_name=step[1],
                    kind="metric",
                    values=o.values,
                    output_name=o.name,
                )
            elif o.is_cached and o.producer_step_id is not None:
                run_table.copy_metrics(
                    s,
                    source_step_id=o.producer_step_id,
                    output_name=o.name,
                    run_id=step[0],
                    step_id=step_id,
                    step_name=step[1],
                )

    def record_values(
        self,
        step_id: int,
        *,
        parameters: dict[str, Any] | None = None,
        outputs: dict[str, dict[str, Scalar]] | None = None,
    ) -> None:
        """Record run values of an existing step (backfilling stores older than schema 0004).

        Values the run already has are kept; ``outputs`` maps output name to its values.
        """
        with self._write("recording run values") as s:
            run_id, name, params_json = s.execute(
                select(StepRow.run_id, StepRow.name, StepRow.parameters).where(
                    StepRow.id == step_id
                )
            ).one()
            pipeline_id = s.execute(
                select(RunRow.pipeline_id).where(RunRow.id == run_id)
            ).scalar_one()
            common: dict[str, Any] = {
                "pipeline_id": pipeline_id,
                "run_id": run_id,
                "step_id": step_id,
            }
            params = parameter_values(json.loads(params_json) if parameters is None else parameters)
            run_table.record_values(s, **common, step_name=name, kind="param", values=params)
            for output_name, values in (outputs or {}).items():
                run_table.record_values(
                    s,
                    **common,
                    step_name=name,
                    kind="metric",
                    values=values,
                    output_name=output_name,
                )

    def steps_without_values(self, *, after_id: int = 0, limit: int = 1000) -> list[StepRecord]:
        """Steps (in id order, after ``after_id``) that have no run values yet."""
        from zenml_widgets.store.models import RunValueRow

        stmt = (
            select(*_STEP_COLUMNS)
            .where(
                StepRow.id > after_id,
                ~select(RunValueRow.id).where(RunValueRow.step_id == StepRow.id).exists(),
            )
            .order_by(StepRow.id)
            .limit(limit)
        )
        with self._read("listing steps to backfill") as s:
            return [step_record(r) for r in s.execute(stmt)]

    def count_steps(self) -> int:
        """How many steps the store holds (for progress bars)."""
        with self._read("counting steps") as s:
            return int(s.execute(select(func.count()).select_from(StepRow)).scalar_one())

    def list_value_columns(
        self, pipeline_ids: Sequence[int] | None
    ) -> list[tuple[str, str, tuple[str, ...]]]:
        """``(name, kind, value types)`` of the run-value columns of these pipelines
        (``None``: all). Parameters first, then metrics, each sorted by name; the value types
        (``bool``, ``int``, ``float``, ``str``) are every type any run recorded."""
        with self._read("listing run-value columns") as s:
            return run_table.value_columns(s, pipeline_ids)

    def query_run_table(
        self,
        pipeline_ids: Sequence[int] | None,
        *,
        columns: Sequence[tuple[str, str]],
        filters: Sequence[RunFilter] = (),
        sort: str = "start",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> RunTableRecord:
        """Runs of these pipelines as rows, filtered, sorted and limited in SQL.

        ``columns`` are ``(name, kind)`` pairs (kind ``builtin``, ``param`` or ``metric``) that
        the caller checked against :meth:`list_value_columns`. Ties keep start order and runs
        missing the sort column come last.
        """
        with self._read("querying the runs table") as s:
            return run_table.query(
                s,
                pipeline_ids,
                columns=columns,
                filters=filters,
                sort=sort,
                descending=descending,
                limit=limit,
                offset=offset,
            )

    def count_run_table(
        self, pipeline_ids: Sequence[int] | None, filters: Sequence[RunFilter] = ()
    ) -> int:
        """How many runs of these pipelines match every filter."""
        with self._read("counting the runs table") as s:
            return run_table.count(s, pipeline_ids, filters)
