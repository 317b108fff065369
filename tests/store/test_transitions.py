"""The store enforces the run lifecycle: every status change is checked in SQL, in the
transaction of the write, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from zenml_widgets.exceptions import AttemptRefusedError
from zenml_widgets.store import MetadataStore, NewArtifact, PlannedStep, RunRecord, Worker
from zenml_widgets.store.liveness import this_host

HERE = Worker("host-a", 1, None)
THERE = Worker("host-b", 2, "tcp://10.0.0.2:4000")
OUT = NewArtifact("output", "1/1/000-a/output-x", "builtins.int", "m.M")


def started(
    store: MetadataStore, pid: int | None = None, host: str | None = "elsewhere"
) -> tuple[RunRecord, dict[int, int]]:
    """A run of 3 planned steps (a, b, c), all pending."""
    p = store.get_or_create_pipeline("p")
    steps = [PlannedStep(i, n, n, {"i": i}) for i, n in enumerate(["a", "b", "c"])]
    return store.start_run(p.id, "r", pid=pid, hostname=host, steps=steps)


def test_steps_start_pending_and_a_run_ending_skips_or_fails_them(store_url: str) -> None:
    store = MetadataStore(store_url)
    run, ids = started(store)
    assert [s.status for s in store.list_steps(run.id)] == ["pending"] * 3
    store.start_attempt(ids[0], expected=0, worker=HERE)
    assert store.finish_run(run.id, "failed", "stopped")
    steps = store.list_steps(run.id)
    assert [s.status for s in steps] == ["failed", "skipped", "skipped"]
    assert steps[0].error == "not finished: the run ended: stopped"
    (attempt,) = store.list_attempts(ids[0])
    assert attempt.status == "failed" and attempt.end_time is not None
    assert not store.finish_run(run.id, "completed")  # an ended run stays as it ended
    assert store.get_run(run.id).status == "failed"


def test_nothing_leaves_a_terminal_state(store_url: str) -> None:
    store = MetadataStore(store_url)
    _run, ids = started(store)
    attempt = store.start_attempt(ids[0], expected=0, worker=HERE)
    store.finish_attempt(ids[0], attempt.number, "completed", outputs=[OUT])
    with pytest.raises(AttemptRefusedError, match="has ended \\(completed\\)"):
        store.finish_attempt(ids[0], attempt.number, "failed", error="late")
    with pytest.raises(AttemptRefusedError):
        store.start_attempt(ids[0], expected=1, worker=HERE)
    step = store.get_step(ids[0])
    assert (step.status, step.error) == ("completed", None)
    assert [o.name for o in store.list_outputs(ids[0])] == ["output"]


@pytest.mark.parametrize("own", [False, True], ids=["another-process", "this-process"])
def test_no_step_changes_after_its_run_ended(store_url: str, own: bool) -> None:
    """Whether the run is this process's (its writes skip the liveness query) or not."""
    store = MetadataStore(store_url)
    run, ids = started(store, os.getpid(), this_host()) if own else started(store)
    attempt = store.start_attempt(ids[0], expected=0, worker=THERE)
    store.finish_run(run.id, "failed", "interrupted: KeyboardInterrupt")
    with pytest.raises(AttemptRefusedError, match="has ended"):
        store.finish_attempt(ids[0], attempt.number, "completed", outputs=[OUT])
    with pytest.raises(AttemptRefusedError):
        store.start_attempt(ids[1], expected=0, worker=THERE)
    assert [s.status for s in store.list_steps(run.id)] == ["failed", "skipped", "skipped"]
    assert store.list_outputs(ids[0]) == []


def test_a_superseded_attempt_is_refused_and_the_current_one_recorded(store_url: str) -> None:
    """Finding 2: a worker paused past the scheduler's timeout comes back after the task was
    run again elsewhere; its result must not count (nor break the retry's)."""
    store = MetadataStore(store_url)
    _run, ids = started(store)
    zombie = store.start_attempt(ids[0], expected=0, worker=HERE)
    retry = store.start_attempt(ids[0], expected=zombie.number, worker=THERE)
    assert retry.number == 2
    with pytest.raises(
        AttemptRefusedError, match=r"record attempt 1 of step 'a'.*current attempt is 2"
    ):
        store.finish_attempt(ids[0], zombie.number, "completed", outputs=[OUT])
    with pytest.raises(AttemptRefusedError):  # nor can it take over again
        store.start_attempt(ids[0], expected=zombie.number, worker=HERE)
    store.finish_attempt(ids[0], retry.number, "completed", outputs=[OUT])
    attempts = store.list_attempts(ids[0])
    assert [(a.number, a.status, a.worker) for a in attempts] == [
        (1, "failed", None), (2, "completed", "tcp://10.0.0.2:4000"),
    ]  # fmt: skip
    assert "lost" in (attempts[0].error or "")
    step = store.get_step(ids[0])
    assert (step.status, step.attempt, step.start_time) == ("completed", 2, attempts[1].start_time)
    assert len(store.list_outputs(ids[0])) == 1


def test_a_writer_finding_the_run_dead_is_refused_and_writes_nothing(store_url: str) -> None:
    """A worker finishing a step after the client died (here: its PID on this host is gone)."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    store = MetadataStore(store_url)
    run, ids = started(store, pid=int(gone.stdout), host=this_host())
    with pytest.raises(AttemptRefusedError, match="ended without finishing"):
        store.start_attempt(ids[0], expected=0, worker=THERE)
    # readers report it ended; the record itself is left to gc
    assert store.get_run(run.id).status == "running"
    assert store.end_interrupted_runs([run.id]) == [run.id]
    ended = store.get_run(run.id)
    assert ended.status == "failed" and (ended.error or "").startswith("interrupted")
    assert [s.status for s in store.list_steps(run.id)] == ["skipped"] * 3


def test_a_step_can_fail_before_any_attempt_started(store_url: str) -> None:
    """A step whose worker died before it started its attempt is failed by the client."""
    store = MetadataStore(store_url)
    run, ids = started(store)
    store.finish_attempt(ids[1], 0, "failed", error="the worker died")
    with pytest.raises(AttemptRefusedError):  # a result needs a started attempt
        store.finish_attempt(ids[2], 0, "completed")
    assert [s.status for s in store.list_steps(run.id)] == ["pending", "failed", "pending"]
