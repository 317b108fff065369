"""The run lifecycle, enforced by the store: every change of a run's or a step's status is a
guarded statement in the transaction of the write, so no writer can rewrite what has ended.

A run is ``running`` until it is ``completed`` or ``failed``; its steps are recorded ``pending``
when it starts. Each execution of a step is an attempt (``step_attempts``); the step's
``attempt`` column holds the current attempt's number, which is the fencing token of every
write of the step: ``UPDATE ... WHERE status IN (...) AND attempt = ?`` plus a check of the row
count. So:

* no transition leaves a terminal state (``completed``, ``cached``, ``failed``, ``skipped``), and
  nothing of a run changes once it has ended (``gc`` ends runs whose process died);
* an attempt that was superseded (its Dask worker was lost, it timed out) cannot record a result:
  :class:`~zenml_widgets.exceptions.AttemptRefusedError`, and its caller removes its outputs;
* a writer that finds the run's process dead (the rule of :mod:`liveness`) refuses the write:
  readers already report that run ended (they derive it, and never write), and ``gc`` records
  its end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import AttemptRefusedError, RunNameClashError
from zenml_widgets.store import run_values
from zenml_widgets.store.connection import ConstraintError
from zenml_widgets.store.liveness import interruption, this_host
from zenml_widgets.store.metrics import MetricHistory
from zenml_widgets.store.reads import RUN
from zenml_widgets.store.records import (
    ArtifactRecord,
    AttemptRecord,
    NewArtifact,
    PlannedStep,
    RunRecord,
    StepRecord,
    Worker,
    utcnow,
)
from zenml_widgets.store.sql import Sql
from zenml_widgets.store.transitions import WORKER_LOST, end_attempt, end_run, new_attempt
from zenml_widgets.store.values import parameter_values
from zenml_widgets.store.writes import _Known, insert_artifact

if TYPE_CHECKING:
    from datetime import datetime

    from zenml_widgets.store.connection import Connection

# The guards of a step's writes: the step is open, and so is its run.
_RUN_OPEN = Sql(
    "EXISTS (SELECT 1 FROM runs WHERE runs.id = steps.run_id AND runs.status = 'running')"
)
_FINISHABLE = "status = 'running' AND " + _RUN_OPEN
_FAILABLE = "status IN ('pending', 'running') AND " + _RUN_OPEN


class RunLifecycle(MetricHistory):
    """Runs, steps and attempts: their records and every change of their status."""

    # -- runs ----------------------------------------------------------------------------------

    def start_run(
        self,
        pipeline_id: int,
        name: str,
        *,
        pid: int | None,
        hostname: str | None,
        steps: Sequence[PlannedStep] = (),
    ) -> tuple[RunRecord, dict[int, int]]:
        """Record a new run as ``running`` with its ``steps`` ``pending``, in one transaction;
        the run and its steps' ids by position. A name already used in the pipeline is refused
        (``RunNameClashError``)."""
        action = f"creating run {name!r}"
        try:
            with self._write(action) as (conn, staged):
                now = utcnow()  # after BEGIN IMMEDIATE on SQLite: start times follow id order
                sql = Sql(
                    "INSERT INTO runs (pipeline_id, name, status, start_time, heartbeat_at, pid, "
                    "hostname) VALUES (?, ?, 'running', ?, ?, ?, ?) RETURNING id",
                    (pipeline_id, name, now, now, pid, hostname),
                )
                run_id = int(conn.scalar(action, sql))
                staged.run_pipeline[run_id] = pipeline_id
                if pid == os.getpid() and hostname == this_host():
                    staged.own_runs[run_id] = pid
                ids = self._plan_steps(conn, staged, pipeline_id, run_id, steps, now)
        except ConstraintError as e:
            # Only a taken name is a clash; any other constraint failing stays a StoreError.
            if self.get_run_by_name(pipeline_id, name) is not None:
                raise RunNameClashError(
                    f"A run named {name!r} already exists in this pipeline; run names are unique "
                    "per pipeline. Pass another run_name, or None for a generated one."
                ) from e
            raise
        run = RunRecord(
            id=run_id, pipeline_id=pipeline_id, name=name, status="running", start_time=now,
            end_time=None, heartbeat_at=now, pid=pid, hostname=hostname, error=None,
        )  # fmt: skip
        return run, ids

    def create_run(
        self, pipeline_id: int, name: str, *, pid: int | None, hostname: str | None
    ) -> RunRecord:
        """Record a new run as ``running``, with no steps yet (see :meth:`start_run`)."""
        return self.start_run(pipeline_id, name, pid=pid, hostname=hostname)[0]

    def _plan_steps(
        self,
        conn: Connection,
        staged: _Known,
        pipeline_id: int,
        run_id: int,
        steps: Sequence[PlannedStep],
        now: datetime,
    ) -> dict[int, int]:
        if not steps:
            return {}
        conn.execute_many(
            "recording the run's steps",
            Sql(
                "INSERT INTO steps (run_id, position, name, entrypoint_name, parameters, status, "
                "start_time, code_hash, cache_enabled, attempt) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, 0)"
            ),
            [
                (
                    run_id,
                    s.position,
                    s.name,
                    s.entrypoint_name,
                    json.dumps(s.parameters, sort_keys=True),
                    now,
                    s.code_hash,
                    s.cache_enabled,
                )
                for s in steps
            ],
        )
        rows = conn.rows(
            "recording the run's steps",
            Sql("SELECT steps.id, steps.position FROM steps WHERE steps.run_id = ?", (run_id,)),
        )
        ids = {int(position): int(step_id) for step_id, position in rows}
        for s in steps:
            staged.step_run[ids[s.position]] = (run_id, s.name)
            values = parameter_values(s.parameters)
            if values:
                staged.catalogued |= run_values.record_values(
                    conn, pipeline_id=pipeline_id, run_id=run_id, step_id=ids[s.position],
                    step_name=s.name, kind="param", values=values,
                    catalogued=self._known.catalogued | staged.catalogued,
                )  # fmt: skip
        return ids

    def finish_run(self, run_id: int, status: str, error: str | None = None) -> bool:
        """End a running run as ``status``: its steps still ``running`` fail, those still
        ``pending`` are ``skipped``. ``False`` (and nothing changes) if it had ended already."""
        with self._write("finishing a run") as (conn, _):
            return end_run(conn, run_id, status, error)

    def end_interrupted_runs(self, run_ids: Sequence[int]) -> list[int]:
        """End those of these runs whose process died (``liveness.interruption``) as
        ``failed``, with the reason; the ids of the runs ended. Used by ``gc``."""
        ended = []
        for run in self.runs_by_id(run_ids).values():
            reason = interruption(run)
            if reason is not None and self.finish_run(run.id, "failed", reason):
                ended.append(run.id)
        return ended

    def heartbeat(self, run_id: int) -> None:
        """Record that the process running ``run_id`` is alive."""
        with self._write("recording a heartbeat") as (conn, _):
            conn.execute(
                "recording a heartbeat",
                Sql(
                    "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'",
                    (utcnow(), run_id),
                ),
            )

    # -- attempts ------------------------------------------------------------------------------

    def start_attempt(
        self,
        step_id: int,
        *,
        expected: int,
        worker: Worker,
        cache_key: str | None = None,
        inputs: dict[str, int] | None = None,
        superseded: str = WORKER_LOST,
    ) -> AttemptRecord:
        """Start the step's attempt number ``expected + 1``: the step becomes ``running``.

        ``expected`` is the attempt the caller takes over (0: the step is ``pending``); if it
        is still running, it fails with ``superseded`` as its error. ``inputs`` (input name ->
        artifact id) are recorded with the first attempt. Refused (``AttemptRefusedError``)
        when the step or its run has ended, or another attempt took over first.
        """
        action = "starting a step attempt"
        with self._write(action) as (conn, staged):
            refusal = self._check_run(conn, staged, step_id)
            if refusal is None:
                now = utcnow()
                changed = conn.execute(
                    action,
                    Sql(
                        "UPDATE steps SET status = 'running', attempt = attempt + 1, "
                        "start_time = ?, end_time = NULL, error = NULL, "
                        "cache_key = COALESCE(?, cache_key) "
                        "WHERE id = ? AND attempt = ? AND status IN ('pending', 'running') AND ",
                        (now, cache_key, step_id, expected),
                    )
                    + _RUN_OPEN,
                )
                refusal = None if changed == 1 else self._why_refused(conn, step_id, expected)
            if refusal is None:
                return new_attempt(conn, step_id, expected, now, worker, inputs, superseded)
        raise self._refused(step_id, expected + 1, "start", refusal)

    def fail_attempt(self, step_id: int, attempt: int, error: str) -> None:
        """End the step's current attempt ``attempt`` as ``failed``; the step stays
        ``running`` (another attempt follows). Refused as :meth:`start_attempt`."""
        action = "ending a step attempt"
        with self._write(action) as (conn, staged):
            refusal = self._check_run(conn, staged, step_id, trust_own=False)
            refusal = refusal or self._check_current(conn, step_id, attempt)
            if refusal is None:
                end_attempt(conn, step_id, attempt, "failed", error)
                return
        raise self._refused(step_id, attempt, "record", refusal)

    def finish_attempt(
        self,
        step_id: int,
        attempt: int,
        status: str,
        *,
        outputs: Sequence[NewArtifact] = (),
        source_step_id: int | None = None,
        error: str | None = None,
    ) -> list[ArtifactRecord]:
        """End the step with its attempt ``attempt``: ``status`` (``completed``, ``cached`` or
        ``failed``), its outputs and error, in one transaction. Refused
        (``AttemptRefusedError``, nothing recorded) unless ``attempt`` is the step's current
        attempt, the step is ``running`` (or ``pending``, to fail it) and its run too."""
        action = "finishing a step"
        with self._write(action) as (conn, staged):
            refusal = self._check_run(conn, staged, step_id)
            if refusal is None:
                now = utcnow()
                # Only a failure may end a step that never started (its worker died first).
                open_states = _FAILABLE if status == "failed" else _FINISHABLE
                changed = conn.execute(
                    action,
                    Sql(
                        "UPDATE steps SET status = ?, end_time = ?, source_step_id = ?, "
                        "error = ? WHERE id = ? AND attempt = ? AND ",
                        (status, now, source_step_id, error, step_id, attempt),
                    )
                    + open_states,
                )
                refusal = None if changed == 1 else self._why_refused(conn, step_id, attempt)
            if refusal is None:
                end_attempt(conn, step_id, attempt, status, error, now)
                records = [insert_artifact(conn, step_id, o, now) for o in outputs]
                if outputs:
                    self._record_metrics(conn, staged, step_id, outputs)
                if status == "cached" and source_step_id is not None:
                    self.copy_curves(conn, staged, step_id, source_step_id)
                return records
        raise self._refused(step_id, attempt, "record", refusal)

    def _refused(self, step_id: int, attempt: int, what: str, why: str) -> AttemptRefusedError:
        _run_id, name = self._known.step_run.get(step_id, (0, f"#{step_id}"))
        return AttemptRefusedError(
            f"The metadata store refused to {what} attempt {attempt} of step {name!r}: {why}. "
            "Nothing of this attempt is recorded (its outputs are removed); the step's record "
            "stays as its current attempt or its run's end left it."
        )

    def _check_run(
        self, conn: Connection, staged: _Known, step_id: int, *, trust_own: bool = True
    ) -> str | None:
        """Why the run of ``step_id`` takes no more writes (it ended, or its process died), or
        ``None``. Locks the run's row until the end of the transaction, so the run cannot end
        meanwhile. A run this process started is alive as long as this process: the writes'
        own guard (``_RUN_OPEN``) checks that it has not ended, without this query."""
        run_id, _name = self._run_and_name_of_step(conn, staged, step_id)
        if trust_own and self._known.own_runs.get(run_id) == os.getpid():
            return None
        sql = Sql(f"SELECT {RUN} FROM runs WHERE runs.id = ?", (run_id,))  # noqa: S608
        run = conn.record("checking the run", sql + conn.dialect.lock_rows, RunRecord)
        if run.status != "running":
            return f"its run {run.name!r} has ended ({run.status})"
        reason = interruption(run)
        if reason is not None:  # readers already report it ended; gc records that
            return f"its run {run.name!r} was {reason}"
        return None

    def _check_current(self, conn: Connection, step_id: int, attempt: int) -> str | None:
        row = conn.one(
            "checking a step",
            Sql("SELECT status, attempt FROM steps WHERE id = ?", (step_id,)),
        )
        if row[0] == "running" and row[1] == attempt:
            return None
        return self._why_refused(conn, step_id, attempt)

    def _why_refused(self, conn: Connection, step_id: int, attempt: int) -> str:
        status, current = conn.one(
            "checking a step", Sql("SELECT status, attempt FROM steps WHERE id = ?", (step_id,))
        )
        if current != attempt:
            return f"the step's current attempt is {current}"
        if status in ("pending", "running"):
            return "its run has ended"
        return f"the step has ended ({status})"

    # -- steps recorded one by one (history builders, benchmarks) ---------------------------------

    def create_step(
        self,
        run_id: int,
        *,
        position: int,
        name: str,
        entrypoint_name: str,
        parameters: dict[str, Any],
        cache_key: str | None,
        code_hash: str | None,
        cache_enabled: bool | None = None,
    ) -> StepRecord:
        """Record a step of a running run as ``running`` in its first attempt (a run started
        with its steps planned records them with :meth:`start_run` instead)."""
        planned = PlannedStep(position, name, entrypoint_name, parameters, code_hash, cache_enabled)
        with self._write(f"recording step {name!r}") as (conn, staged):
            pipeline_id = self._pipeline_of_run(conn, staged, run_id)
            step_id = self._plan_steps(conn, staged, pipeline_id, run_id, [planned], utcnow())
            self.start_attempt(
                step_id[position], expected=0, worker=Worker(None, None), cache_key=cache_key
            )
        return self.get_step(step_id[position])

    def finish_step(
        self,
        step_id: int,
        status: str,
        *,
        outputs: Sequence[NewArtifact] = (),
        source_step_id: int | None = None,
        error: str | None = None,
    ) -> list[ArtifactRecord]:
        """End a step in its current attempt (see :meth:`finish_attempt`)."""
        attempt = self.get_step(step_id).attempt
        return self.finish_attempt(
            step_id, attempt, status, outputs=outputs, source_step_id=source_step_id, error=error
        )
