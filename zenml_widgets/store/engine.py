"""The one place that creates SQLAlchemy engines, and turns driver errors into StoreError."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from zenml_widgets.exceptions import StoreError

SQLITE_BUSY_TIMEOUT_MS = 60_000
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def describe_url(url: str | URL) -> str:
    """``url`` with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (``None`` for other databases and in-memory ones)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url`` (created on first use)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every engine this process opened (tests, forked children)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StoreError(f"Invalid metadata store URL {url!r}: {e}") from e
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).parent
            if not folder.is_dir():
                raise StoreError(
                    f"The folder of the SQLite metadata store {database!r} does not exist."
                )
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if parsed.query.get("uri"):  # an SQLite URI filename (a store's shared in-memory one)
            from sqlalchemy.pool import NullPool

            kwargs["poolclass"] = NullPool
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as e:
        extra = "postgres" if parsed.get_backend_name() == "postgresql" else None
        hint = f' Install it with: pip install "zenml-widgets[{extra}]".' if extra else ""
        raise StoreError(f"No database driver for {describe_url(parsed)}: {e}.{hint}") from e
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for write transactions.

    pysqlite's own transaction handling starts transactions lazily and as DEFERRED, so two
    writers can deadlock on the upgrade from a read to a write lock ("database is locked"
    without waiting). Taking the write lock at BEGIN lets the busy timeout do its job.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        with contextlib.suppress(Exception):  # a read-only database keeps its journal mode
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("zw_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def translate_errors(url: str, action: str) -> Iterator[None]:
    """Re-raise driver errors as ``StoreError`` naming the store and what was being done."""
    try:
        yield
    except StoreError:
        raise
    except OperationalError as e:
        # The environment, not the code: server unreachable, file missing or read-only, locked.
        # The message says all there is; the driver's traceback chain would only bury it, so it
        # is kept on the error (``.original``) instead of printed.
        error = StoreError(
            f"Metadata store {describe_url(url)} failed while {action}: {_reason(e)}"
        )
        error.original = e
        raise error from None
    except DBAPIError as e:
        raise StoreError(
            f"Metadata store {describe_url(url)} failed while {action}: {_reason(e)}"
        ) from e
    except SQLAlchemyError as e:
        raise StoreError(f"Metadata store {describe_url(url)} failed while {action}: {e}") from e


def _reason(error: DBAPIError) -> str:
    lines = str(error.orig if error.orig is not None else error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
