"""Tags: marks users set on runs (``baseline``, ``stage=prod``), as MLflow and W&B allow.

* ``run_tags``: one row per (run, key), the value ``""`` for a tag that is only a mark. The
  ``(key, run_id)`` index answers "runs with this tag" without reading every run.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from zenml_widgets.store.migrations.columns import owner

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "run_tags",
        owner("run_id", "runs", key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_run_tags_key_run", "run_tags", ["key", "run_id"])


def downgrade() -> None:
    op.drop_index("ix_run_tags_key_run", table_name="run_tags")
    op.drop_table("run_tags")
