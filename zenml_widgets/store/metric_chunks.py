"""Metric points packed for reading whole (``metric_chunks``, migration 0010).

A chunk is a run of consecutive points of one series: its first position (``seq``), how many
points it holds, and three little-endian arrays: step indexes (int64), values (float64, NaN
kept as NaN) and times (float64 seconds since the epoch). Each batch the runner writes adds a
chunk per series it touches, in the transaction of its ``metric_points`` rows, or appends to
the series' last chunk (on the database) while that one holds fewer than :data:`GROW_BELOW`
points, so a curve logged a point every few seconds stays a chunk or two. A whole history is
then read as a few blobs turned into arrays (no Python object per point) instead of a row per
point.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from zenml_widgets.store.sql import Sql, placeholders

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection

#: A series' last chunk with fewer points than this takes the next batch's points of it.
GROW_BELOW = 4_096
_BIG_ENDIAN = sys.byteorder == "big"
_COLUMNS = ("series_id", "seq", "points", "step_data", "value_data", "time_data")


@dataclass(frozen=True, slots=True)
class PackedPoints:
    """A metric's points in the order they were logged, as arrays: step indexes (``array('q')``),
    values (``array('d')``, NaN as logged) and times (``array('d')``, seconds since the epoch).
    NumPy takes them without a copy (``numpy.frombuffer``)."""

    steps: array[int]
    values: array[float]
    times: array[float]

    def __len__(self) -> int:
        return len(self.steps)


def _pack(kind: str, numbers: Iterable[float]) -> bytes:
    packed = array(kind, numbers)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def _unpack(kind: str, blobs: Iterable[bytes]) -> array[Any]:
    numbers: array[Any] = array(kind)
    for blob in blobs:
        numbers.frombytes(blob)
    if _BIG_ENDIAN:
        numbers.byteswap()
    return numbers


def packed(rows: Sequence[Sequence[Any]], *, times: bool = True) -> dict[Any, PackedPoints]:
    """Chunk rows ``(key, step_data, value_data[, time_data])`` ordered by key and position, as
    each key's points (``times=False``: rows without ``time_data``, empty times)."""
    found: dict[Any, PackedPoints] = {}
    for key, group in groupby(rows, itemgetter(0)):
        chunks = list(group)
        found[key] = PackedPoints(
            _unpack("q", map(itemgetter(1), chunks)),
            _unpack("d", map(itemgetter(2), chunks)),
            _unpack("d", map(itemgetter(3), chunks)) if times else array("d"),
        )
    return found


def write_chunks(
    conn: Connection,
    action: str,
    points: Sequence[tuple[int, int, int, float, float]],
    grown: Sequence[int],
) -> None:
    """Pack a batch's ``points`` ``(series_id, seq, step, value, time)`` (each series' in
    logged order) into chunks: appended to the last chunk of a series in ``grown`` (series
    that had points before this batch) while that one is small, else a new chunk. Appending
    happens on the database: only the new bytes are sent, never the chunk read back."""
    tails = _small_tails(conn, action, grown)
    by_series: dict[int, list[tuple[int, int, int, float, float]]] = {}
    for point in points:
        by_series.setdefault(point[0], []).append(point)
    new, appended = [], []
    for series_id, part in by_series.items():
        seq = part[0][1]
        steps = _pack("q", map(itemgetter(2), part))
        values = _pack("d", map(itemgetter(3), part))
        times = _pack("d", map(itemgetter(4), part))
        tail = tails.get(series_id)
        if tail is not None and tail[0] + tail[1] == seq:  # it ends where this batch starts
            appended.append((len(part), steps, values, times, series_id, tail[0]))
        else:
            new.append((series_id, seq, len(part), steps, values, times))
    if appended:
        add = conn.dialect.append_bytes
        conn.execute_many(
            action,
            Sql(
                f"UPDATE metric_chunks SET points = points + ?, step_data = {add('step_data')}, "
                f"value_data = {add('value_data')}, time_data = {add('time_data')} "
                "WHERE series_id = ? AND seq = ?"
            ),
            appended,
        )
    conn.insert_rows(action, "metric_chunks", _COLUMNS, new)


def _small_tails(
    conn: Connection, action: str, series_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """The last chunk of each of these series when it holds fewer than ``GROW_BELOW`` points:
    series id -> (its first position, its points). Read before the batch updates the series'
    lengths."""
    if not series_ids:
        return {}
    sql = (
        Sql(
            "SELECT mc.series_id, mc.seq, mc.points FROM metric_chunks mc "
            "JOIN metric_series ms ON ms.id = mc.series_id "
            "WHERE mc.seq + mc.points = ms.points AND mc.points < ? AND mc.series_id IN (",
            (GROW_BELOW,),
        )
        + placeholders(list(series_ids))
        + ")"
    )
    return {int(i): (int(seq), int(n)) for i, seq, n in conn.rows(action, sql)}
