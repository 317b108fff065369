"""The embedded backend: an SQLite file through the standard library's ``sqlite3``.

URLs are SQLAlchemy's: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``sqlite://`` or
``sqlite:///:memory:`` (a database in memory, shared by this store's threads while the store is
open), and ``sqlite:///file:path?mode=ro&uri=true`` (an SQLite URI filename). Connections use
WAL, a 60 s busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for writes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

from zenml_widgets.exceptions import StoreError
from zenml_widgets.store.sql import SQLITE

BUSY_TIMEOUT_S = 60.0
_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///", "sqlite://", "sqlite+pysqlite://")


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced (the base class cannot)."""


class SqliteBackend:
    """An SQLite database (a file, or memory shared by the store's threads)."""

    dialect = SQLITE
    pipelines = False
    location = None
    statement_timeout: float | None = None  # embedded: waits are bounded by the busy timeout
    begin_write = "BEGIN IMMEDIATE"

    def __init__(self, url: str) -> None:
        self.url = url
        self.description = url  # no password to hide
        self._memory_anchor: sqlite3.Connection | None = None
        rest = _rest(url)
        path, _, query = rest.partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
        uri = options.pop("uri", "").lower() in ("true", "1")
        self.timeout = float(options.pop("timeout", BUSY_TIMEOUT_S))
        if path in ("", ":memory:"):
            # Each sqlite3 connection to ":memory:" is a database of its own; a named in-memory
            # database with a shared cache is one database for every thread of this process.
            self.target = f"file:zenml-widgets-{uuid.uuid4().hex}?mode=memory&cache=shared"
            self.uri = True
            self.file: Path | None = None
            self._memory_anchor = self._open()  # the database lives while one connection does
            return
        if uri:
            extra = "&".join(f"{k}={v}" for k, v in options.items())
            self.target = path + ("?" + extra if extra else "")
            self.uri = True
            self.file = None
            return
        if options:
            raise StoreError(
                f"Unsupported options in the SQLite metadata store URL {url}: "
                f"{', '.join(sorted(options))} (supported: uri, timeout)."
            )
        self.target = path
        self.uri = False
        self.file = Path(path)

    def __repr__(self) -> str:
        return f"SqliteBackend({self.description!r})"

    def _open(self) -> sqlite3.Connection:
        return sqlite3.connect(
            self.target,
            timeout=self.timeout,
            isolation_level=None,  # autocommit: the store sends BEGIN / COMMIT itself
            check_same_thread=False,  # used by one thread, but closed from any
            factory=_Connection,
            uri=self.uri,
        )

    def connect(self) -> sqlite3.Connection:
        """A configured connection; a missing folder is one clear error."""
        if self.file is not None and not self.file.parent.is_dir():
            raise StoreError(
                f"The folder of the SQLite metadata store {str(self.file)!r} does not exist."
            )
        try:
            conn = self._open()
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            with contextlib.suppress(sqlite3.Error):  # a read-only database keeps its journal
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as e:
            raise StoreError(
                f"Metadata store {self.description} failed while opening the store: {e}"
            ) from None
        return conn

    def error_kind(self, error: BaseException) -> str | None:
        if isinstance(error, sqlite3.IntegrityError):
            return "constraint"
        if isinstance(error, sqlite3.OperationalError):
            return "missing" if str(error).startswith("no such table") else "operational"
        if isinstance(error, sqlite3.Error):
            return "error"
        return None

    def sqlalchemy_url(self) -> str:
        if self.uri:
            joiner = "&" if "?" in self.target else "?"
            return f"sqlite:///{self.target}{joiner}uri=true"
        return f"sqlite:///{self.target}"

    def database_file(self) -> Path | None:
        return self.file

    def close(self) -> None:
        if self._memory_anchor is not None:
            with contextlib.suppress(sqlite3.Error):
                self._memory_anchor.close()
            self._memory_anchor = None


def _rest(url: str) -> str:
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            return url[len(prefix) :]
    raise StoreError(f"Invalid SQLite metadata store URL {url!r}: use sqlite:///path/to/file.db")


def database_file(url: str) -> Path | None:
    """The file of an SQLite URL (``None`` for memory, URI filenames and other databases)."""
    if not url.lower().startswith("sqlite"):
        return None
    rest = _rest(url)
    path, _, query = rest.partition("?")
    if path in ("", ":memory:") or "uri=true" in query.lower():
        return None
    return Path(path)
