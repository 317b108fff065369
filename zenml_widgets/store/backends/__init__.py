"""Database backends of the metadata store, picked by the scheme of the store's URL.

A backend opens driver connections for :class:`~zenml_widgets.store.connection.Connections`,
names its :class:`~zenml_widgets.store.sql.Dialect`, and sorts driver errors into kinds. The
table below maps a URL scheme to a lazily imported backend class (as MLflow's tracking-store
registry maps schemes to stores), so a process that reads an SQLite store never imports a
PostgreSQL driver. Adding a database means one module here and one line in the table.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

from zenml_widgets.exceptions import StoreError

if TYPE_CHECKING:
    from pathlib import Path

    from zenml_widgets.store.sql import Dialect

#: URL scheme (before any ``+driver``) -> ``module:Class`` of its backend.
BACKENDS: dict[str, str] = {
    "sqlite": "zenml_widgets.store.backends.sqlite:SqliteBackend",
    "postgresql": "zenml_widgets.store.backends.postgres:PostgresBackend",
}


class Backend(Protocol):
    """What the store needs of a database."""

    #: The SQL differences of this database.
    dialect: Dialect
    #: The URL with any password hidden, for messages.
    description: str
    #: The statement that opens a write transaction.
    begin_write: str
    #: Whether several statements can be sent in one round trip (``Connection.batch``).
    pipelines: bool
    #: Where the database server is (``host:port``), for messages; ``None`` when embedded.
    location: str | None
    #: Seconds a statement may run before the server cancels it (``None``: its own setting).
    statement_timeout: float | None

    def connect(self) -> object:
        """A new driver connection in autocommit mode, configured for the store."""
        ...

    def error_kind(self, error: BaseException) -> str | None:
        """``"constraint"``, ``"missing"`` (a table), ``"permission"`` (the role may not),
        ``"disconnect"``, ``"operational"`` or ``"error"`` for a driver error; ``None`` for
        anything that is not one."""
        ...

    def sqlalchemy_url(self) -> str:
        """The URL SQLAlchemy opens for schema migrations (the same database)."""
        ...

    def database_file(self) -> Path | None:
        """The file holding the database, for embedded ones; ``None`` otherwise."""
        ...

    def close(self) -> None:
        """Release what the backend holds beyond its connections."""
        ...


def register_backend(url_scheme: str, target: str) -> None:
    """Serve ``url_scheme://`` URLs with the backend class at ``target`` (``module:Class``,
    imported when a store with such a URL is opened)."""
    module, sep, name = target.partition(":")
    if not sep or not module or not name.isidentifier():
        raise ValueError(f"A backend target is 'module:Class', got {target!r}.")
    BACKENDS[url_scheme.lower()] = target


def scheme(url: str) -> str:
    """``postgresql`` for ``postgresql+psycopg://...``."""
    return url.partition(":")[0].partition("+")[0].lower()


def open_backend(url: str, *, statement_timeout: float | None = None) -> Backend:
    """The backend for ``url``; a clear error for a scheme no backend serves.
    ``statement_timeout``: seconds a statement may run, for backends of servers."""
    found = BACKENDS.get(scheme(url))
    if found is None:
        known = ", ".join(f"{s}://" for s in BACKENDS)
        raise StoreError(
            f"Invalid metadata store URL {url.partition(':')[0]}://...: the metadata store "
            f"supports {known} URLs."
        )
    module, _, name = found.partition(":")
    backend: Backend = getattr(importlib.import_module(module), name)(url)
    if statement_timeout is not None:
        backend.statement_timeout = statement_timeout
    return backend
