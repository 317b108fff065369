"""Creating and upgrading the store's schema with the Alembic migrations in ``migrations/``.

Opening a store that is already at the newest revision costs one small query on the store's own
connection (:func:`revision`); SQLAlchemy and Alembic are imported only when a schema must be
created or upgraded (:func:`ensure_schema`), so a process that reads history never imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zenml_widgets.exceptions import SchemaVersionError, StoreError
from zenml_widgets.store.connection import MissingTableError
from zenml_widgets.store.sql import Sql

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from zenml_widgets.store import connection

MIGRATIONS = Path(__file__).parent / "migrations"
# Oldest first; the last one is the revision this code reads and writes.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010")
HEAD = REVISIONS[-1]


def revision(conn: connection.Connection) -> str | None:
    """The store's Alembic revision read on its own connection; ``None`` for an empty one."""
    try:  # one round trip: a database without the table answers with an error
        rows = conn.rows("opening the store", Sql("SELECT version_num FROM alembic_version"))
    except MissingTableError:
        return None
    if len(rows) > 1:
        raise StoreError(
            f"Metadata store {conn.backend.description} has {len(rows)} schema revisions in "
            "alembic_version; it should have one."
        )
    return str(rows[0][0]) if rows else None


def check_revision(found: str | None, description: str) -> bool:
    """Whether the schema must be created or upgraded; a store newer than this code is refused."""
    if found == HEAD:
        return False
    if found is not None and found not in REVISIONS:
        raise SchemaVersionError(
            f"The metadata store {description} has schema revision {found!r}, which is newer "
            f"than this zenml-widgets knows (up to {HEAD!r}). Upgrade the package: "
            "pip install -U zenml-widgets"
        )
    return True


def current_revision(conn: Connection) -> str | None:
    """The store's Alembic revision, or ``None`` for an empty database."""
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def upgrade_to(engine: Engine, description: str, revision: str) -> None:
    """Create or upgrade the schema to exactly ``revision`` (tests of older stores)."""
    _upgrade(engine, description, revision)


def ensure_schema(url: str, description: str) -> None:
    """Create or upgrade the schema at ``url`` (SQLAlchemy's URL of the store) to ``HEAD``."""
    from zenml_widgets.store.engine import get_engine, translate_errors

    with translate_errors(url, "opening the store"):
        engine = get_engine(url)
        with engine.connect() as conn:
            found = current_revision(conn)
        if check_revision(found, description):
            _upgrade(engine, description)


def _upgrade(engine: Engine, description: str, target: str = HEAD) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # zw_write: on SQLite the transaction starts with BEGIN IMMEDIATE (see engine.py), which
    # serialises concurrent first-time upgrades; PostgreSQL takes an advisory lock instead.
    with engine.execution_options(zw_write=True).connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        if current_revision(conn) == target:  # another process won the race
            conn.rollback()
            return
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, target)
        except Exception as e:
            raise StoreError(
                f"Could not create or upgrade the metadata store {description}: {e}"
            ) from e
        conn.commit()
