"""Step logs on Dask: captured per task on workers (steps running at once in one worker's
threads keep their own lines), streamed to the client's console, read while the step runs,
kept when the worker is killed; tracebacks show the source of steps defined in a script."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from infra import log_steps as ls
from infra.dask_cluster import TESTS_DIR, ExternalCluster, local_cluster
from zw_testing import on_cluster, wait_until

from zenml_widgets.repository import Repository

pytestmark = pytest.mark.slow


def on_dask(root: Path, address: str, **options: Any) -> Repository:
    return on_cluster(root, f"sqlite:///{root}/cluster.db", address, **options)


@pytest.fixture(scope="module")
def one_worker_two_threads() -> Iterator[str]:
    with local_cluster(1, threads=2) as address:
        yield address


def test_two_steps_at_once_in_one_worker_keep_their_own_lines_and_stream_to_the_client(
    tmp_path: Path, one_worker_two_threads: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = on_dask(tmp_path / "repo", one_worker_two_threads)
    folder = str(tmp_path)
    run = ls.two_printers(
        a=ls.printer(name="a", other="b", folder=folder),
        b=ls.printer(name="b", other="a", folder=folder),
    ).run(repository=repo)
    a, b = run.get_step("a"), run.get_step("b")
    assert a.attempts[0].worker == b.attempts[0].worker  # one worker, two threads, at once
    assert a.start_time < b.end_time and b.start_time < a.end_time  # type: ignore[operator]
    for name, step_ in (("a", a), ("b", b)):
        records = step_.log_records()
        out = records[records["stream"] == "stdout"]["message"].tolist()
        assert out == [f"{name} line {i}" for i in range(2000)]
        err = records[records["stream"] == "stderr"]["message"].tolist()
        assert err == [f"{name} err {i}" for i in range(0, 2000, 400)]
        warned = records[records["stream"] == "logging"]
        assert warned["message"].tolist() == [f"{name} warns {i}" for i in range(0, 2000, 400)]
        assert set(warned["logger"]) == {f"steps.{name}"}
    out, err = capsys.readouterr()  # the client printed the workers' lines, prefixed
    for name in "ab":
        printed = [x for x in out.splitlines() if x.startswith(f"[{name}] ")]
        assert printed == [f"[{name}] {name} line {i}" for i in range(2000)]
        assert f"[{name}] WARNING steps.{name}: {name} warns 400" in err


def test_external_cluster_logs_are_read_while_running_and_kept_when_the_worker_dies(
    tmp_path: Path,
) -> None:
    with ExternalCluster(workers=1) as cluster:
        repo = on_dask(tmp_path / "repo", cluster.address, worker_wait=120)
        release = tmp_path / "release"
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                result["run"] = ls.waiting(waiter=ls.waiter(release=str(release))).run(
                    run_name="r", repository=repo, stream_logs=False
                )
            except Exception as e:
                result["error"] = e

        client = threading.Thread(target=run)
        client.start()
        fresh = lambda: Repository(repo.root).get_pipeline("waiting").get_run("r")  # noqa: E731
        step_ = wait_until(lambda: fresh().get_step("waiter"))
        wait_until(lambda: step_.logs == "early 0\nearly 1\nearly 2\n")
        assert step_.status == "running"
        (worker,) = cluster.live_workers()
        cluster.kill(worker)  # the attempt dies with its worker: what it flushed stays
        cluster.start_worker()
        wait_until(lambda: len(fresh().get_step("waiter").attempts) == 2, timeout=90)
        release.touch()
        client.join(timeout=180)
        assert "error" not in result, result.get("error")
        first, second = fresh().get_step("waiter").attempts
        assert first.status == "failed" and first.logs == "early 0\nearly 1\nearly 2\n"
        assert second.logs == "early 0\nearly 1\nearly 2\nlate\n" == fresh()["waiter"].logs


_SCRIPT = '''
import linecache, sys
from zenml_widgets import pipeline, step

# A notebook cell, as IPython runs it: its code is compiled under a file name that exists
# nowhere, and its lines are known to this process's linecache only.
CELL = """
@step(enable_cache=False)
def broken() -> int:
    values = [1, 2]
    return values[7]  # the line the traceback must show
"""
NAME = "/tmp/ipykernel_0/cell-1.py"
linecache.cache[NAME] = (len(CELL), None, CELL.splitlines(True), NAME)
exec(compile(CELL, NAME, "exec"))


@pipeline(enable_cache=False)
def cell_pipeline(broken):
    broken()


if __name__ == "__main__":
    try:
        cell_pipeline(broken=broken()).run(run_name="r", repository=sys.argv[1])
    except Exception as e:
        print(type(e).__name__)
'''


def test_a_notebook_cells_step_shows_its_source_in_tracebacks_from_a_worker(
    tmp_path: Path, one_worker_two_threads: str
) -> None:
    repo = on_dask(tmp_path / "repo", one_worker_two_threads)
    script = tmp_path / "notebook_like.py"
    script.write_text(_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(repo.root)], capture_output=True, text=True,
        timeout=180, env={"PYTHONPATH": str(TESTS_DIR), "PATH": ""},
    )  # fmt: skip
    assert proc.stdout.strip().endswith("StepFailedError"), proc.stderr
    step_ = Repository(repo.root).get_pipeline("cell_pipeline").get_run("r")["broken"]
    expected = '  File "/tmp/ipykernel_0/cell-1.py", line 5, in broken\n    return values[7]  #'
    assert expected in (step_.error or "")
    assert "<dynamic-code>" not in (step_.error or "")
    assert expected in step_.logs and step_.logs.endswith("IndexError: list index out of range\n")
