"""Every write of pipeline history, each in a transaction of this thread's connection.

Several writes share one transaction inside ``with store.transaction(): ...``. Facts that never
change once committed and that writers need again (a run's pipeline, a step's run and name, the
run-value columns already catalogued) are looked up once per process, and remembered only when
their transaction commits (a rolled-back id may be reused).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import RunNameClashError
from zenml_widgets.store import run_values
from zenml_widgets.store.connection import ConstraintError
from zenml_widgets.store.reads import HistoryReads
from zenml_widgets.store.records import (
    ArtifactRecord,
    NewArtifact,
    PipelineRecord,
    RunRecord,
    StepRecord,
    utcnow,
)
from zenml_widgets.store.sql import Sql
from zenml_widgets.store.values import Scalar, parameter_values

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection


@dataclass
class _Known:
    """Facts the writers of this process looked up or wrote."""

    run_pipeline: dict[int, int] = field(default_factory=dict)
    step_run: dict[int, tuple[int, str]] = field(default_factory=dict)
    catalogued: set[run_values.Catalogued] = field(default_factory=set)

    def merge(self, other: _Known) -> None:
        self.run_pipeline.update(other.run_pipeline)
        self.step_run.update(other.step_run)
        self.catalogued |= other.catalogued


class HistoryWrites(HistoryReads):
    """The writes of :class:`~zenml_widgets.store.MetadataStore` (and its reads, which they
    use)."""

    _known: _Known

    @contextmanager
    def _write(self, action: str) -> Iterator[tuple[Connection, _Known]]:
        """This thread's connection inside a transaction, and the facts it learns (kept once
        the outermost transaction commits)."""
        conn = self._read()
        staged = _Known()
        with conn.transaction(action):
            yield conn, staged
            conn.after_commit(lambda: self._known.merge(staged))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes made inside the block into one transaction (per thread)."""
        with self._read().transaction():
            yield

    # -- pipelines and runs --------------------------------------------------------------------

    def get_or_create_pipeline(self, name: str) -> PipelineRecord:
        """The pipeline called ``name``, created if it does not exist yet."""
        found = self.get_pipeline(name)
        if found is not None:
            return found
        try:
            with self._write(f"creating pipeline {name!r}") as (conn, _):
                now = utcnow()
                sql = Sql(
                    "INSERT INTO pipelines (name, created_at) VALUES (?, ?) RETURNING id",
                    (name, now),
                )
                pipeline_id = int(conn.scalar(f"creating pipeline {name!r}", sql))
                return PipelineRecord(id=pipeline_id, name=name, created_at=now)
        except ConstraintError:  # created meanwhile by another writer
            found = self.get_pipeline(name)
            if found is not None:
                return found
            raise

    def create_run(
        self, pipeline_id: int, name: str, *, pid: int | None, hostname: str | None
    ) -> RunRecord:
        """Record a new run as ``running``; a name already used in the pipeline is refused."""
        action = f"creating run {name!r}"
        try:
            with self._write(action) as (conn, staged):
                now = utcnow()  # after BEGIN IMMEDIATE on SQLite: start times follow id order
                sql = Sql(
                    "INSERT INTO runs (pipeline_id, name, status, start_time, heartbeat_at, pid, "
                    "hostname) VALUES (?, ?, 'running', ?, ?, ?, ?) RETURNING id",
                    (pipeline_id, name, now, now, pid, hostname),
                )
                run_id = int(conn.scalar(action, sql))
                staged.run_pipeline[run_id] = pipeline_id
                return RunRecord(
                    id=run_id, pipeline_id=pipeline_id, name=name, status="running",
                    start_time=now, end_time=None, heartbeat_at=now, pid=pid, hostname=hostname,
                    error=None,
                )  # fmt: skip
        except ConstraintError as e:
            # Only a taken name is a clash; any other constraint failing stays a StoreError.
            if self.get_run_by_name(pipeline_id, name) is not None:
                raise RunNameClashError(
                    f"A run named {name!r} already exists in this pipeline; run names are unique "
                    "per pipeline. Pass another run_name, or None for a generated one."
                ) from e
            raise

    def finish_run(self, run_id: int, status: str, error: str | None = None) -> None:
        """Set the run's final ``status`` and end time."""
        with self._write("finishing a run") as (conn, _):
            conn.execute(
                "finishing a run",
                Sql(
                    "UPDATE runs SET status = ?, end_time = ?, error = ? WHERE id = ?",
                    (status, utcnow(), error, run_id),
                ),
            )

    def heartbeat(self, run_id: int) -> None:
        """Record that the process running ``run_id`` is alive."""
        with self._write("recording a heartbeat") as (conn, _):
            conn.execute(
                "recording a heartbeat",
                Sql(
                    "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'",
                    (utcnow(), run_id),
                ),
            )

    # -- steps ---------------------------------------------------------------------------------

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
        action = f"recording step {name!r}"
        params = json.dumps(parameters, sort_keys=True)
        with self._write(action) as (conn, staged):
            now = utcnow()
            sql = Sql(
                "INSERT INTO steps (run_id, position, name, entrypoint_name, parameters, status, "
                "start_time, cache_key, code_hash, cache_enabled) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?) RETURNING id",
                (run_id, position, name, entrypoint_name, params, now, cache_key, code_hash,
                 cache_enabled),
            )  # fmt: skip
            step_id = int(conn.scalar(action, sql))
            staged.step_run[step_id] = (run_id, name)
            values = parameter_values(parameters)
            if values:
                staged.catalogued |= run_values.record_values(
                    conn,
                    pipeline_id=self._pipeline_of_run(conn, staged, run_id),
                    run_id=run_id,
                    step_id=step_id,
                    step_name=name,
                    kind="param",
                    values=values,
                    catalogued=self._known.catalogued | staged.catalogued,
                )
        return StepRecord(
            id=step_id, run_id=run_id, position=position, name=name,
            entrypoint_name=entrypoint_name, parameters=json.loads(params), status="running",
            start_time=now, end_time=None, cache_key=cache_key, code_hash=code_hash,
            source_step_id=None, error=None, cache_enabled=cache_enabled,
        )  # fmt: skip

    def restart_step(self, step_id: int) -> StepRecord:
        """Record a new attempt of a step whose worker died: ``running`` again, from now."""
        with self._write("restarting a step") as (conn, _):
            conn.execute(
                "restarting a step",
                Sql(
                    "UPDATE steps SET status = 'running', start_time = ?, end_time = NULL, "
                    "error = NULL WHERE id = ?",
                    (utcnow(), step_id),
                ),
            )
        return self.get_step(step_id)

    def fail_running_steps(self, run_id: int, error: str) -> list[str]:
        """Mark the run's steps still ``running`` as failed with ``error``; their names."""
        action = "failing unfinished steps"
        with self._write(action) as (conn, _):
            rows = conn.rows(
                action,
                Sql(
                    "SELECT name FROM steps WHERE run_id = ? AND status = 'running' "
                    "ORDER BY position",
                    (run_id,),
                ),
            )
            if rows:
                conn.execute(
                    action,
                    Sql(
                        "UPDATE steps SET status = 'failed', end_time = ?, error = ? "
                        "WHERE run_id = ? AND status = 'running'",
                        (utcnow(), error, run_id),
                    ),
                )
            return [r[0] for r in rows]

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
        action = "finishing a step"
        with self._write(action) as (conn, staged):
            now = utcnow()
            records = [_insert_artifact(conn, step_id, o, now) for o in outputs]
            conn.execute(
                action,
                Sql(
                    "UPDATE steps SET status = ?, end_time = ?, source_step_id = ?, error = ? "
                    "WHERE id = ?",
                    (status, now, source_step_id, error, step_id),
                ),
            )
            if outputs:
                self._record_metrics(conn, staged, step_id, outputs)
        return records

    def add_inputs(self, step_id: int, inputs: dict[str, int]) -> None:
        """Record lineage: input name -> artifact id."""
        if not inputs:
            return
        with self._write("recording step inputs") as (conn, _):
            conn.execute_many(
                "recording step inputs",
                Sql("INSERT INTO step_inputs (step_id, name, artifact_id) VALUES (?, ?, ?)"),
                [(step_id, n, a) for n, a in inputs.items()],
            )

    # -- run values ----------------------------------------------------------------------------

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
        action = "recording run values"
        with self._write(action) as (conn, _):
            run_id, name, params_json, pipeline_id = conn.one(
                action,
                Sql(
                    "SELECT steps.run_id, steps.name, steps.parameters, runs.pipeline_id "
                    "FROM steps JOIN runs ON runs.id = steps.run_id WHERE steps.id = ?",
                    (step_id,),
                ),
            )
            common: dict[str, Any] = {
                "pipeline_id": pipeline_id,
                "run_id": run_id,
                "step_id": step_id,
                "step_name": name,
            }
            params = parameter_values(json.loads(params_json) if parameters is None else parameters)
            run_values.record_values(conn, **common, kind="param", values=params)
            for output_name, values in (outputs or {}).items():
                run_values.record_values(
                    conn, **common, kind="metric", values=values, output_name=output_name
                )

    def _record_metrics(
        self, conn: Connection, staged: _Known, step_id: int, outputs: Sequence[NewArtifact]
    ) -> None:
        run_id, step_name = self._run_and_name_of_step(conn, staged, step_id)
        common: dict[str, Any] = {
            "pipeline_id": self._pipeline_of_run(conn, staged, run_id),
            "run_id": run_id,
            "step_id": step_id,
            "step_name": step_name,
        }
        for o in outputs:
            known = self._known.catalogued | staged.catalogued
            if o.values:
                staged.catalogued |= run_values.record_values(
                    conn, **common, kind="metric", values=o.values, output_name=o.name,
                    catalogued=known,
                )  # fmt: skip
            elif o.is_cached and o.producer_step_id is not None:
                staged.catalogued |= run_values.copy_metrics(
                    conn, **common, source_step_id=o.producer_step_id, output_name=o.name,
                    catalogued=known,
                )  # fmt: skip

    def _pipeline_of_run(self, conn: Connection, staged: _Known, run_id: int) -> int:
        found = self._known.run_pipeline.get(run_id) or staged.run_pipeline.get(run_id)
        if found is None:
            found = int(
                conn.scalar(
                    "reading a run's pipeline",
                    Sql("SELECT runs.pipeline_id FROM runs WHERE runs.id = ?", (run_id,)),
                )
            )
            staged.run_pipeline[run_id] = found
        return found

    def _run_and_name_of_step(
        self, conn: Connection, staged: _Known, step_id: int
    ) -> tuple[int, str]:
        found = self._known.step_run.get(step_id) or staged.step_run.get(step_id)
        if found is None:
            run_id, name = conn.one(
                "reading a step's run",
                Sql("SELECT steps.run_id, steps.name FROM steps WHERE steps.id = ?", (step_id,)),
            )
            found = staged.step_run[step_id] = (int(run_id), str(name))
        return found


def _insert_artifact(conn: Connection, step_id: int, o: NewArtifact, now: Any) -> ArtifactRecord:
    producer = o.producer_step_id or step_id
    sql = Sql(
        "INSERT INTO artifacts (step_id, name, uri, data_type, materializer, producer_step_id, "
        "is_cached, size_bytes, created_at, num_rows, num_columns) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (step_id, o.name, o.uri, o.data_type, o.materializer, producer, o.is_cached,
         o.size_bytes, now, o.shape[0], o.shape[1]),
    )  # fmt: skip
    artifact_id = int(conn.scalar("recording an output", sql))
    return ArtifactRecord(
        id=artifact_id, step_id=step_id, name=o.name, uri=o.uri, data_type=o.data_type,
        materializer=o.materializer, producer_step_id=producer, is_cached=o.is_cached,
        size_bytes=o.size_bytes, created_at=now, num_rows=o.shape[0], num_columns=o.shape[1],
    )  # fmt: skip
