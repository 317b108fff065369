"""One lifecycle: every execution of a step is an attempt with its own record.

* ``step_attempts``: one row per execution of a step (its number from 1, where it ran: host and
  PID or the Dask worker's address, start, end, status, error).
* ``steps.attempt``: the number of the step's current attempt, 0 while it is ``pending``. It is
  the fencing token of the step's writes: a result is recorded only by the attempt whose number
  the step still holds.

Existing steps get one attempt each, copied from the step (where it ran is not known, so it is
left empty), and ``steps.attempt = 1``. Old runs get no ``pending`` or ``skipped`` records.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from zenml_widgets.store.migrations.columns import TZ, owner

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "step_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        owner("step_id", "steps"),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", TZ, nullable=False),
        sa.Column("end_time", TZ, nullable=True),
        sa.Column("hostname", sa.String(255), nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.UniqueConstraint("step_id", "number", name="uq_step_attempts_step_number"),
    )
    op.add_column(
        "steps", sa.Column("attempt", sa.Integer, nullable=False, server_default=sa.text("0"))
    )
    op.execute("UPDATE steps SET attempt = 1")
    op.execute(
        "INSERT INTO step_attempts (step_id, number, status, start_time, end_time, error) "
        "SELECT id, 1, status, start_time, end_time, error FROM steps"
    )


def downgrade() -> None:
    with op.batch_alter_table("steps") as batch:
        batch.drop_column("attempt")
    op.drop_table("step_attempts")
