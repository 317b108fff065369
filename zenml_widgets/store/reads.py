"""Every read of pipeline history, written once and run on any backend.

Each method builds its statement (:class:`~zenml_widgets.store.sql.Sql`, with the dialect's
fragments where databases differ) and returns frozen records built by column name. The same
text runs through ``sqlite3`` and psycopg; there is no second read path to keep in step.
"""

from __future__ import annotations

import abc
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from zenml_widgets.store.connection import as_records
from zenml_widgets.store.records import (
    ArtifactRecord,
    AttemptRecord,
    InputRecord,
    PipelineRecord,
    RunGraph,
    RunLineage,
    RunRecord,
    StepRecord,
    record_builder,
)
from zenml_widgets.store.run_tags import as_tags, read_tags_sql
from zenml_widgets.store.sql import Sql, columns, join, placeholders

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection

PIPELINE = columns(PipelineRecord, "pipelines")
RUN = columns(RunRecord, "runs")
STEP = columns(StepRecord, "steps")
ARTIFACT = columns(ArtifactRecord, "artifacts")
ATTEMPT = columns(AttemptRecord, "step_attempts")
#: Ids per ``IN (...)`` list (SQLite allows 32,766 parameters; PostgreSQL 65,535).
CHUNK = 500
#: Graphs of ended runs kept per store (they never change).
GRAPHS_KEPT = 256
R = TypeVar("R")
T = TypeVar("T")


class HistoryReads(abc.ABC):
    """The reads of :class:`~zenml_widgets.store.MetadataStore`; ``_read()`` gives the
    connection to run them on (this thread's, which sees its own open transaction)."""

    #: Graphs of ended runs, and lineages of ended runs compared with ended runs, least
    #: recently used first.
    _graphs: OrderedDict[int, RunGraph]
    _lineages: OrderedDict[int, RunLineage]

    @abc.abstractmethod
    def _read(self) -> Connection:
        """This thread's connection to the store."""

    # -- pipelines -----------------------------------------------------------------------------

    def list_pipelines(self) -> list[PipelineRecord]:
        """All pipelines, ordered by name."""
        sql = Sql(f"SELECT {PIPELINE} FROM pipelines ORDER BY pipelines.name")
        return self._read().records("listing pipelines", sql, PipelineRecord)

    def list_pipeline_run_counts(self) -> list[tuple[PipelineRecord, int]]:
        """All pipelines, ordered by name, each with its number of runs (one query)."""
        sql = Sql(
            f"SELECT {PIPELINE}, (SELECT count(*) FROM runs WHERE runs.pipeline_id = "
            "pipelines.id) AS run_count FROM pipelines ORDER BY pipelines.name"
        )
        names, rows = self._read().query("listing pipelines", sql)
        build = record_builder(PipelineRecord, names)
        return [(build(r), int(r[-1])) for r in rows]

    def get_pipeline(self, name: str) -> PipelineRecord | None:
        """The pipeline called ``name`` or ``None``."""
        sql = Sql(f"SELECT {PIPELINE} FROM pipelines WHERE pipelines.name = ?", (name,))
        found = self._read().records(f"reading pipeline {name!r}", sql, PipelineRecord)
        return found[0] if found else None

    def get_pipeline_by_id(self, pipeline_id: int) -> PipelineRecord:
        """The pipeline with this id."""
        sql = Sql(f"SELECT {PIPELINE} FROM pipelines WHERE pipelines.id = ?", (pipeline_id,))
        return self._read().record("reading a pipeline", sql, PipelineRecord)

    # -- runs ----------------------------------------------------------------------------------

    def count_runs(self, pipeline_id: int) -> int:
        """How many runs the pipeline has."""
        sql = Sql("SELECT count(*) FROM runs WHERE runs.pipeline_id = ?", (pipeline_id,))
        return int(self._read().scalar("counting runs", sql))

    def list_runs(
        self,
        pipeline_id: int,
        *,
        offset: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
        name_contains: str | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
    ) -> list[RunRecord]:
        """A page of the pipeline's runs in start order, sorted and cut in SQL.

        ``name_contains`` matches case-insensitively (``ILIKE`` on PostgreSQL, ``lower() LIKE``
        on SQLite, which folds only ASCII letters) with ``%`` and ``_`` taken literally.
        ``before_id`` / ``after_id`` keep runs with a smaller / larger id (keyset paging).
        """
        conn = self._read()
        where = [Sql("runs.pipeline_id = ?", (pipeline_id,))]
        if name_contains:
            where.append(conn.dialect.contains("runs.name", name_contains))
        if before_id is not None:
            where.append(Sql("runs.id < ?", (before_id,)))
        if after_id is not None:
            where.append(Sql("runs.id > ?", (after_id,)))
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {RUN} FROM runs WHERE " + join(where, " AND ") + f" ORDER BY runs.id {order}"
        return conn.records("listing runs", sql + conn.dialect.page(limit, offset), RunRecord)

    def get_run(self, run_id: int) -> RunRecord:
        """The run with this id."""
        sql = Sql(f"SELECT {RUN} FROM runs WHERE runs.id = ?", (run_id,))
        return self._read().record("reading a run", sql, RunRecord)

    def get_run_by_name(self, pipeline_id: int, name: str) -> RunRecord | None:
        """The pipeline's run called ``name`` or ``None``."""
        sql = Sql(
            f"SELECT {RUN} FROM runs WHERE runs.pipeline_id = ? AND runs.name = ?",
            (pipeline_id, name),
        )
        found = self._read().records(f"reading run {name!r}", sql, RunRecord)
        return found[0] if found else None

    def list_run_names(self, pipeline_id: int, limit: int | None = None) -> list[str]:
        """Run names in start order (the newest ``limit`` if given)."""
        base = Sql("SELECT runs.name FROM runs WHERE runs.pipeline_id = ?", (pipeline_id,))
        conn = self._read()
        if limit is None:
            rows = conn.rows("listing run names", base + " ORDER BY runs.id")
            return [r[0] for r in rows]
        rows = conn.rows(
            "listing run names", base + " ORDER BY runs.id DESC" + conn.dialect.page(limit, 0)
        )
        return [r[0] for r in reversed(rows)]

    def runs_by_id(self, run_ids: Sequence[int]) -> dict[int, RunRecord]:
        """The runs with these ids that exist (ids of unknown runs are left out)."""
        found: dict[int, RunRecord] = {}
        conn = self._read()
        for chunk in _chunks(run_ids):
            sql = f"SELECT {RUN} FROM runs WHERE runs.id IN (" + placeholders(chunk) + ")"
            found.update((r.id, r) for r in conn.records("reading runs", sql, RunRecord))
        return found

    # -- steps ---------------------------------------------------------------------------------

    def list_steps(self, run_id: int) -> list[StepRecord]:
        """The run's steps in execution order."""
        sql = Sql(
            f"SELECT {STEP} FROM steps WHERE steps.run_id = ? ORDER BY steps.position", (run_id,)
        )
        return self._read().records("listing steps", sql, StepRecord)

    def get_step_at(self, run_id: int, position: int) -> StepRecord | None:
        """The run's step at ``position``, or ``None`` if it was not recorded (yet)."""
        sql = Sql(
            f"SELECT {STEP} FROM steps WHERE steps.run_id = ? AND steps.position = ?",
            (run_id, position),
        )
        found = self._read().records("reading a step", sql, StepRecord)
        return found[0] if found else None

    def get_step(self, step_id: int) -> StepRecord:
        """The step with this id."""
        sql = Sql(f"SELECT {STEP} FROM steps WHERE steps.id = ?", (step_id,))
        return self._read().record("reading a step", sql, StepRecord)

    def latest_earlier_steps(
        self, pipeline_id: int, before_run_id: int, names: Sequence[str], lookback: int
    ) -> dict[str, StepRecord]:
        """For each step name, the step of that name in the most recent of the pipeline's
        ``lookback`` runs before ``before_run_id`` that ran one (not ``pending`` or ``skipped``).
        One query for all names."""
        if not names:
            return {}
        sql = (
            f"SELECT {STEP} FROM steps WHERE steps.run_id IN (SELECT runs.id FROM runs "
            + Sql(
                "WHERE runs.pipeline_id = ? AND runs.id < ? ORDER BY runs.id DESC LIMIT ?",
                (pipeline_id, before_run_id, lookback),
            )
            + ") AND steps.name IN ("
            + placeholders(list(names))
            + ") AND steps.status NOT IN ('pending', 'skipped') ORDER BY steps.run_id DESC"
        )
        found: dict[str, StepRecord] = {}
        for record in self._read().records("looking up earlier steps", sql, StepRecord):
            found.setdefault(record.name, record)
        return found

    def find_cached_step(self, cache_key: str) -> StepRecord | None:
        """The newest finished step with this cache key, whose outputs can be reused."""
        sql = Sql(
            f"SELECT {STEP} FROM steps WHERE steps.cache_key = ? "
            "AND steps.status IN ('completed', 'cached') ORDER BY steps.id DESC LIMIT 1",
            (cache_key,),
        )
        found = self._read().records("looking up the cache", sql, StepRecord)
        return found[0] if found else None

    def steps_without_values(self, *, after_id: int = 0, limit: int = 1000) -> list[StepRecord]:
        """Steps (in id order, after ``after_id``) that have no run values yet."""
        sql = Sql(
            f"SELECT {STEP} FROM steps WHERE steps.id > ? AND NOT EXISTS "
            "(SELECT 1 FROM run_values WHERE run_values.step_id = steps.id) "
            "ORDER BY steps.id LIMIT ?",
            (after_id, limit),
        )
        return self._read().records("listing steps to backfill", sql, StepRecord)

    def count_steps(self) -> int:
        """How many steps the store holds (for progress bars)."""
        return int(self._read().scalar("counting steps", Sql("SELECT count(*) FROM steps")))

    # -- artifacts -----------------------------------------------------------------------------

    def list_outputs(self, step_id: int) -> list[ArtifactRecord]:
        """The step's outputs, in the order they were declared."""
        sql = Sql(
            f"SELECT {ARTIFACT} FROM artifacts WHERE artifacts.step_id = ? ORDER BY artifacts.id",
            (step_id,),
        )
        return self._read().records("listing outputs", sql, ArtifactRecord)

    def list_inputs(self, step_id: int) -> list[InputRecord]:
        """The step's inputs with the artifacts they received."""
        sql = Sql(
            f"SELECT step_inputs.name AS input_name, {ARTIFACT} FROM step_inputs "
            "JOIN artifacts ON artifacts.id = step_inputs.artifact_id "
            "WHERE step_inputs.step_id = ? ORDER BY step_inputs.id",
            (step_id,),
        )
        names, rows = self._read().query("listing inputs", sql)
        build = record_builder(ArtifactRecord, names)
        return [InputRecord(r[0], build(r)) for r in rows]

    def get_artifact(self, artifact_id: int) -> ArtifactRecord:
        """The artifact with this id."""
        sql = Sql(f"SELECT {ARTIFACT} FROM artifacts WHERE artifacts.id = ?", (artifact_id,))
        return self._read().record("reading an artifact", sql, ArtifactRecord)

    # -- what a view shows, in one round trip ----------------------------------------------------

    def run_tags(self, run_id: int) -> dict[str, str]:
        """The run's tags, ``{key: value}`` (keys sorted)."""
        return as_tags(self._read().rows("reading run tags", read_tags_sql(run_id)))

    def run_graph(self, run_id: int) -> RunGraph:
        """The run with its pipeline, steps, outputs, inputs and tags, read in one batch (one
        round trip to a server). A run that has ended does not change: its graph is kept and
        handed out again without asking the database, without its tags (``tags`` is
        ``None``: tags change after a run has ended)."""
        cached = self._graphs.get(run_id)
        if cached is not None:
            self._graphs.move_to_end(run_id)
            return cached
        conn = self._read()
        return self._graph_of(conn, conn.batch("reading a run", run_graph_statements(run_id)))

    def _graph_of(self, conn: Connection, rows: Sequence[Any]) -> RunGraph:
        """The run graph from the rows of :func:`run_graph_statements` (kept once it has ended)."""
        run, pipeline, steps, outputs, inputs, tags = rows
        action = "reading a run"
        graph = RunGraph(
            pipeline=conn.only(action, as_records(pipeline, PipelineRecord)),
            run=conn.only(action, as_records(run, RunRecord)),
            steps=tuple(as_records(steps, StepRecord)),
            outputs=_grouped((a.step_id, a) for a in as_records(outputs, ArtifactRecord)),
            inputs=_grouped(_inputs(inputs)),
            tags=as_tags(tags[1]),
        )
        if graph.ended:
            self._graphs[graph.run.id] = replace(graph, tags=None)
            if len(self._graphs) > GRAPHS_KEPT:
                self._graphs.popitem(last=False)
        return graph

    def run_lineage(self, run_id: int, lookback: int) -> RunLineage:
        """What explaining the run's steps needs (see :class:`RunLineage`), in one batch: each
        step's namesake in the most recent of the pipeline's ``lookback`` earlier runs that has
        one, its inputs, outputs and run; the steps cached steps reused, their runs; and those
        runs' pipelines."""
        cached = self._lineages.get(run_id)
        if cached is not None:
            return cached
        action = "reading a run's lineage"
        latest = Sql(
            "WITH recent AS (SELECT runs.id FROM runs WHERE runs.pipeline_id = "
            "(SELECT r.pipeline_id FROM runs r WHERE r.id = ?) AND runs.id < ? "
            "ORDER BY runs.id DESC LIMIT ?), "
            "latest AS (SELECT s.name AS latest_name, max(s.run_id) AS latest_run FROM steps s "
            "WHERE s.run_id IN (SELECT id FROM recent) "
            "AND s.name IN (SELECT n.name FROM steps n WHERE n.run_id = ?) "
            "AND s.status NOT IN ('pending', 'skipped') GROUP BY s.name), "
            "earlier AS (SELECT steps.id FROM steps JOIN latest "
            "ON steps.name = latest.latest_name AND steps.run_id = latest.latest_run), "
            "sources AS (SELECT c.source_step_id AS id FROM steps c "
            "WHERE c.run_id = ? AND c.source_step_id IS NOT NULL) ",
            (run_id, run_id, lookback, run_id, run_id),
        )
        involved = "(SELECT id FROM earlier UNION SELECT id FROM sources)"
        runs_of = f"(SELECT steps.run_id FROM steps WHERE steps.id IN {involved})"
        earlier, sources, outputs, inputs, runs, pipelines = self._read().batch(
            action,
            [
                latest + f"SELECT {STEP} FROM steps WHERE steps.id IN (SELECT id FROM earlier)",
                latest + f"SELECT {STEP} FROM steps WHERE steps.id IN (SELECT id FROM sources)",
                latest + f"SELECT {ARTIFACT} FROM artifacts WHERE artifacts.step_id IN "
                "(SELECT id FROM earlier) ORDER BY artifacts.id",
                latest + "SELECT step_inputs.step_id AS input_step_id, step_inputs.name AS "
                f"input_name, {ARTIFACT} FROM step_inputs JOIN artifacts ON artifacts.id = "
                "step_inputs.artifact_id WHERE step_inputs.step_id IN (SELECT id FROM earlier) "
                "ORDER BY step_inputs.id",
                latest + f"SELECT {RUN} FROM runs WHERE runs.id IN {runs_of}",
                latest + f"SELECT {PIPELINE} FROM pipelines WHERE pipelines.id IN "
                f"(SELECT runs.pipeline_id FROM runs WHERE runs.id IN {runs_of})",
            ],
        )
        lineage = RunLineage(
            earlier={r.name: r for r in as_records(earlier, StepRecord)},
            outputs=_grouped((a.step_id, a) for a in as_records(outputs, ArtifactRecord)),
            inputs=_grouped(_inputs(inputs)),
            sources={r.id: r for r in as_records(sources, StepRecord)},
            runs={r.id: r for r in as_records(runs, RunRecord)},
            pipelines={r.id: r for r in as_records(pipelines, PipelineRecord)},
        )
        graph = self._graphs.get(run_id)
        if graph is not None and all(r.status != "running" for r in lineage.runs.values()):
            # the run and every run it was compared with have ended: nothing here changes
            self._lineages[run_id] = lineage
            if len(self._lineages) > GRAPHS_KEPT:
                self._lineages.popitem(last=False)
        return lineage

    def output_uris(self, run_ids: Sequence[int]) -> set[str]:
        """Every artifact URI the steps of these runs record."""
        uris: set[str] = set()
        conn = self._read()
        for chunk in _chunks(run_ids):
            sql = (
                "SELECT artifacts.uri FROM artifacts JOIN steps ON steps.id = artifacts.step_id "
                "WHERE steps.run_id IN (" + placeholders(chunk) + ")"
            )
            uris.update(r[0] for r in conn.rows("listing output URIs", sql))
        return uris

    # -- attempts (the run lifecycle) ------------------------------------------------------------

    def list_attempts(self, step_id: int) -> list[AttemptRecord]:
        """The step's attempts, oldest first."""
        sql = Sql(
            f"SELECT {ATTEMPT} FROM step_attempts WHERE step_attempts.step_id = ? "
            "ORDER BY step_attempts.number",
            (step_id,),
        )
        return self._read().records("listing attempts", sql, AttemptRecord)

    def step_statuses(self, step_ids: Sequence[int]) -> dict[int, str]:
        """The stored status of each of these steps, by id."""
        found: dict[int, str] = {}
        conn = self._read()
        for chunk in _chunks(step_ids):
            sql = (
                "SELECT steps.id, steps.status FROM steps WHERE steps.id IN ("
                + placeholders(chunk)
                + ")"
            )
            found.update((int(i), str(s)) for i, s in conn.rows("reading step statuses", sql))
        return found

    def open_run_ids(self) -> list[int]:
        """Ids of the runs recorded as ``running`` (some may be interrupted), oldest first."""
        sql = Sql("SELECT runs.id FROM runs WHERE runs.status = 'running' ORDER BY runs.id")
        return [int(r[0]) for r in self._read().rows("listing running runs", sql)]


def _inputs(result: tuple[tuple[str, ...], list[Any]]) -> list[tuple[int, InputRecord]]:
    """``(step id, input)`` of rows that start with the step id and the input's name."""
    names, rows = result
    build = record_builder(ArtifactRecord, names)
    return [(r[0], InputRecord(r[1], build(r))) for r in rows]


def _grouped(items: Iterable[tuple[int, T]]) -> dict[int, tuple[T, ...]]:
    found: dict[int, list[T]] = {}
    for key, item in items:
        found.setdefault(key, []).append(item)
    return {key: tuple(group) for key, group in found.items()}


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    return [list(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)]


def run_graph_statements(run_id: int) -> list[Sql]:
    """The statements of a run's graph (:meth:`HistoryReads.run_graph`): the run, its
    pipeline, steps, outputs, inputs and tags."""
    of_run = Sql("steps.run_id = ?", (run_id,))
    return [
        Sql(f"SELECT {RUN} FROM runs WHERE runs.id = ?", (run_id,)),
        Sql(
            f"SELECT {PIPELINE} FROM pipelines WHERE pipelines.id = "
            "(SELECT runs.pipeline_id FROM runs WHERE runs.id = ?)",
            (run_id,),
        ),
        f"SELECT {STEP} FROM steps WHERE " + of_run + " ORDER BY steps.position",
        f"SELECT {ARTIFACT} FROM artifacts JOIN steps ON steps.id = artifacts.step_id "
        "WHERE " + of_run + " ORDER BY artifacts.id",
        "SELECT step_inputs.step_id AS input_step_id, step_inputs.name AS input_name, "
        f"{ARTIFACT} FROM step_inputs JOIN steps ON steps.id = step_inputs.step_id "
        "JOIN artifacts ON artifacts.id = step_inputs.artifact_id "
        "WHERE " + of_run + " ORDER BY step_inputs.id",
        read_tags_sql(run_id),
    ]
