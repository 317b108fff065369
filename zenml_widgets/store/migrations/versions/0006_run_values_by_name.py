"""Index run values so that runs tables read them from the index alone.

* ``ix_run_values_name_num_run`` (``name, num_value, run_id``): a runs table of several
  pipelines (or of a whole stack) sorted by a metric walks the runs in metric order and stops at
  its limit, instead of reading every run's value and sorting them.
* ``ix_run_values_pipeline_name_num_run`` (``pipeline_id, name, num_value, run_id``) replaces
  ``ix_run_values_pipeline_name_num``: it still serves one pipeline's sort, and also hands over
  a whole column of a pipeline's runs (run id and value) without touching the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_index(
        "ix_run_values_pipeline_name_num_run",
        "run_values",
        ["pipeline_id", "name", "num_value", "run_id"],
    )
    op.drop_index("ix_run_values_pipeline_name_num", table_name="run_values")
    op.create_index("ix_run_values_name_num_run", "run_values", ["name", "num_value", "run_id"])


def downgrade() -> None:
    op.drop_index("ix_run_values_name_num_run", table_name="run_values")
    op.create_index(
        "ix_run_values_pipeline_name_num", "run_values", ["pipeline_id", "name", "num_value"]
    )
    op.drop_index("ix_run_values_pipeline_name_num_run", table_name="run_values")
