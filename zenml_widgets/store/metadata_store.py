"""``MetadataStore``: every read and write of pipeline history, returning frozen records.

The store's URL picks a backend (:mod:`zenml_widgets.store.backends`: SQLite through ``sqlite3``,
PostgreSQL through psycopg); each thread gets its own connection. Reads
(:mod:`~zenml_widgets.store.reads`) and writes (:mod:`~zenml_widgets.store.writes`) are written
once and run on any backend; a thread's reads inside its own transaction see its writes.
SQLAlchemy and Alembic are imported only to create or upgrade the schema.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from zenml_widgets.exceptions import StoreError
from zenml_widgets.store import run_table, schema
from zenml_widgets.store.backends import open_backend
from zenml_widgets.store.connection import Connection, Connections
from zenml_widgets.store.lifecycle import RunLifecycle
from zenml_widgets.store.records import (
    RunFilter,
    RunFilterGroup,
    RunSort,
    RunTableRecord,
    RunTableSchema,
    utcnow,
)
from zenml_widgets.store.writes import _Known

__all__ = ["MetadataStore", "utcnow"]


class MetadataStore(RunLifecycle):
    """Pipeline history in a SQL database (SQLite embedded, or PostgreSQL).

    Every method returns frozen records. Several writes can share one transaction with
    ``with store.transaction(): ...``. The schema is created or upgraded on open. With
    ``create=False`` a SQLite file that does not exist is an error instead of a new empty store
    (it was deleted or moved). ``statement_timeout``: seconds a statement may run on a server
    before it is cancelled (``None``: the server's own setting).
    """

    def __init__(
        self, url: str, *, create: bool = True, statement_timeout: float | None = None
    ) -> None:
        self.url = url
        self._backend = open_backend(url, statement_timeout=statement_timeout)
        self.description = self._backend.description
        path = self._backend.database_file()
        if not create and path is not None and not path.exists():
            raise StoreError(
                f"The SQLite metadata store {str(path)!r} does not exist: it was deleted or "
                "moved. Restore the file, or point the stack at another store "
                "(zenml-widgets stack register ...). Running a pipeline creates a new, empty one."
            )
        self._connections = Connections(self._backend)
        self._known = _Known()
        self._graphs = OrderedDict()
        self._lineages = OrderedDict()
        found = schema.revision(self._read())
        if schema.check_revision(found, self.description):
            schema.ensure_schema(self._backend.sqlalchemy_url(), self.description)

    def __repr__(self) -> str:
        return f"MetadataStore({self.description!r})"

    def _read(self) -> Connection:
        return self._connections.get()

    def close(self) -> None:
        """Close this process's connections (threads reopen theirs on their next use)."""
        self._connections.close()

    def trace_statements(self, callback: Callable[[str, Sequence[Any]], None] | None) -> None:
        """Call ``callback(sql, params)`` for every statement from now on (``None``: stop);
        tests count queries with it."""
        self._connections.trace(callback)

    def in_transaction(self) -> bool:
        """Whether this thread is inside ``transaction()``."""
        return self._read().in_transaction

    # -- runs as data --------------------------------------------------------------------------

    def list_value_columns(
        self, pipeline_ids: Sequence[int] | None
    ) -> list[tuple[str, str, tuple[str, ...]]]:
        """``(name, kind, value types)`` of the run-value columns of these pipelines
        (``None``: all). Parameters first, then metrics, each sorted by name; the value types
        (``bool``, ``int``, ``float``, ``str``) are every type any run recorded."""
        return run_table.value_columns(self._read(), pipeline_ids)

    def run_table_schema(self, pipeline_ids: Sequence[int] | None) -> RunTableSchema:
        """What a runs table of these pipelines can show (its value columns) and which of their
        runs recorded as running here are interrupted: one round trip."""
        return run_table.schema(self._read(), pipeline_ids)

    def query_run_table(
        self,
        pipeline_ids: Sequence[int] | None,
        *,
        columns: Sequence[tuple[str, str]],
        filters: Sequence[RunFilter | RunFilterGroup] = (),
        sort: str | Sequence[RunSort] = "start",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
        table: RunTableSchema | None = None,
        count: bool | int = False,
    ) -> RunTableRecord:
        """Runs of these pipelines as rows, filtered, sorted and limited in SQL; with ``count``
        also how many match in all (``record.total``; ``count=N``: up to ``N``).

        ``columns`` are ``(name, kind)`` pairs (kind ``builtin``, ``tag``, ``param`` or
        ``metric``) that the caller checked against ``table`` (:meth:`run_table_schema`, read
        here when not given). ``filters`` are joined by ``and`` (a ``RunFilterGroup`` holds an
        ``or`` / ``not``); ``sort`` is a column (in the direction ``descending`` says) or
        several ``RunSort`` keys. Ties keep start order and runs missing a sort column come
        last. A page is one round trip.
        """
        return run_table.query(
            self._read(),
            pipeline_ids,
            columns=columns,
            filters=filters,
            sort=sort,
            descending=descending,
            limit=limit,
            offset=offset,
            table=table,
            count=count,
        )
