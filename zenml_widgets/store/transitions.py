"""The statements that move runs, steps and attempts from one state to the next, run inside the
write transactions of :mod:`~zenml_widgets.store.lifecycle`, which checks first that the move is
allowed (the run is open, the attempt is the step's current one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zenml_widgets.store.records import AttemptRecord, Worker, utcnow
from zenml_widgets.store.sql import Sql

if TYPE_CHECKING:
    from datetime import datetime

    from zenml_widgets.store.connection import Connection

#: The error of an attempt whose worker was lost (Dask ran the step again elsewhere).
WORKER_LOST = "the Dask worker running it was lost"


def new_attempt(
    conn: Connection,
    step_id: int,
    previous: int,
    now: datetime,
    worker: Worker,
    inputs: dict[str, int] | None,
    superseded: str,
) -> AttemptRecord:
    """Record attempt ``previous + 1`` of a step (whose row was just moved to it): the
    previous attempt, if still running, fails with ``superseded``; the first records the
    step's inputs."""
    action = "starting a step attempt"
    if previous:
        conn.execute(
            action,
            Sql(
                "UPDATE step_attempts SET status = 'failed', end_time = ?, error = ? "
                "WHERE step_id = ? AND number = ? AND status = 'running'",
                (now, superseded, step_id, previous),
            ),
        )
    elif inputs:
        conn.execute_many(
            "recording step inputs",
            Sql("INSERT INTO step_inputs (step_id, name, artifact_id) VALUES (?, ?, ?)"),
            [(step_id, n, a) for n, a in inputs.items()],
        )
    sql = Sql(
        "INSERT INTO step_attempts (step_id, number, status, start_time, hostname, pid, worker) "
        "VALUES (?, ?, 'running', ?, ?, ?, ?) RETURNING id",
        (step_id, previous + 1, now, worker.hostname, worker.pid, worker.worker),
    )
    attempt_id = int(conn.scalar(action, sql))
    return AttemptRecord(
        id=attempt_id, step_id=step_id, number=previous + 1, status="running", start_time=now,
        end_time=None, hostname=worker.hostname, pid=worker.pid, worker=worker.worker, error=None,
    )  # fmt: skip


def end_attempt(
    conn: Connection,
    step_id: int,
    number: int,
    status: str,
    error: str | None,
    now: datetime | None = None,
) -> None:
    """End attempt ``number`` of a step, if it is running."""
    conn.execute(
        "ending a step attempt",
        Sql(
            "UPDATE step_attempts SET status = ?, end_time = ?, error = ? "
            "WHERE step_id = ? AND number = ? AND status = 'running'",
            (status, now or utcnow(), error, step_id, number),
        ),
    )


def end_run(conn: Connection, run_id: int, status: str, error: str | None) -> bool:
    """End a running run as ``status``: its running steps and attempts fail, its pending steps
    are skipped. ``False`` (nothing changed) if the run was not running."""
    action = "finishing a run"
    now = utcnow()
    changed = conn.execute(
        action,
        Sql(
            "UPDATE runs SET status = ?, end_time = ?, error = ? "
            "WHERE id = ? AND status = 'running'",
            (status, now, error, run_id),
        ),
    )
    if changed != 1:
        return False
    unfinished = f"not finished: the run ended: {error}" if error else "not finished: the run ended"
    conn.execute(
        action,
        Sql(
            "UPDATE step_attempts SET status = 'failed', end_time = ?, error = ? "
            "WHERE status = 'running' AND step_id IN (SELECT steps.id FROM steps "
            "WHERE steps.run_id = ? AND steps.status = 'running')",
            (now, unfinished, run_id),
        ),
    )
    conn.execute(
        action,
        Sql(
            "UPDATE steps SET status = 'failed', end_time = ?, error = ? "
            "WHERE run_id = ? AND status = 'running'",
            (now, unfinished, run_id),
        ),
    )
    conn.execute(
        action,
        Sql(
            "UPDATE steps SET status = 'skipped' WHERE run_id = ? AND status = 'pending'",
            (run_id,),
        ),
    )
    return True
