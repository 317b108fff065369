"""Runs as data: parameters and small scalar outputs as typed, indexed values.

``run_values`` holds one row per (run, column): ``trainer.epochs`` (a parameter) or
``evaluator.output.accuracy`` (a key of a small dict output), with numbers in ``num_value`` and
strings in ``text_value``, so filtering, sorting and limiting runs by them happens in SQL.
``run_value_columns`` lists the columns each pipeline has, with the value types seen. Stores
written before this revision have no values until ``zenml-widgets backfill-values`` fills them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from zenml_widgets.store.migrations.columns import owner

revision = "0004"
down_revision = "0003"

_NAME = 255
_VALUE_NAME = 3 * _NAME + 2


def upgrade() -> None:
    op.create_table(
        "run_values",
        sa.Column("id", sa.Integer, primary_key=True),
        owner("pipeline_id", "pipelines"),
        owner("run_id", "runs"),
        owner("step_id", "steps"),
        sa.Column("name", sa.String(_VALUE_NAME), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("output_name", sa.String(_NAME), nullable=True),
        sa.Column("key", sa.String(_NAME), nullable=False),
        sa.Column("value_type", sa.String(8), nullable=False),
        sa.Column("num_value", sa.Double, nullable=True),
        sa.Column("text_value", sa.Text, nullable=True),
        sa.UniqueConstraint("run_id", "name", name="uq_run_values_run_name"),
    )
    op.create_index(
        "ix_run_values_pipeline_name_num", "run_values", ["pipeline_id", "name", "num_value"]
    )
    op.create_index("ix_run_values_step_id", "run_values", ["step_id"])
    op.create_table(
        "run_value_columns",
        owner("pipeline_id", "pipelines", key=True),
        sa.Column("name", sa.String(_VALUE_NAME), primary_key=True),
        sa.Column("value_type", sa.String(8), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_value_columns")
    op.drop_index("ix_run_values_step_id", "run_values")
    op.drop_index("ix_run_values_pipeline_name_num", "run_values")
    op.drop_table("run_values")
