"""Indexes for status filters and lineage lookups.

* ``ix_runs_pipeline_id_status``: runs of a pipeline by status (the explorer's and the CLI's
  "running / failed runs" filters, and spotting interrupted runs) without scanning every run.
* ``ix_artifacts_producer_step_id``: "which outputs did this step write, also through cached
  runs" and deleting a step without a full scan of ``artifacts`` (PostgreSQL does not index
  foreign keys by itself).
* ``ix_step_inputs_artifact_id``: consumers of an artifact (lineage downstream).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_index("ix_runs_pipeline_id_status", "runs", ["pipeline_id", "status"])
    op.create_index("ix_artifacts_producer_step_id", "artifacts", ["producer_step_id"])
    op.create_index("ix_step_inputs_artifact_id", "step_inputs", ["artifact_id"])


def downgrade() -> None:
    op.drop_index("ix_step_inputs_artifact_id", table_name="step_inputs")
    op.drop_index("ix_artifacts_producer_step_id", table_name="artifacts")
    op.drop_index("ix_runs_pipeline_id_status", table_name="runs")
