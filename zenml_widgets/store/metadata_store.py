"""``MetadataStore``: every read and write of pipeline history, returning frozen records.

Two paths behind one class. Writes, the runs table, migrations, PostgreSQL, and reads inside a
transaction go through SQLAlchemy (:class:`~zenml_widgets.store.sql_store.SqlStore`, created on
first need). The history reads of an SQLite file already at the newest schema go through
``sqlite3`` (:class:`~zenml_widgets.store.sqlite_reader.SqliteReader`): a fresh process that only
looks at history (``zenml-widgets runs``, ``runs[-1]``) never imports SQLAlchemy, whose import
alone costs more than the rest of such a process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import StoreError
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
from zenml_widgets.store.rows import utcnow
from zenml_widgets.store.schema import HEAD
from zenml_widgets.store.sqlite_reader import SqliteReader, plain_sqlite_path

if TYPE_CHECKING:
    from pathlib import Path

    from zenml_widgets.store.sql_store import SqlStore
    from zenml_widgets.store.values import Scalar

__all__ = ["MetadataStore", "utcnow"]


class MetadataStore:
    """Pipeline history in a SQL database (SQLite embedded, or PostgreSQL).

    Every method returns frozen records, never ORM objects. Several writes can share one
    transaction with ``with store.transaction(): ...``. The schema is created or upgraded on
    open. With ``create=False`` a SQLite file that does not exist is an error instead of a new
    empty store (it was deleted or moved).
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        self._sql_store: SqlStore | None = None
        self._sql_lock = threading.Lock()
        self._reader: SqliteReader | None = None
        plain = plain_sqlite_path(url)
        path = plain if plain is not None else _sqlite_file(url)
        if not create and path is not None and not path.exists():
            raise StoreError(
                f"The SQLite metadata store {str(path)!r} does not exist: it was deleted or "
                "moved. Restore the file, or point the stack at another store "
                "(zenml-widgets stack register ...). Running a pipeline creates a new, empty one."
            )
        if plain is None:
            self.description = self._sql().description
            return
        # A plain SQLite URL renders as itself (no password to hide).
        self.description = url
        reader = SqliteReader(plain, url)
        if plain.exists() and _revision(reader) == HEAD:
            self._reader = reader  # nothing to create or upgrade: no SQLAlchemy yet
            return
        reader.close()
        self._sql()  # creates or upgrades the schema, or reports why it cannot
        self._reader = SqliteReader(plain, url)

    def __repr__(self) -> str:
        return f"MetadataStore({self.description!r})"

    def _sql(self) -> SqlStore:
        """The SQLAlchemy store, created (and SQLAlchemy imported) on first need."""
        store = self._sql_store
        if store is None:
            with self._sql_lock:
                store = self._sql_store
                if store is None:
                    from zenml_widgets.store.sql_store import SqlStore

                    store = SqlStore(self.url, schema_checked=self._reader is not None)
                    self._sql_store = store
        return store

    def _fast(self) -> SqliteReader | None:
        """The sqlite3 reader, unless this thread is in a transaction (whose writes its reads
        must see)."""
        sql = self._sql_store
        if sql is not None and sql.in_transaction():
            return None
        return self._reader

    def close(self) -> None:
        """Close the sqlite3 read connections (the engine is closed by ``dispose_engines``)."""
        if self._reader is not None:
            self._reader.close()

    def trace_statements(self, callback: Callable[[str], None] | None) -> None:
        """Call ``callback(sql)`` for every statement the sqlite3 read path runs from now on
        (tests count queries; SQLAlchemy's are seen through the engine's events)."""
        if self._reader is not None:
            self._reader.trace(callback)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes made inside the block into one transaction (per thread)."""
        with self._sql().transaction():
            yield

    # -- pipelines -----------------------------------------------------------------------------

    def list_pipelines(self) -> list[PipelineRecord]:
        """All pipelines, ordered by name."""
        fast = self._fast()
        return fast.list_pipelines() if fast else self._sql().list_pipelines()

    def get_pipeline(self, name: str) -> PipelineRecord | None:
        """The pipeline called ``name`` or ``None``."""
        fast = self._fast()
        return fast.get_pipeline(name) if fast else self._sql().get_pipeline(name)

    def get_pipeline_by_id(self, pipeline_id: int) -> PipelineRecord:
        """The pipeline with this id."""
        fast = self._fast()
        if fast:
            return fast.get_pipeline_by_id(pipeline_id)
        return self._sql().get_pipeline_by_id(pipeline_id)

    def get_or_create_pipeline(self, name: str) -> PipelineRecord:
        """The pipeline called ``name``, created if it does not exist yet."""
        found = self.get_pipeline(name)
        return found if found is not None else self._sql().get_or_create_pipeline(name)

    # -- runs ----------------------------------------------------------------------------------

    def count_runs(self, pipeline_id: int) -> int:
        """How many runs the pipeline has."""
        fast = self._fast()
        return fast.count_runs(pipeline_id) if fast else self._sql().count_runs(pipeline_id)

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
        fast = self._fast()
        return (fast or self._sql()).list_runs(
            pipeline_id,
            offset=offset,
            limit=limit,
            newest_first=newest_first,
            name_contains=name_contains,
            before_id=before_id,
            after_id=after_id,
        )

    def get_run(self, run_id: int) -> RunRecord:
        """The run with this id."""
        fast = self._fast()
        return fast.get_run(run_id) if fast else self._sql().get_run(run_id)

    def get_run_by_name(self, pipeline_id: int, name: str) -> RunRecord | None:
        """The pipeline's run called ``name`` or ``None``."""
        fast = self._fast()
        return (fast or self._sql()).get_run_by_name(pipeline_id, name)

    def list_run_names(self, pipeline_id: int, limit: int | None = None) -> list[str]:
        """Run names in start order (the newest ``limit`` if given)."""
        fast = self._fast()
        return (fast or self._sql()).list_run_names(pipeline_id, limit)

    def create_run(
        self, pipeline_id: int, name: str, *, pid: int | None, hostname: str | None
    ) -> RunRecord:
        """Record a new run as ``running``; a name already used in the pipeline is refused."""
        return self._sql().create_run(pipeline_id, name, pid=pid, hostname=hostname)

    def finish_run(self, run_id: int, status: str, error: str | None = None) -> None:
        """Set the run's final ``status`` and end time."""
        self._sql().finish_run(run_id, status, error)

    def heartbeat(self, run_id: int) -> None:
        """Record that the process running ``run_id`` is alive."""
        self._sql().heartbeat(run_id)

    # -- steps ---------------------------------------------------------------------------------

    def list_steps(self, run_id: int) -> list[StepRecord]:
        """The run's steps in execution order."""
        fast = self._fast()
        return fast.list_steps(run_id) if fast else self._sql().list_steps(run_id)

    def get_step_at(self, run_id: int, position: int) -> StepRecord | None:
        """The run's step at ``position``, or ``None`` if it was not recorded (yet)."""
        fast = self._fast()
        return (fast or self._sql()).get_step_at(run_id, position)

    def restart_step(self, step_id: int) -> StepRecord:
        """Record a new attempt of a step whose worker died: ``running`` again, from now."""
        return self._sql().restart_step(step_id)

    def fail_running_steps(self, run_id: int, error: str) -> list[str]:
        """Mark the run's steps still ``running`` as failed with ``error``; their names."""
        return self._sql().fail_running_steps(run_id, error)

    def latest_earlier_steps(
        self, pipeline_id: int, before_run_id: int, names: Sequence[str], lookback: int
    ) -> dict[str, StepRecord]:
        """For each step name, the step of that name in the most recent of the pipeline's
        ``lookback`` runs before ``before_run_id`` that has one. One query for all names."""
        return self._sql().latest_earlier_steps(pipeline_id, before_run_id, names, lookback)

    def get_step(self, step_id: int) -> StepRecord:
        """The step with this id."""
        fast = self._fast()
        return fast.get_step(step_id) if fast else self._sql().get_step(step_id)

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
        return self._sql().create_step(
            run_id,
            position=position,
            name=name,
            entrypoint_name=entrypoint_name,
            parameters=parameters,
            cache_key=cache_key,
            code_hash=code_hash,
            cache_enabled=cache_enabled,
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
        return self._sql().finish_step(
            step_id, status, outputs=outputs, source_step_id=source_step_id, error=error
        )

    def add_inputs(self, step_id: int, inputs: dict[str, int]) -> None:
        """Record lineage: input name -> artifact id."""
        if inputs:
            self._sql().add_inputs(step_id, inputs)

    def find_cached_step(self, cache_key: str) -> StepRecord | None:
        """The newest finished step with this cache key, whose outputs can be reused."""
        return self._sql().find_cached_step(cache_key)

    # -- artifacts -----------------------------------------------------------------------------

    def list_outputs(self, step_id: int) -> list[ArtifactRecord]:
        """The step's outputs, in the order they were declared."""
        fast = self._fast()
        return fast.list_outputs(step_id) if fast else self._sql().list_outputs(step_id)

    def runs_by_id(self, run_ids: Sequence[int]) -> dict[int, RunRecord]:
        """The runs with these ids that exist (ids of unknown runs are left out)."""
        return self._sql().runs_by_id(run_ids)

    def output_uris(self, run_ids: Sequence[int]) -> set[str]:
        """Every artifact URI the steps of these runs record."""
        return self._sql().output_uris(run_ids)

    def list_inputs(self, step_id: int) -> list[InputRecord]:
        """The step's inputs with the artifacts they received."""
        fast = self._fast()
        return fast.list_inputs(step_id) if fast else self._sql().list_inputs(step_id)

    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        """The artifact with this id."""
        fast = self._fast()
        return fast.get_artifact(artifact_id) if fast else self._sql().get_artifact(artifact_id)

    # -- runs as data: parameters and small outputs as run values ----------------------------

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
        self._sql().record_values(step_id, parameters=parameters, outputs=outputs)

    def steps_without_values(self, *, after_id: int = 0, limit: int = 1000) -> list[StepRecord]:
        """Steps (in id order, after ``after_id``) that have no run values yet."""
        return self._sql().steps_without_values(after_id=after_id, limit=limit)

    def count_steps(self) -> int:
        """How many steps the store holds (for progress bars)."""
        return self._sql().count_steps()

    def list_value_columns(
        self, pipeline_ids: Sequence[int] | None
    ) -> list[tuple[str, str, tuple[str, ...]]]:
        """``(name, kind, value types)`` of the run-value columns of these pipelines
        (``None``: all). Parameters first, then metrics, each sorted by name; the value types
        (``bool``, ``int``, ``float``, ``str``) are every type any run recorded."""
        return self._sql().list_value_columns(pipeline_ids)

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
        return self._sql().query_run_table(
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
        return self._sql().count_run_table(pipeline_ids, filters)


def _sqlite_file(url: str) -> Path | None:
    from zenml_widgets.store.engine import sqlite_file

    return sqlite_file(url)


def _revision(reader: SqliteReader) -> str | None:
    """The revision read with sqlite3; ``""`` if it could not be read (SQLAlchemy will say
    why when it opens the store)."""
    try:
        return reader.revision()
    except sqlite3.Error:
        return ""
