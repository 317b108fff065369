"""Reads of an SQLite store with the standard library's ``sqlite3``, without SQLAlchemy.

Importing SQLAlchemy costs about a quarter of a second, more than everything else a fresh
``zenml-widgets runs`` or ``Repository(...).get_pipeline(p).runs[-1]`` does. So
:class:`~zenml_widgets.store.MetadataStore` answers the history reads (pipelines, runs, steps,
outputs, inputs) of an SQLite file already at the newest schema with the plain queries here, and
imports SQLAlchemy only for writes, the runs table, migrations and other databases. The queries
are those :class:`~zenml_widgets.store.sql_store.SqlStore` builds, and their rows become records
through the same functions (:mod:`zenml_widgets.store.rows`); tests compare both paths.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zenml_widgets.exceptions import StoreError
from zenml_widgets.store.records import (
    ArtifactRecord,
    InputRecord,
    PipelineRecord,
    RunRecord,
    StepRecord,
)
from zenml_widgets.store.rows import (
    ARTIFACT_COLUMNS,
    PIPELINE_COLUMNS,
    RUN_COLUMNS,
    STEP_COLUMNS,
    artifact_record,
    pipeline_record,
    run_record,
    step_record,
)

BUSY_TIMEOUT_S = 60.0  # as the SQLAlchemy engine's (engine.SQLITE_BUSY_TIMEOUT_MS)
_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")

_PIPELINE = ", ".join(PIPELINE_COLUMNS)
_RUN = ", ".join(RUN_COLUMNS)
_STEP = ", ".join(STEP_COLUMNS)
_ARTIFACT = ", ".join(f"artifacts.{c}" for c in ARTIFACT_COLUMNS)


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced (the base class cannot)."""


def plain_sqlite_path(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:///relative.db``, ``sqlite:////abs/path.db``).

    ``None`` for anything this module leaves to SQLAlchemy: other databases, in-memory and
    ``file:`` URIs, query options, and paths whose reading SQLAlchemy might decode (``%``,
    ``@``...). For the URLs it accepts, SQLAlchemy's ``make_url(url).database`` is the same path
    and its rendering of the URL is the URL itself.
    """
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            if not rest or rest == ":memory:" or rest.startswith("file:"):
                return None
            if any(c in rest for c in "?#%@\\") or any(ord(c) < 32 for c in rest):
                return None
            return Path(rest)
    return None


class SqliteReader:
    """Read-only queries of one SQLite file, one ``sqlite3`` connection per thread (and
    process: a forked child opens its own). Errors become ``StoreError`` as SQLAlchemy's do."""

    def __init__(self, path: Path, description: str) -> None:
        self.path = path
        self.description = description
        self._local = threading.local()
        self._lock = threading.Lock()
        # every open connection -> the pid that opened it; weak, so a finished thread's goes
        self._connections: weakref.WeakKeyDictionary[_Connection, int] = weakref.WeakKeyDictionary()
        self._generation = 0
        self._trace: Callable[[str], None] | None = None

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        key = (os.getpid(), self._generation)
        if getattr(local, "key", None) != key:
            # autocommit (each SELECT its own read transaction), as the engine's connections;
            # the connection is used by this thread only, but close() may run in another.
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
                factory=_Connection,
            )
            with self._lock:
                self._connections[conn] = key[0]
                conn.set_trace_callback(self._trace)
            local.conn, local.key = conn, key
        connection: sqlite3.Connection = local.conn
        return connection

    def trace(self, callback: Callable[[str], None] | None) -> None:
        """Call ``callback(sql)`` for every statement from now on (``None``: stop)."""
        with self._lock:
            self._trace = callback
            for conn, pid in list(self._connections.items()):
                if pid == os.getpid():
                    conn.set_trace_callback(callback)

    def close(self) -> None:
        """Close every connection (threads reopen theirs on their next read). A forked child
        leaves its parent's connections alone, as SQLite asks."""
        with self._lock:
            connections = list(self._connections.items())
            self._connections.clear()
            self._generation += 1
        for conn, pid in connections:
            if pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):  # in use by its thread right now
                    conn.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as e:
            # as engine.translate_errors: the environment, one clear line, driver error kept
            error = StoreError(
                f"Metadata store {self.description} failed while {action}: {_reason(e)}"
            )
            error.original = e
            raise error from None
        except sqlite3.Error as e:
            raise StoreError(
                f"Metadata store {self.description} failed while {action}: {_reason(e)}"
            ) from e

    def _all(self, action: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._errors(action):
            return self._connection().execute(sql, params).fetchall()

    def _first(self, action: str, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._all(action, sql, params)
        return rows[0] if rows else None

    def _one(self, action: str, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._all(action, sql, params)
        if len(rows) != 1:
            # what SQLAlchemy's Result.one() raises, translated the same way
            found = (
                "No row was found when one was required"
                if not rows
                else "Multiple rows were found when exactly one was required"
            )
            raise StoreError(f"Metadata store {self.description} failed while {action}: {found}")
        return rows[0]

    # -- schema --------------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The store's Alembic revision, ``None`` for a database without one.

        Raises ``sqlite3.Error`` as it is (the caller then opens the store through SQLAlchemy,
        which reports the problem as it always has)."""
        conn = self._connection()
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if found is None:
            return None
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        if len(rows) > 1:
            raise sqlite3.DatabaseError("alembic_version has more than one row")
        return rows[0][0] if rows else None

    # -- pipelines -----------------------------------------------------------------------------

    def list_pipelines(self) -> list[PipelineRecord]:
        sql = f"SELECT {_PIPELINE} FROM pipelines ORDER BY name"
        return [pipeline_record(r) for r in self._all("listing pipelines", sql)]

    def get_pipeline(self, name: str) -> PipelineRecord | None:
        sql = f"SELECT {_PIPELINE} FROM pipelines WHERE name = ?"
        r = self._first(f"reading pipeline {name!r}", sql, (name,))
        return None if r is None else pipeline_record(r)

    def get_pipeline_by_id(self, pipeline_id: int) -> PipelineRecord:
        sql = f"SELECT {_PIPELINE} FROM pipelines WHERE id = ?"
        return pipeline_record(self._one("reading a pipeline", sql, (pipeline_id,)))

    # -- runs ----------------------------------------------------------------------------------

    def count_runs(self, pipeline_id: int) -> int:
        sql = "SELECT count(*) FROM runs WHERE pipeline_id = ?"
        return int(self._one("counting runs", sql, (pipeline_id,))[0])

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
        where = ["pipeline_id = ?"]
        params: list[Any] = [pipeline_id]
        if name_contains:
            # SQLAlchemy's icontains(autoescape=True) on SQLite
            escaped = name_contains.replace("/", "//").replace("%", "/%").replace("_", "/_")
            where.append("lower(name) LIKE '%' || lower(?) || '%' ESCAPE '/'")
            params.append(escaped)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        if after_id is not None:
            where.append("id > ?")
            params.append(after_id)
        sql = (
            f"SELECT {_RUN} FROM runs WHERE {' AND '.join(where)} "
            f"ORDER BY id {'DESC' if newest_first else 'ASC'}"
        )
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else limit, offset]
        return [run_record(r) for r in self._all("listing runs", sql, params)]

    def get_run(self, run_id: int) -> RunRecord:
        sql = f"SELECT {_RUN} FROM runs WHERE id = ?"
        return run_record(self._one("reading a run", sql, (run_id,)))

    def get_run_by_name(self, pipeline_id: int, name: str) -> RunRecord | None:
        sql = f"SELECT {_RUN} FROM runs WHERE pipeline_id = ? AND name = ?"
        r = self._first(f"reading run {name!r}", sql, (pipeline_id, name))
        return None if r is None else run_record(r)

    def list_run_names(self, pipeline_id: int, limit: int | None = None) -> list[str]:
        sql = "SELECT name FROM runs WHERE pipeline_id = ?"
        if limit is None:
            rows = self._all("listing run names", sql + " ORDER BY id", (pipeline_id,))
            return [r[0] for r in rows]
        sql += " ORDER BY id DESC LIMIT ? OFFSET 0"
        rows = self._all("listing run names", sql, (pipeline_id, limit))
        return [r[0] for r in rows][::-1]

    # -- steps ---------------------------------------------------------------------------------

    def list_steps(self, run_id: int) -> list[StepRecord]:
        sql = f"SELECT {_STEP} FROM steps WHERE run_id = ? ORDER BY position"
        return [step_record(r) for r in self._all("listing steps", sql, (run_id,))]

    def get_step_at(self, run_id: int, position: int) -> StepRecord | None:
        sql = f"SELECT {_STEP} FROM steps WHERE run_id = ? AND position = ?"
        r = self._first("reading a step", sql, (run_id, position))
        return None if r is None else step_record(r)

    def get_step(self, step_id: int) -> StepRecord:
        sql = f"SELECT {_STEP} FROM steps WHERE id = ?"
        return step_record(self._one("reading a step", sql, (step_id,)))

    # -- artifacts -----------------------------------------------------------------------------

    def list_outputs(self, step_id: int) -> list[ArtifactRecord]:
        sql = f"SELECT {_ARTIFACT} FROM artifacts WHERE step_id = ? ORDER BY id"
        return [artifact_record(r) for r in self._all("listing outputs", sql, (step_id,))]

    def list_inputs(self, step_id: int) -> list[InputRecord]:
        sql = (
            f"SELECT step_inputs.name, {_ARTIFACT} FROM step_inputs "
            "JOIN artifacts ON artifacts.id = step_inputs.artifact_id "
            "WHERE step_inputs.step_id = ? ORDER BY step_inputs.id"
        )
        rows = self._all("listing inputs", sql, (step_id,))
        return [InputRecord(r[0], artifact_record(r[1:])) for r in rows]

    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        sql = f"SELECT {_ARTIFACT} FROM artifacts WHERE id = ?"
        return artifact_record(self._one("reading an artifact", sql, (artifact_id,)))


def _reason(error: sqlite3.Error) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
