"""Metrics a step logs while it runs (``log_metric``): their series, points and last values.

A step attempt's metric ``loss`` is one ``metric_series`` row (its length and last point), one
``metric_points`` row per point, numbered in the order they were logged (``seq``), and the same
points packed in a few ``metric_chunks`` (``store/metric_chunks.py``): whole histories are read
from the chunks, a picture's sample of points from the rows. The runner writes them in batches
(:meth:`MetricHistory.record_metrics`), each batch one transaction that also keeps the run's
``<step>.metrics.<name>`` run value (kind ``curve``) at the series' last value, so the runs
table filters and sorts on it in SQL. Reads take a step's current attempt, or for a cached step
the attempt of the step that produced its outputs. NaN is stored as NULL in the rows, as NaN in
the chunks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from zenml_widgets.store.metric_chunks import PackedPoints, packed, write_chunks
from zenml_widgets.store.reads import run_graph_statements
from zenml_widgets.store.sql import Sql, placeholders
from zenml_widgets.store.values import encode
from zenml_widgets.store.writes import HistoryWrites, _Known

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection
    from zenml_widgets.store.records import RunGraph

#: The run-value kind of a logged metric's last value, and the word in its column name.
CURVE = "curve"
METRICS_WORD = "metrics"
#: A point as the runner hands it over: (name, seq, step, value, time).
Point = tuple[str, int, int, float, float]
_POINT_COLUMNS = ("series_id", "seq", "step", "value", "time")
_VALUE_COLUMNS = (
    "pipeline_id", "run_id", "step_id", "name", "kind", "output_name", "key", "value_type",
    "num_value", "text_value",
)  # fmt: skip
# The series of a step's current attempt, or of the step a cached step reused.
_SERIES_OF = (
    "steps st JOIN steps src ON src.id = COALESCE(st.source_step_id, st.id) "
    "JOIN metric_series ms ON ms.step_id = src.id AND ms.attempt = src.attempt"
)
_SERIES_COLUMNS = "ms.id, ms.name, ms.points, ms.last_step, ms.last_value, ms.last_time"
# The points of the series behind a run value ``rv`` of kind ``curve`` (a cached step's source).
_SOURCE_SERIES_OF = (
    "JOIN steps st ON st.id = rv.step_id "
    "JOIN steps src ON src.id = COALESCE(st.source_step_id, st.id) "
    "JOIN metric_series ms ON ms.step_id = src.id AND ms.attempt = src.attempt "
    "AND ms.name = rv.key "
)


def column_of(step_name: str, metric: str) -> str:
    """The runs-table column of a logged metric: ``trainer.metrics.loss``."""
    return f"{step_name}.{METRICS_WORD}.{metric}"


@dataclass(frozen=True, slots=True)
class MetricSeriesRecord:
    """One logged metric of a step: its name, how many points it has, and its last point."""

    name: str
    points: int
    last_step: int | None
    last_value: float | None
    last_time: float | None


@dataclass(frozen=True, slots=True)
class MetricPoints:
    """A metric's points in the order they were logged: step indexes, values (NaN kept) and
    times (seconds since the epoch). A sampled read keeps every k-th point and the last."""

    steps: list[int]
    values: list[float]
    times: list[float]


def _value(stored: float | None) -> float:
    return math.nan if stored is None else float(stored)


def _series(rows: Sequence[Sequence[Any]]) -> list[MetricSeriesRecord]:
    return [
        MetricSeriesRecord(
            name=str(name), points=int(points), last_step=last_step,
            last_value=None if last_step is None else _value(last_value), last_time=last_time,
        )
        for _id, name, points, last_step, last_value, last_time in rows
    ]  # fmt: skip


def _points(rows: Sequence[Sequence[Any]], first: int = 1) -> dict[Any, MetricPoints]:
    """Rows ``(key, ..., step, value, time)`` (the data from column ``first``), grouped by
    their key in order."""
    found: dict[Any, MetricPoints] = {}
    for key, group in groupby(rows, itemgetter(0)):
        columns = list(zip(*group, strict=True))
        values = list(columns[first + 1])
        if None in values:
            values = [math.nan if v is None else v for v in values]
        found[key] = MetricPoints(list(columns[first]), values, list(columns[first + 2]))
    return found


def _sampled(keys: Sequence[str], series: Sql, max_points: int) -> Sql:
    """The points of the series ``ms`` that ``series`` finds (its ``FROM ... WHERE ...``),
    about ``max_points`` of each: every k-th point (k so that at most ``max_points`` remain)
    and the last, each read by its key, so a picture of a curve of a million points reads 500
    rows, not a million. Rows ``(*keys, step, value, time)``, ordered by the first key and
    then as logged; ``keys`` are expressions over the tables of ``series``."""
    names = [f"key{i}" for i in range(len(keys))]
    carried = ", ".join(names)
    return (
        Sql(
            f"WITH RECURSIVE picks({carried}, sid, seq, k, last) AS (SELECT {', '.join(keys)}, "
            "ms.id, CAST(0 AS BIGINT), (ms.points + ? - 1) / ?, ms.points - 1 ",
            (max_points, max_points),
        )
        + series
        + " AND ms.points > 0 UNION ALL "
        f"SELECT {carried}, sid, CASE WHEN seq + k < last THEN seq + k ELSE last END, k, last "
        "FROM picks WHERE seq < last) "
        f"SELECT {', '.join('p.' + n for n in names)}, mp.step, mp.value, mp.time FROM picks p "
        "JOIN metric_points mp ON mp.series_id = p.sid AND mp.seq = p.seq "
        "ORDER BY p.key0, p.seq"
    )


class MetricHistory(HistoryWrites):
    """The metric reads and writes of :class:`~zenml_widgets.store.MetadataStore`."""

    # -- writes --------------------------------------------------------------------------------

    def record_metrics(
        self,
        *,
        run_id: int,
        step_id: int,
        step_name: str,
        attempt: int,
        points: Sequence[Point],
        series: dict[str, int],
        fresh: bool = False,
    ) -> None:
        """Record a batch of points of one step attempt, with their series' lengths and last
        points and the run's last values, in one transaction. ``series``: the ids of the series
        this attempt has (name -> id), completed here for new names once the batch commits.
        ``fresh``: the attempt's first batch (a retry drops the last values of the one before).
        """
        action = f"recording the metrics of step {step_name!r}"
        with self._write(action) as (conn, staged):
            if fresh and attempt > 1:
                conn.execute(
                    action,
                    Sql("DELETE FROM run_values WHERE step_id = ? AND kind = ?", (step_id, CURVE)),
                )
            ids = dict(series)
            names = {p[0] for p in points}
            new = sorted(names - set(ids))
            if new:
                ids.update(self._new_series(conn, action, step_id, attempt, new))
            rows = [(ids[n], seq, s, v, t) for n, seq, s, v, t in points]
            write_chunks(conn, action, rows, grown=sorted(ids[n] for n in names & series.keys()))
            conn.insert_rows(
                action, "metric_points", _POINT_COLUMNS,
                [(i, seq, s, None if v != v else v, t) for i, seq, s, v, t in rows],
            )  # fmt: skip
            last = {p[0]: p for p in points}
            conn.execute_many(
                action,
                Sql(
                    "UPDATE metric_series SET points = ?, last_step = ?, last_value = ?, "
                    "last_time = ? WHERE id = ?"
                ),
                [(q + 1, s, None if v != v else v, t, ids[n]) for n, q, s, v, t in last.values()],
            )
            values = {n: p[3] for n, p in last.items()}
            self._record_last_values(conn, staged, run_id, step_id, step_name, values)
            conn.after_commit(lambda: series.update(ids))

    def _new_series(
        self, conn: Connection, action: str, step_id: int, attempt: int, names: list[str]
    ) -> dict[str, int]:
        insert = conn.dialect.insert_or_ignore(
            "metric_series", ("step_id", "attempt", "name", "points"),
            ("step_id", "attempt", "name"),
        )  # fmt: skip
        conn.execute_many(action, Sql(insert), [(step_id, attempt, n, 0) for n in names])
        rows = conn.rows(
            action,
            Sql("SELECT id, name FROM metric_series WHERE step_id = ? AND attempt = ?",
                (step_id, attempt)),
        )  # fmt: skip
        return {str(name): int(i) for i, name in rows if name in names}

    def _record_last_values(
        self,
        conn: Connection,
        staged: _Known,
        run_id: int,
        step_id: int,
        step_name: str,
        values: dict[str, float],
    ) -> None:
        """Keep the run's ``<step>.metrics.<name>`` values at these last values. A column name
        the run already has for something else (a parameter, an output's key) keeps that."""
        pipeline_id = self._pipeline_of_run(conn, staged, run_id)
        rows = []
        for name, value in sorted(values.items()):
            value_type, num, text = encode(float(value))
            rows.append((pipeline_id, run_id, step_id, column_of(step_name, name), CURVE, None,
                         name, value_type, num, text))  # fmt: skip
        upsert = (
            f"INSERT INTO run_values ({', '.join(_VALUE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_VALUE_COLUMNS))}) ON CONFLICT (run_id, name) DO "
            "UPDATE SET num_value = excluded.num_value, text_value = excluded.text_value "
            "WHERE run_values.kind = excluded.kind AND run_values.step_id = excluded.step_id"
        )
        conn.execute_many("recording the last values of metrics", Sql(upsert), rows)
        known = self._known.catalogued | staged.catalogued
        entries = {(pipeline_id, r[3], "float") for r in rows} - known
        if entries:
            keys = ("pipeline_id", "name", "value_type")
            catalogue = conn.dialect.insert_or_ignore(
                "run_value_columns", ("pipeline_id", "name", "value_type", "kind"), keys
            )
            conn.execute_many(
                "cataloguing run values", Sql(catalogue), [(*e, CURVE) for e in sorted(entries)]
            )
            staged.catalogued |= entries

    def copy_curves(self, conn: Connection, staged: _Known, step_id: int, source_id: int) -> None:
        """A cached step: the run gets the last values of the step that produced its outputs
        (its points stay that step's; reads find them through ``source_step_id``)."""
        run_id, step_name = self._run_and_name_of_step(conn, staged, step_id)
        rows = conn.rows(
            "reading the metrics of a cached step",
            Sql(f"SELECT {_SERIES_COLUMNS} FROM {_SERIES_OF} WHERE st.id = ?", (source_id,)),
        )
        values = {s.name: s.last_value for s in _series(rows) if s.last_value is not None}
        if values:
            self._record_last_values(conn, staged, run_id, step_id, step_name, values)

    # -- reads ---------------------------------------------------------------------------------

    def metric_series(self, step_id: int) -> list[MetricSeriesRecord]:
        """The metrics the step logged (a cached step: those of the step it reused), by name."""
        sql = Sql(
            f"SELECT {_SERIES_COLUMNS} FROM {_SERIES_OF} WHERE st.id = ? ORDER BY ms.name",
            (step_id,),
        )
        return _series(self._read().rows("listing a step's metrics", sql))

    def metric_table(self, step_id: int) -> list[tuple[str, PackedPoints]]:
        """Every point of the step's metrics: (name, its points in logged order) by name; empty
        when it logged none."""
        sql = Sql(
            f"SELECT ms.name, mc.step_data, mc.value_data, mc.time_data FROM {_SERIES_OF} "
            "JOIN metric_chunks mc ON mc.series_id = ms.id WHERE st.id = ? "
            "ORDER BY ms.name, mc.seq",
            (step_id,),
        )
        rows = self._read().rows("reading a step's metrics", sql)
        return [(str(name), points) for name, points in packed(rows).items()]

    def metric_column(self, step_id: int, name: str) -> PackedPoints | None:
        """Every point of the step's metric ``name`` in logged order (without times); ``None``
        when the step logged no such metric."""
        sql = Sql(
            f"SELECT ms.name, mc.step_data, mc.value_data FROM {_SERIES_OF} JOIN metric_chunks mc "
            "ON mc.series_id = ms.id WHERE st.id = ? AND ms.name = ? ORDER BY mc.seq",
            (step_id, name),
        )
        found = packed(self._read().rows("reading a step's metric", sql), times=False)
        return found.get(name)

    def step_curves(
        self, step_id: int, *, max_points: int
    ) -> tuple[list[MetricSeriesRecord], dict[str, MetricPoints]]:
        """A step's metrics and about ``max_points`` points of each, read together (one round
        trip to a server): what its learning curves show."""
        found, rows = self._read().batch(
            "reading a step's metrics", _curve_statements(step_id, max_points)
        )
        return _series(found[1]), _points(rows[1])

    def run_graph_and_curves(
        self, run_id: int, step_id: int, *, max_points: int
    ) -> tuple[RunGraph, tuple[list[MetricSeriesRecord], dict[str, MetricPoints]]]:
        """:meth:`run_graph` and :meth:`step_curves` of one of its steps, read together (one
        round trip to a server): a tick of the live explorer on a step that logs metrics."""
        conn = self._read()
        rows = conn.batch(
            "reading a run",
            [*run_graph_statements(run_id), *_curve_statements(step_id, max_points)],
        )
        found, points = rows[-2:]
        return self._graph_of(conn, rows[:-2]), (_series(found[1]), _points(points[1]))

    def curve_histories(
        self,
        column: str,
        *,
        run_ids: Sequence[int] | None = None,
        pipeline_id: int | None = None,
        run_names: Sequence[str] | None = None,
        max_points: int | None = None,
    ) -> dict[int, tuple[str, MetricPoints]]:
        """The logged metric behind runs-table column ``column`` (``trainer.metrics.loss``) in
        each of these runs that has it: run id -> (run name, its points in logged order), in
        one query. The runs are ``run_ids``, or the runs of ``pipeline_id`` called
        ``run_names``; with ``max_points``, about that many points of each (every k-th and the
        last)."""
        if run_ids is not None:
            runs = "rv.run_id IN (" + placeholders(list(run_ids) or [-1]) + ")"
        else:
            runs = (
                Sql("r.pipeline_id = ? AND r.name IN (", (pipeline_id,))
                + placeholders(list(run_names or ()) or [""])
                + ")"
            )

        def found(chunks: str) -> Sql:
            return (
                "FROM run_values rv JOIN runs r ON r.id = rv.run_id "
                + _SOURCE_SERIES_OF
                + chunks
                + Sql("WHERE rv.name = ? AND rv.kind = ? AND ", (column, CURVE))
                + runs
            )

        read = self._read()
        if max_points is not None:
            sampled = _sampled(["r.id", "r.name"], found(""), max_points)
            rows = read.rows("reading metric histories", sampled)
            names = {r[0]: str(r[1]) for r in rows}
            return {run: (names[run], p) for run, p in _points(rows, first=2).items()}
        whole = (
            "SELECT r.id, r.name, mc.step_data, mc.value_data, mc.time_data "
            + found("JOIN metric_chunks mc ON mc.series_id = ms.id ")
            + " ORDER BY r.id, mc.seq"
        )
        rows = read.rows("reading metric histories", whole)
        names = {r[0]: str(r[1]) for r in rows}
        return {
            run: (names[run], MetricPoints(p.steps.tolist(), p.values.tolist(), p.times.tolist()))
            for run, p in packed([(r[0], *r[2:]) for r in rows]).items()
        }

    def curve_columns(self, column: str, run_ids: Sequence[int]) -> dict[int, PackedPoints]:
        """Every point of the logged metric behind ``column`` in each of these runs that has
        it (without times): run id -> its points in logged order; one query, a few blobs per
        run."""
        sql = (
            "SELECT rv.run_id, mc.step_data, mc.value_data FROM run_values rv "
            + _SOURCE_SERIES_OF
            + "JOIN metric_chunks mc ON mc.series_id = ms.id "
            + Sql("WHERE rv.name = ? AND rv.kind = ? AND rv.run_id IN (", (column, CURVE))
            + placeholders(list(run_ids) or [-1])
            + ") ORDER BY rv.run_id, mc.seq"
        )
        return packed(self._read().rows("reading metric histories", sql), times=False)


def _curve_statements(step_id: int, max_points: int) -> list[Sql]:
    """A step's metrics and about ``max_points`` points of each (every k-th and the last)."""
    series = Sql(
        f"SELECT {_SERIES_COLUMNS} FROM {_SERIES_OF} WHERE st.id = ? ORDER BY ms.name",
        (step_id,),
    )
    points = _sampled(
        ["ms.name"], Sql(f"FROM {_SERIES_OF} WHERE st.id = ?", (step_id,)), max_points
    )
    return [series, points]
