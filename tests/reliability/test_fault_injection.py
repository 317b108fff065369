"""Fault injection: kill the client, a worker or the scheduler at a random point of a 6-step
diamond pipeline on a real external Dask cluster, many times, each from its own seed.

After each run: the run and every step read as ended, and nothing of the ended run changes
afterwards (what the workers still finish is refused). At the end: every recorded output reads
back, and after ``gc`` nothing unrecorded is left and every record is terminal.

By default ``ZW_FAULT_SEEDS`` (12) seeds run on each store (about 45 s each on 2 cores); set it
higher for a soak (``ZW_FAULT_SEEDS=200 pytest tests/reliability/test_fault_injection.py``).
``ZW_FAULT_FIRST_SEED`` picks where the seeds start (to replay one).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from infra.dask_cluster import TESTS_DIR, ExternalCluster

from zenml_widgets.cli import main
from zenml_widgets.repository import Repository
from zenml_widgets.runner.cleanup import unrecorded_outputs
from zenml_widgets.stack import forget_metadata_stores

pytestmark = pytest.mark.slow

SEEDS = int(os.environ.get("ZW_FAULT_SEEDS", "12"))
FIRST_SEED = int(os.environ.get("ZW_FAULT_FIRST_SEED", "0"))
STEP_SECONDS = 0.8
ENDED = {"completed", "failed"}
STEP_ENDED = {"completed", "cached", "failed", "skipped"}


def read_run(root: Path, name: str) -> tuple[str, dict[str, str]]:
    """The run's status and its steps' statuses, as readers report them."""
    forget_metadata_stores()
    run = Repository(root).get_pipeline("diamond").get_run(name)
    return run.status, {s.name: s.status for s in run.steps}


def stored(root: Path, name: str) -> list[Any]:
    """Every stored field of the run, its steps, attempts and outputs."""
    store = Repository(root).active_stack.metadata_store
    pipeline = store.get_pipeline("diamond")
    assert pipeline is not None
    run = store.get_run_by_name(pipeline.id, name)
    assert run is not None
    steps = store.list_steps(run.id)
    return [run, *steps, *[store.list_attempts(s.id) for s in steps],
            *[store.list_outputs(s.id) for s in steps]]  # fmt: skip


def inject(cluster: ExternalCluster, root: Path, seed: int) -> str:
    """Run the diamond in a client process and kill one process at a random point; returns
    what was killed."""
    rng = random.Random(seed)
    victim = rng.choice(["client", "worker", "scheduler"])
    delay = rng.uniform(0.0, 4 * STEP_SECONDS)
    client = subprocess.Popen(
        [sys.executable, "-m", "infra.lifecycle_steps", str(root), "diamond", f"run-{seed}",
         str(STEP_SECONDS)],
        env={**os.environ, "PYTHONPATH": str(TESTS_DIR)}, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert client.stdout is not None and client.stdout.readline().strip() == b"starting"
        time.sleep(delay)
        if victim == "client":
            cluster.kill(client)  # type: ignore[arg-type]
        elif victim == "worker":
            cluster.kill(rng.choice(cluster.live_workers()))
        else:
            cluster.kill_scheduler()
        client.wait(timeout=120)
    finally:
        client.kill()
    if victim == "scheduler":
        cluster.restart()
    elif victim == "worker":
        cluster.start_worker()
    return f"seed {seed}: killed the {victim} after {delay:.2f} s"


@pytest.mark.timeout(1800)
def test_killed_processes_leave_a_history_that_ends_and_stays(
    tmp_path: Path, store_url: str
) -> None:
    repo = Repository.init(tmp_path / "repo")
    names = []
    with ExternalCluster(workers=2) as cluster:
        repo.register_stack(
            "cluster", store_url, str(tmp_path / "artifacts"), orchestrator="dask",
            orchestrator_options={"address": cluster.address, "worker_wait": 20}, activate=True,
        )  # fmt: skip
        for seed in range(FIRST_SEED, FIRST_SEED + SEEDS):
            what = inject(cluster, repo.root, seed)
            print(what)
            name = f"run-{seed}"
            try:
                status, steps = read_run(repo.root, name)
            except KeyError:  # killed before the run was recorded: nothing to check
                continue
            names.append(name)
            assert status in ENDED, (what, status, steps)
            assert set(steps.values()) <= STEP_ENDED, (what, steps)
            assert len(steps) == 6, (what, steps)
            before = stored(repo.root, name)
            time.sleep(STEP_SECONDS + 1.0)  # anything still running on a worker ends
            assert stored(repo.root, name) == before, what
            assert read_run(repo.root, name) == (status, steps), what
            print(f"  {status}: {steps}")
    forget_metadata_stores()
    repo = Repository(repo.root)
    for run in repo.get_pipeline("diamond").runs:
        for s in run.steps:
            for output in s.outputs.values():
                output.read()
    assert main(["-R", str(repo.root), "gc", "--older-than-hours", "0"]) == 0
    stack = repo.active_stack
    assert unrecorded_outputs(stack, timedelta(0)) == []
    assert stack.artifact_store.clean_temporary(timedelta(0)) == []
    store = stack.metadata_store
    assert store.open_run_ids() == []  # gc recorded the end of the interrupted ones
    for name in names:
        run, *rest = stored(repo.root, name)
        assert run.status in ENDED
        assert all(s.status in STEP_ENDED for s in rest[:6]), (name, rest[:6])
