"""Metrics logged while a step runs (``log_metric``): learning curves, one row per point.

* ``metric_series``: one row per (step, attempt, metric name), with its length and last point,
  so a step's metric names and the runs table's last values need no scan of the points.
* ``metric_points``: one compact row per point (series, position in the series, step index,
  value, time in seconds since the epoch). The primary key ``(series_id, seq)`` keeps a series'
  points together and in the order they were logged; on SQLite the table is ``WITHOUT ROWID``, so
  the points are stored in that key's order and reading a curve is one range of it. NaN is
  stored as NULL (SQLite cannot hold NaN); infinities are stored as they are.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "step_id", sa.Integer, sa.ForeignKey("steps.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("last_step", sa.BigInteger, nullable=True),
        sa.Column("last_value", sa.Double, nullable=True),
        sa.Column("last_time", sa.Double, nullable=True),
        sa.UniqueConstraint("step_id", "attempt", "name", name="uq_metric_series_step_name"),
    )
    op.create_table(
        "metric_points",
        sa.Column(
            "series_id",
            sa.Integer,
            sa.ForeignKey("metric_series.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Double, nullable=True),
        sa.Column("time", sa.Double, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("metric_points")
    op.drop_table("metric_series")
