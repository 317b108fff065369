"""DB-API connections of a metadata store: one per thread, in autocommit mode, errors translated.

A :class:`Connection` wraps one driver connection (``sqlite3`` or psycopg) used by one thread.
Reads run as single autocommitted statements (no transaction round trips of their own); writes
run inside :meth:`Connection.transaction`, which sends ``BEGIN`` (``BEGIN IMMEDIATE`` on SQLite,
so two writers queue on the busy timeout instead of deadlocking) and ``COMMIT`` itself. Every
driver error leaves as a :class:`~zenml_widgets.exceptions.StoreError` naming the store and what
was being done. :class:`Connections` hands each thread its own connection, and closes them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from zenml_widgets.exceptions import StoreError
from zenml_widgets.store.records import record_builder
from zenml_widgets.store.sql import Sql

if TYPE_CHECKING:
    from zenml_widgets.store.backends import Backend

Trace = Callable[[str, Sequence[Any]], None]
R = TypeVar("R")
T = TypeVar("T")


class ConstraintError(StoreError):
    """A write broke a unique or foreign-key constraint (the store decides what it means)."""


class MissingTableError(StoreError):
    """A statement named a table the database does not have (an empty or foreign database)."""


class Connection:
    """One driver connection, used by the thread that opened it.

    Args:
        raw: the driver's connection, in autocommit mode.
        backend: the backend that opened it (dialect, error kinds, ``BEGIN`` text).
    """

    def __init__(self, raw: Any, backend: Backend) -> None:
        self.raw = raw
        self.backend = backend
        self.dialect = backend.dialect
        self.trace: Trace | None = None
        self._depth = 0
        self._after_commit: list[Callable[[], None]] = []
        self.broken = False

    # -- statements ----------------------------------------------------------------------------

    def query(self, action: str, sql: Sql) -> tuple[tuple[str, ...], list[Any]]:
        """The column names and every row of a query."""

        def run() -> tuple[tuple[str, ...], list[Any]]:
            cursor = self._execute(sql)
            return tuple(d[0] for d in cursor.description), list(cursor.fetchall())

        return self._reading(action, run)

    def batch(self, action: str, sqls: Sequence[Sql]) -> list[tuple[tuple[str, ...], list[Any]]]:
        """The column names and rows of several queries, sent together: one round trip to a
        server (PostgreSQL's pipeline mode), one after another in process (SQLite)."""
        if len(sqls) <= 1 or not self.backend.pipelines:
            return [self.query(action, sql) for sql in sqls]

        def run() -> list[tuple[tuple[str, ...], list[Any]]]:
            with self.raw.pipeline():
                cursors = [self._execute(sql) for sql in sqls]
            return [(tuple(d[0] for d in c.description), list(c.fetchall())) for c in cursors]

        return self._reading(action, run)

    def _reading(self, action: str, run: Callable[[], T]) -> T:
        """``run()`` a read; if the connection turns out lost (the network dropped, the server
        restarted) and no transaction is open, reconnect once and run it again."""
        try:
            with self.errors(action):
                return run()
        except StoreError:
            if not self.broken or self._depth:
                raise
        self.close()
        self.raw = self.backend.connect()  # still unreachable: its own clear error
        self.broken = False
        with self.errors(action):
            return run()

    def rows(self, action: str, sql: Sql) -> list[Any]:
        """Every row of a query (tuples, in the order of its select list)."""
        return self.query(action, sql)[1]

    def records(self, action: str, sql: Sql, record: type[R]) -> list[R]:
        """Every row of a query as a ``record``, its fields matched to the columns by name."""
        return as_records(self.query(action, sql), record)

    def record(self, action: str, sql: Sql, record: type[R]) -> R:
        """The only row of a query as a ``record``."""
        found: R = self.only(action, self.records(action, sql, record))
        return found

    def first(self, action: str, sql: Sql) -> Any:
        """The first row, or ``None``."""
        rows = self.rows(action, sql)
        return rows[0] if rows else None

    def one(self, action: str, sql: Sql) -> Any:
        """The only row; a ``StoreError`` saying so when there are none or several."""
        return self.only(action, self.rows(action, sql))

    def scalar(self, action: str, sql: Sql) -> Any:
        """The first column of the only row."""
        return self.one(action, sql)[0]

    def only(self, action: str, rows: list[Any]) -> Any:
        """The only item of ``rows``; a ``StoreError`` naming ``action`` otherwise."""
        if len(rows) != 1:
            found = "no row was found" if not rows else f"{len(rows)} rows were found"
            raise StoreError(
                f"Metadata store {self.backend.description} failed while {action}: {found} "
                "where exactly one was expected"
            )
        return rows[0]

    def execute(self, action: str, sql: Sql) -> int:
        """Run a write; the number of rows it changed."""
        with self.errors(action):
            return int(self._execute(sql).rowcount)

    def execute_many(self, action: str, sql: Sql, rows: Sequence[Sequence[Any]]) -> None:
        """Run one write for each parameter row (``sql.params`` is ignored)."""
        if not rows:
            return
        text, _ = self.dialect.render(Sql(sql.text))
        adapted = [tuple(self.dialect.adapt(v) for v in row) for row in rows]
        with self.errors(action):
            if self.trace is not None:
                self.trace(text, adapted[0])
            cursor = self.raw.cursor()
            try:
                cursor.executemany(text, adapted)
            finally:
                cursor.close()

    def insert_rows(
        self, action: str, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows into ``table`` at once: the backend's bulk path when it has one
        (PostgreSQL's ``COPY``: one statement, no per-row round trips or parsing), otherwise one
        ``INSERT`` run for each row (``executemany``). ``names`` and ``table`` come from the
        code; values are always sent apart from the text."""
        if not rows:
            return
        bulk = getattr(self.backend, "copy_rows", None)
        if bulk is None:
            marks = ", ".join("?" * len(names))
            sql = Sql(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})")
            self.execute_many(action, sql, rows)
            return
        with self.errors(action):
            if self.trace is not None:
                self.trace(f"COPY {table} ({', '.join(names)}) FROM STDIN", rows[0])
            bulk(self.raw, table, names, rows)

    def _execute(self, sql: Sql) -> Any:
        text, params = self.dialect.render(sql)
        if self.trace is not None:
            self.trace(text, params)
        return self.raw.execute(text, params)

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether a :meth:`transaction` block is open on this connection."""
        return self._depth > 0

    @contextmanager
    def transaction(self, action: str = "writing") -> Iterator[Connection]:
        """A write transaction; nested blocks join the outer one. ``after_commit`` callbacks run
        once the outermost block has committed (and are dropped on rollback)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute(action, Sql(self.backend.begin_write))
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._after_commit.clear()
            self._rollback()
            raise
        self._depth = 0
        callbacks, self._after_commit = self._after_commit, []
        self.execute(action, Sql("COMMIT"))
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current transaction commits (now, outside one)."""
        if self._depth:
            self._after_commit.append(callback)
        else:
            callback()

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # the connection may be gone; nothing to undo then
            if self.trace is not None:
                self.trace("ROLLBACK", ())
            self.raw.execute("ROLLBACK")

    # -- errors --------------------------------------------------------------------------------

    @contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Re-raise driver errors as ``StoreError`` naming the store and ``action``."""
        try:
            yield
        except StoreError:
            raise
        except Exception as e:
            kind = self.backend.error_kind(e)
            if kind is None:
                raise
            if kind == "disconnect" or getattr(self.raw, "broken", False):
                self.broken, kind = True, "disconnect"
            message = (
                f"Metadata store {self.backend.description} failed while {action}: {_reason(e)}"
            )
            if kind == "constraint":
                raise ConstraintError(message) from e
            if kind == "missing":
                raise MissingTableError(message) from e
            if kind == "permission":
                role = getattr(getattr(self.raw, "info", None), "user", None) or "?"
                error = StoreError(
                    f"Metadata store {self.backend.description} refused {action} to role "
                    f"{role!r}: {_reason(e)}. This role may only read history (SELECT); run "
                    "pipelines, gc and tags with a role that may also INSERT, UPDATE and DELETE "
                    "on the store's tables."
                )
                error.original = e
                raise error from None
            if kind in ("operational", "disconnect"):
                # The environment, not the code (server unreachable, file missing or read-only,
                # locked): the message says all there is, the driver's chain would bury it.
                error = StoreError(message)
                error.original = e
                error.unreachable = kind == "disconnect"
                error.where = self.backend.location
                raise error from None
            raise StoreError(message) from e

    def close(self) -> None:
        """Close the driver connection (errors ignored: it may be gone already)."""
        with contextlib.suppress(Exception):
            self.raw.close()


def as_records(result: tuple[tuple[str, ...], list[Any]], record: type[R]) -> list[R]:
    """A query's ``(column names, rows)`` as ``record`` instances, fields matched by name."""
    names, rows = result
    build = record_builder(record, names)  # type: ignore[arg-type]
    return [build(r) for r in rows]


def _reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _Slot:
    """A weakly referenceable holder of one thread's connection."""

    def __init__(self, connection: Connection, pid: int) -> None:
        self.connection = connection
        self.pid = pid


class Connections:
    """Each thread's connection to one store, opened on first use.

    A forked child opens its own and never closes its parent's; a finished thread's connection
    is closed with its slot. ``close()`` closes them all (threads reopen on their next use), and
    so does the end of the process: SQLite folds its write-ahead log back into the database
    file when the last connection closes, so a process that wrote leaves no ``-wal`` behind.
    """

    def __init__(self, backend: Backend) -> None:
        _open.add(self)
        self.backend = backend
        self._local = threading.local()
        self._lock = threading.Lock()
        self._slots: weakref.WeakSet[_Slot] = weakref.WeakSet()
        self._generation = 0
        self._trace: Trace | None = None

    def get(self) -> Connection:
        """This thread's connection (a broken one is replaced)."""
        slot: _Slot | None = getattr(self._local, "slot", None)
        key = (os.getpid(), self._generation)
        if slot is None or getattr(self._local, "key", None) != key or slot.connection.broken:
            if slot is not None and slot.pid == key[0]:
                slot.connection.close()
            connection = Connection(self.backend.connect(), self.backend)
            slot = _Slot(connection, key[0])
            weakref.finalize(slot, connection.close)
            with self._lock:
                connection.trace = self._trace
                self._slots.add(slot)
            self._local.slot, self._local.key = slot, key
        return slot.connection

    def trace(self, callback: Trace | None) -> None:
        """Call ``callback(sql, params)`` for every statement of every connection from now on."""
        with self._lock:
            self._trace = callback
            for slot in list(self._slots):
                if slot.pid == os.getpid():
                    slot.connection.trace = callback

    def close(self) -> None:
        """Close every connection this process opened."""
        with self._lock:
            slots = list(self._slots)
            self._slots = weakref.WeakSet()
            self._generation += 1
        for slot in slots:
            if slot.pid == os.getpid():
                slot.connection.close()


_open: weakref.WeakSet[Connections] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for connections in list(_open):
        connections.close()
