"""Record the shape of table artifacts.

``artifacts.num_rows`` and ``artifacts.num_columns`` hold a DataFrame output's row and column
counts, written when the output is written, so the explorer shows them without opening the
file. Artifacts recorded before this revision (and outputs that are not tables) keep NULL; their
shape is read from the parquet footer when asked.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("artifacts", sa.Column("num_rows", sa.BigInteger, nullable=True))
    op.add_column("artifacts", sa.Column("num_columns", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        batch.drop_column("num_columns")
        batch.drop_column("num_rows")
