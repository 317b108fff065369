"""Creating and upgrading the store's schema with the Alembic migrations in ``migrations/``.

Opening a store that is already at the newest revision costs one small query; Alembic itself is
imported only when a schema must be created or upgraded. SQLAlchemy is imported by the functions
that use it: ``HEAD`` and ``REVISIONS`` are read by the sqlite3 read path, which never imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zenml_widgets.exceptions import SchemaVersionError, StoreError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Oldest first; the last one is the revision this code reads and writes.
REVISIONS = ("0001", "0002", "0003", "0004", "0005")
HEAD = REVISIONS[-1]


def current_revision(conn: Connection) -> str | None:
    """The store's Alembic revision, or ``None`` for an empty database."""
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def upgrade_to(engine: Engine, description: str, revision: str) -> None:
    """Create or upgrade the schema to exactly ``revision`` (tests of older stores)."""
    _upgrade(engine, description, revision)


def ensure_schema(engine: Engine, description: str) -> None:
    """Create or upgrade the schema to ``HEAD``; refuse a store newer than this code."""
    with engine.connect() as conn:
        revision = current_revision(conn)
    if revision == HEAD:
        return
    if revision is not None and revision not in REVISIONS:
        raise SchemaVersionError(
            f"The metadata store {description} has schema revision {revision!r}, which is newer "
            f"than this zenml-widgets knows (up to {HEAD!r}). Upgrade the package: "
            "pip install -U zenml-widgets"
        )
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
