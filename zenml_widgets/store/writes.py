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

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.store import run_tags, run_values
from zenml_widgets.store.connection import ConstraintError
from zenml_widgets.store.reads import HistoryReads
from zenml_widgets.store.records import (
    ArtifactRecord,
    NewArtifact,
    PipelineRecord,
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
    # runs started by this process: run id -> the process id that started it
    own_runs: dict[int, int] = field(default_factory=dict)

    def merge(self, other: _Known) -> None:
        self.run_pipeline.update(other.run_pipeline)
        self.step_run.update(other.step_run)
        self.catalogued |= other.catalogued
        self.own_runs.update(other.own_runs)


class HistoryWrites(HistoryReads):
    """The writes of :class:`~zenml_widgets.store.MetadataStore` (and its reads, which they
    use)."""

    _known: _Known
    description: str

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

    # -- pipelines -----------------------------------------------------------------------------

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

    # -- steps ---------------------------------------------------------------------------------

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

    # -- tags: the writes of the read API -------------------------------------------------------

    def set_run_tag(self, run_id: int, key: str, value: str = "") -> None:
        """Set (or overwrite) tag ``key`` of run ``run_id``: one statement, which also checks
        the run exists (``NotFoundError`` otherwise). ``ValueError`` / ``TypeError`` for a key
        or value that cannot be a tag (:func:`~zenml_widgets.store.run_tags.check_tag`)."""
        key, value = run_tags.check_tag(key, value)
        if not run_tags.set_tag(self._read(), run_id, key, value):
            raise NotFoundError(f"No run with id {run_id} in {self.description}: it was deleted.")

    def remove_run_tag(self, run_id: int, key: str) -> bool:
        """Remove tag ``key`` of run ``run_id``: one statement; whether the run had it."""
        return run_tags.remove_tag(self._read(), run_id, key)

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


def insert_artifact(conn: Connection, step_id: int, o: NewArtifact, now: Any) -> ArtifactRecord:
    """Record output ``o`` of step ``step_id``."""
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
