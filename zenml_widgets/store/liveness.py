"""A run's real status: a run whose process died is not ``running`` forever."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml_widgets.store.records import RunRecord, utcnow
from zenml_widgets.store.sql import Sql, placeholders

if TYPE_CHECKING:
    from collections.abc import Sequence

HEARTBEAT_INTERVAL = timedelta(seconds=10)
# A run on another host whose heartbeat is older than this is reported interrupted.
STALE_AFTER = timedelta(seconds=90)


@cache
def this_host() -> str:
    """This machine's host name, as recorded on runs."""
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def interruption(run: RunRecord) -> str | None:
    """Why a run recorded as ``running`` is in fact dead, or ``None`` if it may be alive.

    A running run's process records a heartbeat every ``HEARTBEAT_INTERVAL``. A heartbeat
    silent for longer than ``STALE_AFTER`` means the run is dead on any host, even when a
    process with the recorded PID exists here (the PID was reused, or the runner was PID 1 of
    a container that is gone). On this host a missing process tells it sooner.
    """
    if run.status != "running":
        return None
    if run.heartbeat_at is not None:
        silent = utcnow() - run.heartbeat_at
        if silent > STALE_AFTER:
            return (
                f"interrupted: no heartbeat from process {run.pid} on {run.hostname} "
                f"for {int(silent.total_seconds())} s"
            )
    here = run.hostname == this_host() and run.pid is not None and run.pid != os.getpid()
    if here and run.pid is not None and not pid_alive(run.pid):
        return f"interrupted: process {run.pid} on {run.hostname} ended without finishing"
    return None


def running_here(pipeline_ids: Sequence[int] | None) -> Sql:
    """The runs of these pipelines recorded as running on this host: ``(id, pid)`` rows that
    :func:`gone` sorts (running runs are few, and found by index)."""
    sql = Sql(
        "SELECT runs.id, runs.pid FROM runs WHERE runs.status = 'running' AND runs.hostname = ?",
        (this_host(),),
    )
    if pipeline_ids is None:  # every pipeline: still by the (pipeline_id, status) index
        return sql + " AND runs.pipeline_id IN (SELECT pipelines.id FROM pipelines)"
    return sql + " AND runs.pipeline_id IN (" + placeholders(list(pipeline_ids) or [-1]) + ")"


def gone(rows: Sequence[Sequence[Any]]) -> tuple[int, ...]:
    """The ids among :func:`running_here`'s rows whose process has ended."""
    mine = os.getpid()
    return tuple(
        run_id for run_id, pid in rows if pid is not None and pid != mine and not pid_alive(pid)
    )


def status_sql(interrupted: Sequence[int]) -> Sql:
    """The status readers report, as an SQL expression over ``runs``: :func:`interruption`'s
    rule, so that ``run.status`` and a runs table (its column, its ``status=`` filter, its sort)
    agree. A heartbeat older than ``STALE_AFTER`` is compared in SQL; ``interrupted`` are this
    host's runs whose process is gone (:func:`gone`)."""
    condition = Sql("runs.heartbeat_at < ?", (utcnow() - STALE_AFTER,))
    if interrupted:
        condition = "(" + condition + " OR runs.id IN (" + placeholders(list(interrupted)) + "))"
    return (
        "CASE WHEN runs.status = 'running' AND " + condition + " THEN 'failed' ELSE runs.status END"
    )


def step_status(status: str, run_status: str) -> str:
    """The status readers report for a step recorded as ``status`` in a run whose reported
    status is ``run_status``: once the run has ended (or is interrupted), a step still
    ``pending`` was ``skipped`` and one still ``running`` ``failed``."""
    if run_status == "running" or status not in ("pending", "running"):
        return status
    return "skipped" if status == "pending" else "failed"


def step_error(
    status: str, error: str | None, run_status: str, run_error: str | None
) -> str | None:
    """The error readers report for a step (see :func:`step_status`)."""
    if error is None and step_status(status, run_status) == "failed" and status == "running":
        return f"not finished: the run ended: {run_error}" if run_error else "not finished"
    return error
