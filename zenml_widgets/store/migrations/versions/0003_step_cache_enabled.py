"""Record whether caching was enabled for each step.

``steps.cache_enabled`` says whether the step was allowed to reuse earlier outputs
(``enable_cache`` of the step and of its pipeline), so "why did this step run?" can say
"caching was off" from the record instead of inferring it. Steps recorded before this revision
keep NULL (unknown).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("steps", sa.Column("cache_enabled", sa.Boolean, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("steps") as batch:
        batch.drop_column("cache_enabled")
