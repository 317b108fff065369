"""Column shapes that the migrations share.

A released migration must build the same schema forever: change a helper here only if every
migration that uses it still builds what it built (``tests/store/test_migrations.py`` compares the
migrated schema with the models on SQLite and PostgreSQL); add a new helper otherwise.
"""

from __future__ import annotations

import sqlalchemy as sa

#: Timestamps keep their time zone.
TZ = sa.DateTime(timezone=True)


def owner(name: str, table: str, *, key: bool = False) -> sa.Column[int]:
    """Column ``name`` pointing at ``table.id``, its rows deleted with their owner (``ON DELETE
    CASCADE``): part of the primary key when ``key``, else ``NOT NULL``."""
    parent = sa.ForeignKey(f"{table}.id", ondelete="CASCADE")
    if key:
        return sa.Column(name, sa.Integer, parent, primary_key=True)
    return sa.Column(name, sa.Integer, parent, nullable=False)
