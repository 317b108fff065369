"""Initial schema: pipelines, runs, steps, artifacts, step inputs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from zenml_widgets.store.migrations.columns import TZ, owner

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        owner("pipeline_id", "pipelines"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", TZ, nullable=False),
        sa.Column("end_time", TZ),
        sa.Column("heartbeat_at", TZ),
        sa.Column("pid", sa.Integer),
        sa.Column("hostname", sa.String(255)),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("pipeline_id", "name", name="uq_runs_pipeline_name"),
    )
    op.create_index("ix_runs_pipeline_id_id", "runs", ["pipeline_id", "id"])
    op.create_table(
        "steps",
        sa.Column("id", sa.Integer, primary_key=True),
        owner("run_id", "runs"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("entrypoint_name", sa.String(255), nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", TZ, nullable=False),
        sa.Column("end_time", TZ),
        sa.Column("cache_key", sa.String(64)),
        sa.Column("code_hash", sa.String(64)),
        sa.Column("source_step_id", sa.Integer, sa.ForeignKey("steps.id")),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("run_id", "position", name="uq_steps_run_position"),
    )
    op.create_index("ix_steps_cache_key", "steps", ["cache_key"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True),
        owner("step_id", "steps"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("data_type", sa.String(1024), nullable=False),
        sa.Column("materializer", sa.String(1024), nullable=False),
        sa.Column("producer_step_id", sa.Integer, sa.ForeignKey("steps.id"), nullable=False),
        sa.Column("is_cached", sa.Boolean, nullable=False),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("step_id", "name", name="uq_artifacts_step_name"),
    )
    op.create_table(
        "step_inputs",
        sa.Column("id", sa.Integer, primary_key=True),
        owner("step_id", "steps"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifacts.id"), nullable=False),
        sa.UniqueConstraint("step_id", "name", name="uq_step_inputs_step_name"),
    )


def downgrade() -> None:
    for table in ("step_inputs", "artifacts", "steps", "runs", "pipelines"):
        op.drop_table(table)
