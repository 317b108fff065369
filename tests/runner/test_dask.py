"""The Dask orchestrator on a real ``distributed`` cluster of worker processes.

Most tests share one running cluster (2 worker processes, a step at a time each) and reach it
through the stack's ``address`` option; the worker-death tests start a cluster per run (no
address), as a stack without an address does.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The moto S3 server and buckets of tests/artifacts: the cluster's workers inherit its fake
# credentials from the environment, so the server starts before the cluster.
from artifacts.conftest import S3Bucket, s3_bucket, s3_endpoint  # noqa: F401
from infra.dask_cluster import local_cluster

from zenml_widgets import pipeline, step
from zenml_widgets.exceptions import (
    OrchestratorError,
    PipelineDefinitionError,
    StepFailedError,
    ZenMLWidgetsError,
)
from zenml_widgets.materializers import BaseMaterializer
from zenml_widgets.repository import Repository
from zenml_widgets.runner.orchestrators.dask import check_store_reachable
from zenml_widgets.views import PipelineRunView
from zenml_widgets.views.lineage import explain_step

pytestmark = pytest.mark.slow


# --- steps and pipelines (module level: workers import them by reference) --------------------


@step
def source(n: int = 3) -> int:
    return n


@step
def branch(x: int, seconds: float = 0.0, factor: int = 1, fail: bool = False) -> int:
    time.sleep(seconds)
    if fail:
        raise ValueError(f"branch with factor {factor} refuses")
    return x * factor


@step
def join(a: int, b: int, c: int, d: int) -> dict:
    return {"total": a + b + c + d, "pid": os.getpid()}


@pipeline
def four_branches(source, b1, b2, b3, b4, join):
    x = source()
    join(a=b1(x=x), b=b2(x=x), c=b3(x=x), d=b4(x=x))


def make_four(seconds: float = 0.0, factor4: int = 4, fail: str | None = None) -> Any:
    branches = {
        f"b{i}": branch(seconds=seconds, factor=factor4 if i == 4 else i, fail=fail == f"b{i}")
        for i in range(1, 5)
    }
    return four_branches(source=source(), **branches, join=join())


@step
def die_once(x: int, marker: str = "") -> int:
    """Kills its own worker process on the first attempt; the retry finds the marker."""
    if not Path(marker).exists():
        Path(marker).write_text("attempted")
        os.kill(os.getpid(), signal.SIGKILL)
    return x + 1


class Fragile:
    """A value whose materializer kills the worker half-way through writing it."""


class FragileMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = (Fragile,)

    def handle_return(self, data: Fragile) -> None:
        with self.artifact.open("part-1.bin", "wb") as f:
            f.write(b"half of it")
        os.kill(os.getpid(), signal.SIGKILL)

    def handle_input(self, data_type: type) -> Fragile:
        return Fragile()


@step
def write_fragile(x: int) -> Fragile:
    return Fragile()


@pipeline
def retry_pipeline(source, flaky):
    flaky(x=source())


@step
def slow_step(x: int, seconds: float = 3.0) -> int:
    time.sleep(seconds)
    return x


@pipeline
def two_steps(source, second):
    second(x=source())


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_address(s3_endpoint: str) -> Iterator[str]:  # noqa: F811 - the imported fixture
    """A running cluster of 2 worker processes for the module (as `dask scheduler` + workers)."""
    with local_cluster(2, **{"distributed.scheduler.allowed-failures": 1}) as address:
        yield address


def dask_repo(
    root: Path,
    metadata_url: str | None = None,
    *,
    address: str | None = None,
    artifact_store: str | None = None,
    artifact_options: dict[str, Any] | None = None,
    **options: Any,
) -> Repository:
    """A repository whose active stack 'cluster' runs on Dask."""
    repo = Repository.init(root)
    if address is not None:
        options["address"] = address
    repo.register_stack(
        "cluster",
        metadata_url or f"sqlite:///{root}/cluster.db",
        artifact_store or str(root / "cluster-artifacts"),
        artifact_store_options=artifact_options,
        orchestrator="dask",
        orchestrator_options=options,
        activate=True,
    )
    return repo


def overlaps(a: Any, b: Any) -> bool:
    return bool(a.start_time < b.end_time and b.start_time < a.end_time)


def history_shape(run: PipelineRunView) -> list[tuple[Any, ...]]:
    """What must be the same whichever orchestrator ran the run."""
    shape = []
    for s in run.steps:
        outputs = sorted(
            (name, o.data_type, o.materializer, o.is_cached) for name, o in s.outputs.items()
        )
        inputs = sorted((name, a.producer_step.name) for name, a in s.inputs.items())
        shape.append(
            (s.name, s.entrypoint_name, s.status, s.parameters, s.is_cached, outputs, inputs)
        )
    return [run.status, *shape]


# --- tests -----------------------------------------------------------------------------------


def test_branches_run_at_the_same_time_and_join_waits(
    tmp_path: Path, store_url: str, dask_address: str
) -> None:
    repo = dask_repo(tmp_path / "repo", store_url, address=dask_address)
    run = make_four(seconds=1.0).run(run_name="parallel", repository=repo)

    assert run.status == "completed"
    steps = {s.name: s for s in run.steps}
    assert [s.name for s in run.steps] == ["source", "b1", "b2", "b3", "b4", "join"]
    branches = [steps[f"b{i}"] for i in range(1, 5)]
    pairs = [(a.name, b.name) for a in branches for b in branches if a.name < b.name]
    overlapping = [p for p in pairs if overlaps(steps[p[0]], steps[p[1]])]
    assert overlapping, [(b.name, b.start_time, b.end_time) for b in branches]
    assert all(b.start_time >= steps["source"].end_time for b in branches)
    assert steps["join"].start_time >= max(b.end_time for b in branches)
    result = steps["join"].output.read()
    assert result["total"] == 3 * (1 + 2 + 3 + 4)
    assert result["pid"] != os.getpid()  # it ran on a worker process


def test_same_history_shape_as_local_including_cache_and_lineage(
    tmp_path: Path, dask_address: str
) -> None:
    local = Repository.init(tmp_path / "local")
    on_dask = dask_repo(tmp_path / "dask", address=dask_address)
    shapes: dict[str, list[Any]] = {}
    for label, repo in (("local", local), ("dask", on_dask)):
        first = make_four().run(run_name="first", repository=repo)
        cached = make_four().run(run_name="cached", repository=repo)
        changed = make_four(factor4=40).run(run_name="changed", repository=repo)
        shapes[label] = [history_shape(r) for r in (first, cached, changed)]
        assert [s.status for s in cached.steps] == ["cached"] * 6
        assert changed.get_step("b4").status == "completed"
        assert changed.get_step("b1").status == "cached"
        shapes[label].append(
            [explain_step(s).summary for s in changed.steps],
        )
        assert changed.get_step("join").output.read()["total"] == 3 * (1 + 2 + 3 + 40)
        # Runs as data: parameters and recorded metrics (cached steps' from their source) are
        # the same table; times and the worker's pid are what may differ.
        table = repo.get_pipeline("four_branches").runs.to_dataframe(ascending=True)
        assert "b4.factor" in table and "join.output.total" in table
        varying = ["start", "end", "duration", "join.output.pid"]
        shapes[label].append(table.drop(columns=varying).to_dict("list"))
    assert shapes["dask"] == shapes["local"]


def test_a_failing_branch_fails_the_run_and_the_others_finish(
    tmp_path: Path, dask_address: str
) -> None:
    repo = dask_repo(tmp_path / "repo", address=dask_address)
    with pytest.raises(StepFailedError) as e:
        make_four(seconds=0.3, fail="b2").run(run_name="broken", repository=repo)
    assert e.value.step_name == "b2"
    assert "branch with factor 2 refuses" in str(e.value)
    assert "Not run because of it: 'join'" in str(e.value)

    run = repo.get_pipeline("four_branches").get_run("broken")
    assert run.status == "failed"
    assert "'b2'" in (run.error or "")
    statuses = {s.name: s.status for s in run.steps}
    assert statuses == {
        "source": "completed",
        "b1": "completed",
        "b2": "failed",
        "b3": "completed",
        "b4": "completed",
        "join": "skipped",  # never started: recorded pending when the run started
    }
    assert run.get_step("b3").output.read() == 9  # earlier outputs stay readable
    assert "ValueError" in (run.get_step("b2").error or "")


def test_live_status_while_the_run_is_in_progress(tmp_path: Path, dask_address: str) -> None:
    repo = dask_repo(tmp_path / "repo", address=dask_address)
    done: list[Any] = []
    worker = threading.Thread(
        target=lambda: done.append(
            two_steps(source=source(), second=slow_step(seconds=3.0)).run(
                run_name="live", repository=repo
            )
        )
    )
    worker.start()
    try:
        deadline = time.monotonic() + 60
        seen = None
        while time.monotonic() < deadline:
            pipelines = [p.name for p in Repository(repo.root).get_pipelines()]
            if "two_steps" in pipelines:
                run = Repository(repo.root).get_pipeline("two_steps").get_run("live")
                # every step is recorded (pending) when the run starts; wait for the second
                if run.steps[1].status == "running":
                    seen = run
                    break
            time.sleep(0.05)
        assert seen is not None, "the slow step never showed up as running"
        assert seen.status == "running"
        second = seen.get_step("second")
        assert second.status == "running"
        assert second.start_time is not None and second.end_time is None
        assert seen.get_step("source").status == "completed"
    finally:
        worker.join(timeout=120)
    assert done and done[0].status == "completed"


def test_postgres_metadata_and_s3_artifacts(
    tmp_path: Path,
    postgres_url: str,
    s3_bucket: S3Bucket,  # noqa: F811 - the imported fixture
    dask_address: str,
) -> None:
    repo = dask_repo(
        tmp_path / "repo",
        postgres_url,
        address=dask_address,
        artifact_store=s3_bucket.url,
        artifact_options=s3_bucket.options,
    )
    run = make_four().run(run_name="s3", repository=repo)
    assert run.status == "completed"
    output = run.get_step("join").output
    assert output.uri.startswith(s3_bucket.url + "/")
    assert output.read()["total"] == 30
    assert s3_bucket.fs().ls(f"{s3_bucket.url[5:]}/1")  # the workers wrote to the bucket
    again = make_four().run(run_name="again", repository=repo)
    assert {s.status for s in again.steps} == {"cached"}


def test_the_explorer_reads_a_dask_run(tmp_path: Path, dask_address: str) -> None:
    from zenml_widgets import HistoryExplorer

    repo = dask_repo(tmp_path / "repo", address=dask_address)
    make_four().run(run_name="for-the-explorer", repository=repo)
    explorer = HistoryExplorer(repo)
    explorer.select("four_branches", "latest", "join", "output")
    assert explorer.run_name == "for-the-explorer"
    assert explorer.current is not None
    assert explorer.current.read()["total"] == 30
    assert [value for _label, value in explorer.ui.step.options] == [
        "source",
        "b1",
        "b2",
        "b3",
        "b4",
        "join",
    ]
    assert "&quot;total&quot;: 30" in explorer.ui.data.value


def test_unreachable_scheduler_is_one_clear_error_and_nothing_is_recorded(
    tmp_path: Path,
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    repo = dask_repo(tmp_path / "repo", address=f"tcp://127.0.0.1:{port}", timeout=2)
    with pytest.raises(OrchestratorError, match=r"could not reach the Dask scheduler") as e:
        make_four().run(repository=repo)
    assert f"127.0.0.1:{port}" in str(e.value)
    assert "Nothing was run or recorded" in str(e.value)
    assert repo.get_pipelines() == []


def test_a_step_that_cannot_be_pickled_is_named(tmp_path: Path, dask_address: str) -> None:
    lock = threading.Lock()

    @step
    def locked(x: int) -> int:
        with lock:
            return x

    repo = dask_repo(tmp_path / "repo", address=dask_address)
    with pytest.raises(PipelineDefinitionError, match=r"Step 'second'.*cannot be sent") as e:
        two_steps(source=source(), second=locked()).run(repository=repo)
    assert "lock" in str(e.value).lower()
    assert repo.get_pipelines() == []


def test_sqlite_with_workers_on_another_host_is_refused() -> None:
    url = "sqlite:////data/metadata.db"
    check_store_reachable(url, ["tcp://127.0.0.1:8786", "tcp://127.0.0.1:40000"])
    check_store_reachable(url, ["localhost:8786", f"tcp://{socket.gethostname()}:1"])
    check_store_reachable("postgresql+psycopg://db/history", ["tcp://192.0.2.10:8786"])
    with pytest.raises(OrchestratorError, match=r"SQLite file.*192\.0\.2\.10.*PostgreSQL"):
        check_store_reachable(url, ["tcp://127.0.0.1:8786", "tcp://192.0.2.10:40123"])


def test_a_killed_worker_is_retried_once_on_a_per_run_cluster(tmp_path: Path) -> None:
    repo = dask_repo(tmp_path / "repo", n_workers=2)
    marker = tmp_path / "attempted"
    run = retry_pipeline(source=source(), flaky=die_once(marker=str(marker))).run(
        run_name="retried", repository=repo
    )
    assert marker.exists()  # the first attempt ran, and its worker died
    assert run.status == "completed"
    assert [s.name for s in run.steps] == ["source", "flaky"]  # one record, taken over
    assert run.get_step("flaky").output.read() == 4
    # the lost execution is an attempt too, recorded failed, with the worker it ran on
    attempts = run.get_step("flaky").attempts
    assert [(a.number, a.status) for a in attempts] == [(1, "failed"), (2, "completed")]
    assert "lost" in (attempts[0].error or "") and attempts[0].worker != attempts[1].worker


def test_a_worker_killed_mid_write_leaves_no_artifact_and_fails_the_step(
    tmp_path: Path,
) -> None:
    repo = dask_repo(tmp_path / "repo", n_workers=2)
    with pytest.raises(StepFailedError, match=r"Step 'flaky'.*worker running it died") as e:
        retry_pipeline(source=source(), flaky=write_fragile()).run(
            run_name="killed", repository=repo
        )
    assert e.value.step_name == "flaky"
    run = repo.get_pipeline("retry_pipeline").get_run("killed")
    assert run.status == "failed"
    flaky = run.get_step("flaky")
    assert flaky.status == "failed"
    assert "died" in (flaky.error or "")
    assert flaky.outputs == {}
    assert "died 2 times" in (flaky.error or "")  # the real count (this cluster allows 1 retry)
    assert [a.status for a in flaky.attempts] == ["failed", "failed"]
    artifacts = tmp_path / "repo" / "cluster-artifacts"
    visible = [
        p
        for p in artifacts.rglob("part-1.bin")
        if not p.relative_to(artifacts).parts[0].startswith(".")
    ]
    assert visible == []  # only the store's temporary folder may hold the half-written file
    assert len(list((artifacts / ".tmp").rglob("part-1.bin"))) == 2  # two attempts, both killed
    assert run.get_step("source").output.read() == 3


def test_stack_config_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from zenml_widgets.cli import main

    root = tmp_path / "repo"
    assert main(["init", str(root)]) == 0
    args = ["-R", str(root), "stack", "register", "team", "--metadata-url", "sqlite:///t.db"]
    args += ["--artifact-store", "art", "--orchestrator", "dask"]
    code = main(
        [
            *args,
            "--orchestrator-option",
            "address=tcp://127.0.0.1:8786",
            "--orchestrator-option",
            "timeout=4",  # not n_workers: that only applies without an address (a LocalCluster)
        ]
    )
    assert code == 0
    assert main(["-R", str(root), "stack", "list"]) == 0
    out = capsys.readouterr().out
    assert "orchestrator dask address=tcp://127.0.0.1:8786 timeout=4" in out
    assert "default: " in out and "orchestrator local" in out
    stack = Repository(root).get_stack("team")
    assert stack.orchestrator == "dask"
    assert stack.config.orchestrator_options == {"address": "tcp://127.0.0.1:8786", "timeout": 4}

    assert main([*args[:4], "t2", *args[5:], "--orchestrator-option", "api_token=x"]) == 1
    assert "looks like a credential" in capsys.readouterr().err
    assert main([*args[:4], "t3", *args[5:], "--orchestrator-option", "workers=2"]) == 1
    err = capsys.readouterr().err
    assert "Unknown option 'workers'" in err and "n_workers" in err
    with pytest.raises(ZenMLWidgetsError, match="Unknown orchestrator 'spark'"):
        Repository(root).register_stack("t4", "sqlite:///x.db", "a", orchestrator="spark")


CLIENT_SCRIPT = """
import sys, time
from zenml_widgets import pipeline, step
from zenml_widgets.repository import Repository

@step
def first() -> int:
    return 1

@step
def slow(x: int) -> int:
    time.sleep(30)
    return x

@pipeline
def killed_client(first, slow):
    slow(x=first())

if __name__ == "__main__":
    killed_client(first=first(), slow=slow()).run(run_name="doomed", repository=sys.argv[1])
"""


def test_a_killed_client_leaves_the_run_interrupted(tmp_path: Path, dask_address: str) -> None:
    import subprocess
    import sys

    repo = dask_repo(tmp_path / "repo", address=dask_address)
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    client = subprocess.Popen([sys.executable, str(script), str(repo.root)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            names = [p.name for p in Repository(repo.root).get_pipelines()]
            if "killed_client" in names:
                run = Repository(repo.root).get_pipeline("killed_client").get_run("doomed")
                if run.get_step("slow").status == "running":  # recorded pending at the start
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the slow step never started")
        assert run.status == "running"
        client.send_signal(signal.SIGKILL)
        client.wait(timeout=30)
    finally:
        client.kill()
    run = Repository(repo.root).get_pipeline("killed_client").get_run("doomed")
    assert run.status == "failed"
    assert "interrupted" in (run.error or "") and str(client.pid) in (run.error or "")
