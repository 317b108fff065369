"""Metric points packed for reading whole: ``metric_chunks``.

* ``metric_chunks``: a run of consecutive points of one series (from position ``seq``,
  ``points`` of them) as three little-endian arrays: step indexes (int64), values (float64, NaN
  kept) and times (float64 seconds since the epoch). The runner writes one with each batch of
  ``metric_points`` rows, in the same transaction, and grows a series' last chunk while it is
  small, so a curve logged a point at a time is still a chunk or two. Reading a whole history
  is a few blobs instead of a row per point (100 runs x 1,000 points: 100 rows, not 100,000).
  ``metric_points`` keeps a row per point for SQL (sampling a picture's points, filters).

The upgrade packs the points a store already has, a series at a time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sys
from array import array
from itertools import groupby, islice
from operator import itemgetter

import sqlalchemy as sa
from alembic import op

from zenml_widgets.store.migrations.columns import owner

revision = "0010"
down_revision = "0009"

_CHUNK = 10_000  # points per chunk packed here (a runner batch holds at most as many)


def _packed(kind: str, numbers: list[int | float]) -> bytes:
    packed = array(kind, numbers)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def upgrade() -> None:
    op.create_table(
        "metric_chunks",
        owner("series_id", "metric_series", key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("step_data", sa.LargeBinary, nullable=False),
        sa.Column("value_data", sa.LargeBinary, nullable=False),
        sa.Column("time_data", sa.LargeBinary, nullable=False),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT series_id, seq, step, value, time FROM metric_points ORDER BY series_id, seq"
        ).execution_options(stream_results=True, yield_per=_CHUNK)
    )
    chunks = []
    for series_id, points in groupby(rows, itemgetter(0)):
        while part := list(islice(points, _CHUNK)):
            chunks.append({
                "series_id": series_id, "seq": part[0][1], "points": len(part),
                "step_data": _packed("q", [p[2] for p in part]),
                "value_data": _packed("d", [float("nan") if p[3] is None else p[3] for p in part]),
                "time_data": _packed("d", [p[4] for p in part]),
            })  # fmt: skip
            if len(chunks) >= 20:
                _insert(bind, chunks)
                chunks = []
    _insert(bind, chunks)


def _insert(bind: sa.Connection, chunks: list[dict[str, object]]) -> None:
    if chunks:
        bind.execute(
            sa.text(
                "INSERT INTO metric_chunks (series_id, seq, points, step_data, value_data, "
                "time_data) VALUES (:series_id, :seq, :points, :step_data, :value_data, :time_data)"
            ),
            chunks,
        )


def downgrade() -> None:
    op.drop_table("metric_chunks")
