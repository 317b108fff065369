"""The team backend: PostgreSQL through psycopg 3, one autocommit connection per thread.

URLs are SQLAlchemy's (``postgresql+psycopg://user:password@host:port/db?sslmode=require``);
the driver part is dropped and the rest is a libpq connection URI. Reads are single
autocommitted statements: no ``BEGIN``/``COMMIT`` round trips of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import StoreError, hide_password
from zenml_widgets.store.sql import POSTGRESQL

if TYPE_CHECKING:
    from pathlib import Path

CONNECT_TIMEOUT_S = 10


class PostgresBackend:
    """A PostgreSQL database."""

    dialect = POSTGRESQL
    pipelines = True
    statement_timeout: float | None = None
    begin_write = "BEGIN"

    def __init__(self, url: str) -> None:
        self.url = url
        self.description = hide_password(url)
        _, sep, rest = url.partition("://")
        if not sep:
            raise StoreError(f"Invalid metadata store URL {self.description!r}.")
        self.conninfo = "postgresql://" + rest
        self.location = rest.rpartition("@")[2].partition("/")[0].partition("?")[0] or "localhost"
        try:
            import psycopg
        except ImportError as e:
            raise StoreError(
                f"No database driver for {self.description}: {e}. Install it with: "
                'pip install "zenml-widgets[postgres]".'
            ) from None
        self._psycopg: Any = psycopg

    def __repr__(self) -> str:
        return f"PostgresBackend({self.description!r})"

    def connect(self) -> Any:
        """A new autocommit connection."""
        try:
            # prepare_threshold=None: psycopg never prepares statements server-side, which
            # would cost a round trip of its own the first time each statement is prepared
            # no parallel workers: starting them costs ~30 ms, more than the store's statements
            settings = ["-c max_parallel_workers_per_gather=0"]
            if self.statement_timeout is not None:
                settings.append(f"-c statement_timeout={int(self.statement_timeout * 1000)}")
            return self._psycopg.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                prepare_threshold=None,
                options=" ".join(settings),
            )
        except self._psycopg.Error as e:
            error = StoreError(
                f"Metadata store {self.description} failed while opening the store: "
                f"{_first_line(e)}"
            )
            error.original = e
            error.unreachable = isinstance(e, self._psycopg.OperationalError)
            error.where = self.location
            raise error from None

    def error_kind(self, error: BaseException) -> str | None:
        psycopg = self._psycopg
        if isinstance(error, psycopg.IntegrityError):
            return "constraint"
        if isinstance(error, psycopg.errors.UndefinedTable):
            return "missing"
        if isinstance(error, psycopg.errors.InsufficientPrivilege):
            return "permission"
        if isinstance(error, psycopg.OperationalError):
            return "disconnect" if _is_disconnect(error) else "operational"
        if isinstance(error, psycopg.InterfaceError):
            return "disconnect"
        if isinstance(error, psycopg.Error):
            return "error"
        return None

    def copy_rows(
        self, raw: Any, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert ``rows`` with one ``COPY ... FROM STDIN`` (``Connection.insert_rows``)."""
        statement = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def sqlalchemy_url(self) -> str:
        return "postgresql+psycopg://" + self.url.partition("://")[2]

    def database_file(self) -> Path | None:
        return None

    def close(self) -> None:
        """Nothing beyond the connections."""


def _is_disconnect(error: BaseException) -> bool:
    text = str(error).lower()
    return any(
        s in text
        for s in ("connection", "server closed", "terminating", "ssl syscall", "eof detected")
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
