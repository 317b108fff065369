"""The run lifecycle on a real external Dask cluster: ``dask scheduler`` and ``dask worker``
processes started by the tests and killed by PID, on SQLite and PostgreSQL stores.

One test per finding of the issue "The record is the truth" (closed runs rewritten, zombie
attempts, hangs, unchecked options, the own-host check, steps killing their worker, errors
blaming the wrong thing, what did not happen being invisible).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from infra import lifecycle_steps as ls
from infra.dask_cluster import TESTS_DIR, ExternalCluster, this_machine_ip
from zw_testing import on_cluster, wait_until

from zenml_widgets.cli import main
from zenml_widgets.exceptions import OrchestratorError, StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.runner.cleanup import unrecorded_outputs
from zenml_widgets.runner.orchestrators.dask_cluster import check_store_reachable, own_addresses
from zenml_widgets.stack import forget_metadata_stores
from zenml_widgets.views import PipelineRunView

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[ExternalCluster]:
    """A scheduler and 2 workers of one thread each, for this test alone."""
    with ExternalCluster(workers=2) as running:
        yield running


def fresh_run(root: Path, pipeline: str, name: str) -> PipelineRunView:
    """The run as a new process reads it (once nothing in this process writes it any more)."""
    forget_metadata_stores()
    return live_run(root, pipeline, name)


def live_run(root: Path, pipeline: str, name: str) -> PipelineRunView:
    """The run read while it runs in this process: through the same stores, which forgetting
    would close under the run's feet (a running run's records are read anew each time)."""
    return Repository(root).get_pipeline(pipeline).get_run(name)


def statuses(run: PipelineRunView) -> dict[str, str]:
    return {s.name: s.status for s in run.steps}


def snapshot(root: Path, pipeline: str, name: str) -> list[tuple[Any, ...]]:
    """Everything recorded of a run's steps, as stored (not derived)."""
    run = fresh_run(root, pipeline, name)
    store = Repository(root).active_stack.metadata_store
    return [
        (s.name, s.status, s.attempt, s.end_time, s.error,
         sorted(o.uri for o in store.list_outputs(s.id)),
         [(a.number, a.status, a.end_time) for a in store.list_attempts(s.id)])
        for s in store.list_steps(run.id)
    ]  # fmt: skip


def attempts_of(root: Path, step: str) -> list[Any]:
    return live_run(root, "two_branches", "r").get_step(step).attempts


def no_unrecorded_outputs(repo: Repository) -> None:
    assert unrecorded_outputs(Repository(repo.root).active_stack, timedelta(0)) == []


def running_steps(root: Path, pipeline: str, name: str, wanted: set[str]) -> bool:
    run = live_run(root, pipeline, name)
    return {n for n, s in statuses(run).items() if s == "running"} >= wanted


# --- 1. closed runs get rewritten ---------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_steps_that_finish_after_the_client_stopped_do_not_rewrite_the_run(
    tmp_path: Path, store_url: str, cluster: ExternalCluster, sig: int
) -> None:
    repo = on_cluster(tmp_path / "repo", store_url, cluster.address)
    client = subprocess.Popen(
        [sys.executable, "-m", "infra.lifecycle_steps", str(repo.root), "two", "r", "3"],
        env={**os.environ, "PYTHONPATH": str(TESTS_DIR)}, cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_until(lambda: running_steps(repo.root, "two_branches", "r", {"b1", "b2"}))
        os.kill(client.pid, sig)
        client.wait(timeout=60)
    finally:
        client.kill()
    run = fresh_run(repo.root, "two_branches", "r")
    assert run.status == "failed" and (run.error or "").startswith("interrupted")
    assert statuses(run) == {"source": "completed", "b1": "failed", "b2": "failed"}
    before = snapshot(repo.root, "two_branches", "r")
    time.sleep(4)  # the branches finish on the workers meanwhile: their results are refused
    assert snapshot(repo.root, "two_branches", "r") == before
    run = fresh_run(repo.root, "two_branches", "r")
    assert run.get_step("b1").outputs == {} and run.get_step("b2").outputs == {}
    assert all(r.status == "failed" for r in [run.get_step("b1"), run.get_step("b2")])
    no_unrecorded_outputs(repo)


def test_a_killed_scheduler_fails_the_run_naming_it_and_skips_what_did_not_start(
    tmp_path: Path, store_url: str, cluster: ExternalCluster
) -> None:
    repo = on_cluster(tmp_path / "repo", store_url, cluster.address)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ls.make_diamond(seconds=3).run(run_name="r", repository=repo)
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()

    def two_branches_running() -> set[str]:
        assert thread.is_alive(), f"the run ended before the scheduler was killed: {errors}"
        found = statuses(live_run(repo.root, "diamond", "r"))
        running = {n for n, s in found.items() if s == "running"}
        return running if len(running) == 2 else set()

    # Two workers of one thread: two of the four branches run (which two is the scheduler's).
    ran = wait_until(two_branches_running, what="two branches running")
    cluster.kill_scheduler()
    thread.join(timeout=60)
    assert not thread.is_alive()
    (error,) = errors
    assert isinstance(error, OrchestratorError)
    assert f"lost the Dask scheduler at {cluster.address}" in str(error)
    assert "Also failed" not in str(error) and "cancelled" not in str(error)
    run = fresh_run(repo.root, "diamond", "r")
    assert run.status == "failed" and "lost the Dask scheduler" in (run.error or "")
    branches = {f"b{i}" for i in range(1, 5)}
    assert statuses(run) == {
        "source": "completed", "join": "skipped",
        **{b: "failed" if b in ran else "skipped" for b in branches},
    }  # fmt: skip
    before = snapshot(repo.root, "diamond", "r")
    time.sleep(4)  # b1 and b2 end on their workers: refused
    assert snapshot(repo.root, "diamond", "r") == before
    no_unrecorded_outputs(repo)


# --- 2. zombie attempts -------------------------------------------------------------------------


def test_a_paused_worker_coming_back_cannot_record_its_superseded_attempt(
    tmp_path: Path, store_url: str
) -> None:
    ttl = {"DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": "2s"}
    with ExternalCluster(workers=2, env=ttl) as cluster:
        repo = on_cluster(tmp_path / "repo", store_url, cluster.address)
        errors: list[BaseException] = []
        done: list[PipelineRunView] = []

        def run() -> None:
            try:
                done.append(ls.make_two(seconds=3).run(run_name="r", repository=repo))
            except BaseException as e:
                errors.append(e)

        thread = threading.Thread(target=run)
        thread.start()
        wait_until(lambda: running_steps(repo.root, "two_branches", "r", {"b1"}))
        (first,) = attempts_of(repo.root, "b1")
        paused = next(w for w in cluster.workers if w.pid == first.pid)
        cluster.kill(paused, signal.SIGSTOP)
        try:
            wait_until(lambda: len(attempts_of(repo.root, "b1")) == 2, what="a second attempt")
        finally:
            cluster.kill(paused, signal.SIGCONT)
        thread.join(timeout=120)
        assert not errors, errors
        time.sleep(2)  # the paused worker's attempt ends meanwhile, if its process lives on
    run = fresh_run(repo.root, "two_branches", "r")
    assert run.status == "completed"
    b1 = run.get_step("b1")
    assert b1.status == "completed" and b1.output.read() == 3
    attempts = b1.attempts
    assert [a.status for a in attempts] == ["failed", "completed"]
    assert "lost" in (attempts[0].error or "") and attempts[0].pid == first.pid
    assert b1.start_time == attempts[1].start_time
    no_unrecorded_outputs(repo)


# --- 4. hangs -----------------------------------------------------------------------------------


def test_a_cluster_without_workers_fails_the_run_after_worker_wait(
    tmp_path: Path, cluster: ExternalCluster
) -> None:
    repo = on_cluster(tmp_path / "repo", f"sqlite:///{tmp_path}/m.db", cluster.address,
                      worker_wait=2)  # fmt: skip
    for worker in cluster.workers:
        cluster.kill(worker)
    started = time.monotonic()
    with pytest.raises(OrchestratorError, match=r"no Dask worker took its tasks") as e:
        ls.make_diamond().run(run_name="r", repository=repo)
    assert time.monotonic() - started < 30
    assert "worker_wait" in str(e.value) and "0 worker(s)" in str(e.value)
    run = fresh_run(repo.root, "diamond", "r")
    assert run.status == "failed" and "no Dask worker" in (run.error or "")
    assert set(statuses(run).values()) == {"skipped"}


def test_workers_that_cannot_start_fail_the_run_in_bounded_time(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo")
    repo.register_stack(
        "tiny", f"sqlite:///{tmp_path}/m.db", str(tmp_path / "a"), orchestrator="dask",
        orchestrator_options={"n_workers": 1, "memory_limit": "20MB", "worker_wait": 3},
        activate=True,
    )  # fmt: skip
    started = time.monotonic()
    # The nanny kills a worker over its limit within about 0.1 s of noticing, so a quick task
    # may still finish before then (and its worker die before handing the result over): the
    # run must end either way, in bounded time, and the record must say how.
    try:
        ls.make_diamond().run(run_name="r", repository=repo)
        error = None
    except (OrchestratorError, StepFailedError) as e:
        error = e
    assert time.monotonic() - started < 90
    run = fresh_run(repo.root, "diamond", "r")
    if error is None:
        assert run.status == "completed"
        assert set(statuses(run).values()) == {"completed"}
    else:
        assert "no Dask worker" in str(error) or "died" in str(error)
        assert run.status == "failed"
        assert set(statuses(run).values()) <= {"completed", "failed", "skipped"}


class _ResultOnADeadWorker:
    """A finished task whose worker died before handing its result over: fetching it waits
    until the scheduler has run the task again, which no worker may ever do."""

    key = "zenml-lost-result"
    status = "finished"
    released = False

    def result(self, timeout: float | None = None) -> Any:
        time.sleep(timeout or 0)
        raise TimeoutError

    def release(self) -> None:
        self.released = True


def test_a_finished_task_whose_worker_died_is_read_from_the_store(tmp_path: Path) -> None:
    """The outputs of a recorded step come from the store when its worker is gone (the run of
    the CI record above hung in ``future.result()`` for 600 s)."""
    from types import SimpleNamespace

    from zenml_widgets.runner.orchestrators.dask import DaskOrchestrator
    from zenml_widgets.runner.orchestrators.dask_cluster import StallWatch

    repo = Repository.init(tmp_path / "repo")
    ls.make_diamond().run(run_name="r", repository=repo)
    source = fresh_run(repo.root, "diamond", "r").get_step("source")
    orchestrator = DaskOrchestrator(repo.active_stack, [], {})
    orchestrator.client = SimpleNamespace(status="running")
    future = _ResultOnADeadWorker()
    job = SimpleNamespace(step_id=source.id, name="source")
    watch = StallWatch(orchestrator.client, 60, lambda keys: True)
    started = time.monotonic()
    outputs = orchestrator._result(future, job, watch, {}, {})  # type: ignore[arg-type]
    assert time.monotonic() - started < 5
    assert future.released
    assert {n: a.id for n, a in outputs.items()} == {n: a.id for n, a in source.outputs.items()}


# --- 5. options checked when the stack is registered --------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["n_workers=abc"], "n_workers"),
        (["n_workers=0"], "n_workers"),
        (["n_workers=-1"], "n_workers"),
        (["threads_per_worker=abc"], "threads_per_worker"),
        (["timeout=abc"], "timeout"),
        (["timeout=0"], "timeout"),
        (["memory_limit=lots"], "memory_limit"),
        (["worker_wait=0"], "worker_wait"),
        (["address=http://127.0.0.1:8786"], "address"),
        (["address=tcp://127.0.0.1:8786", "n_workers=2"], "n_workers"),
    ],
)
def test_bad_options_are_refused_at_registration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    assert main(["init", str(tmp_path)]) == 0
    args = ["-R", str(tmp_path), "stack", "register", "bad", "--metadata-url", "sqlite:///b.db",
            "--artifact-store", "a", "--orchestrator", "dask"]  # fmt: skip
    for option in options:
        args += ["--orchestrator-option", option]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "'bad'" in err and f"'{named}'" in err
    assert "bad" not in Repository(tmp_path).stacks


# --- 6. own-host detection ----------------------------------------------------------------------


def test_a_cluster_on_this_machine_works_with_sqlite(
    tmp_path: Path, cluster: ExternalCluster
) -> None:
    for address in own_addresses():
        host = f"[{address}]" if ":" in address else address
        check_store_reachable("sqlite:////x.db", [f"tcp://{host}:1"])
    assert this_machine_ip() in cluster.address
    repo = on_cluster(tmp_path / "repo", f"sqlite:///{tmp_path}/m.db", cluster.address)
    assert ls.make_diamond().run(run_name="r", repository=repo).status == "completed"


# --- 7. a step cannot kill its worker -----------------------------------------------------------


@pytest.mark.parametrize("how", ["exit", "interrupt"])
def test_system_exit_and_keyboard_interrupt_fail_the_attempt_not_the_worker(
    tmp_path: Path, store_url: str, cluster: ExternalCluster, how: str
) -> None:
    repo = on_cluster(tmp_path / "repo", store_url, cluster.address)
    workers = cluster.live_workers()
    made = ls.exit_then_pid(source=ls.source(), bad=ls.exits(how=how), after=ls.worker_pid())
    with pytest.raises(StepFailedError) as e:
        made.run(run_name="r", repository=repo)
    named = "SystemExit: 3" if how == "exit" else "KeyboardInterrupt: from the step"
    assert e.value.step_name == "bad" and named in str(e.value)
    run = fresh_run(repo.root, "exit_then_pid", "r")
    bad = run.get_step("bad")
    assert bad.status == "failed" and len(bad.attempts) == 1  # not retried for it
    assert run.get_step("after").status == "completed"  # independent: ran to the end
    assert cluster.live_workers() == workers  # every worker process lives on


# --- 8. errors that name the real cause ---------------------------------------------------------


def test_a_step_module_the_workers_cannot_import_is_named(
    tmp_path: Path, store_url: str, cluster: ExternalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"zw_only_here_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(
        "from zenml_widgets import step\n\n@step\ndef local_only(x: int) -> int:\n    return x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    local_only = __import__(module).local_only
    repo = on_cluster(tmp_path / "repo", store_url, cluster.address)
    made = ls.with_flaky(source=ls.source(), flaky=local_only())
    with pytest.raises(StepFailedError) as e:
        made.run(run_name="r", repository=repo)
    text = str(e.value)
    assert f"'{module}'" in text and "cannot be imported on the Dask worker" in text
    assert "Install it on every worker" in text
    run = fresh_run(repo.root, "with_flaky", "r")
    assert statuses(run) == {"source": "completed", "flaky": "failed"}
    assert module in (run.get_step("flaky").error or "")


# --- 9. what did not happen is visible ----------------------------------------------------------


def test_retries_on_dask_are_attempts_with_where_they_ran(
    tmp_path: Path, store_url: str, cluster: ExternalCluster
) -> None:
    repo = on_cluster(tmp_path / "repo", store_url, cluster.address)
    marker = tmp_path / "failures"
    made = ls.with_flaky(source=ls.source(), flaky=ls.flaky(marker=str(marker), failures=1))
    run = made.run(run_name="r", repository=repo)
    assert run.status == "completed"
    flaky = run.get_step("flaky")
    assert flaky.output.read() == 4
    attempts = flaky.attempts
    assert [(a.number, a.status) for a in attempts] == [(1, "failed"), (2, "completed")]
    assert "flaky failure 1" in (attempts[0].error or "")
    assert all(a.worker and a.worker.startswith("tcp://") and a.pid != os.getpid()
               for a in attempts)  # fmt: skip
    assert flaky.start_time == attempts[-1].start_time
    assert attempts[0].start_time < attempts[0].end_time <= attempts[1].start_time  # type: ignore[operator]


def test_a_timeout_on_dask_fails_the_attempt_naming_the_limit(
    tmp_path: Path, cluster: ExternalCluster
) -> None:
    repo = on_cluster(tmp_path / "repo", f"sqlite:///{tmp_path}/m.db", cluster.address)
    workers = cluster.live_workers()
    with pytest.raises(StepFailedError, match=r"ran longer than its timeout of 0.5 s"):
        ls.with_flaky(source=ls.source(), flaky=ls.spins()).run(run_name="r", repository=repo)
    (attempt,) = fresh_run(repo.root, "with_flaky", "r").get_step("flaky").attempts
    assert attempt.status == "failed" and attempt.worker is not None
    assert cluster.live_workers() == workers
    # the worker's thread was stopped: the next run uses the same workers at once
    assert ls.make_two(seconds=0).run(run_name="after", repository=repo).status == "completed"


# --- a notebook's Dask stack reuses its cluster -------------------------------------------------


def test_a_stack_without_address_reuses_this_process_local_cluster(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    from zenml_widgets.runner.orchestrators import dask_cluster

    repo = Repository.init(tmp_path / "repo")
    repo.register_stack("local-dask", f"sqlite:///{tmp_path}/m.db", str(tmp_path / "a"),
                        orchestrator="dask", orchestrator_options={"n_workers": 1},
                        activate=True)  # fmt: skip
    first = ls.make_two(seconds=0).run(run_name="first", repository=repo)
    kept = dict(dask_cluster._local)
    second = ls.make_two(seconds=0).run(run_name="second", repository=repo)
    assert dask_cluster._local == kept  # the same cluster and client
    workers = {a.worker for run in (first, second) for s in run.steps for a in s.attempts}
    assert len(workers) == 1  # one worker process served both runs
    assert not [w for w in recwarn if "in use" in str(w.message)]
    dask_cluster.close_local_clusters()  # what happens at exit
    assert dask_cluster._local == {}
    (cluster, _client) = next(iter(kept.values()))
    assert cluster.status.name == "closed"
