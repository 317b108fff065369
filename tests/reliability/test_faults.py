"""Faults: a step process killed mid-write, broken artifact files, unusable metadata stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from zw_testing import make_repo, make_training

from zenml_widgets.cli import main
from zenml_widgets.exceptions import ArtifactReadError, StoreError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

TESTS_DIR = str(Path(__file__).resolve().parents[1])

KILLED_WRITER = """
    import time
    from pathlib import Path
    from typing import Any
    from zenml_widgets import pipeline, step
    from zenml_widgets.materializers import BaseMaterializer

    class Slow:
        pass

    class SlowMaterializer(BaseMaterializer):
        ASSOCIATED_TYPES = (Slow,)

        def handle_return(self, data: Any) -> None:
            with self.open("part.bin", "wb") as f:
                f.write(b"x" * 100_000)
                f.flush()
                Path({ready!r}).touch()
                time.sleep(60)  # killed here, half-way through the artifact

    @step
    def first() -> int:
        return 1

    @step
    def slow(x: int) -> Slow:
        return Slow()

    @pipeline
    def killed_pipeline(first, slow):
        slow(x=first())

    killed_pipeline(first=first(), slow=slow()).run(run_name="killed", repository={root!r})
"""


def test_step_killed_mid_write(tmp_path: Path, store_url: str) -> None:
    repo = make_repo(tmp_path / "repo", store_url)
    ready = tmp_path / "ready"
    code = textwrap.dedent(KILLED_WRITER.format(ready=str(ready), root=str(repo.root)))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": TESTS_DIR}, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, "the writer ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    forget_metadata_stores()
    run = Repository(repo.root).get_pipeline("killed_pipeline").get_run("killed")
    assert run.status == "failed"
    assert [s.status for s in run.steps] == ["completed", "failed"]
    assert run.steps[1].outputs == {}  # no partial artifact is visible
    artifact_root = Path(repo.active_stack.artifact_root)
    finished = [p for p in artifact_root.rglob("part.bin") if ".tmp" not in p.parts]
    assert finished == []
    assert run.steps[0].output.read() == 1
    # the store opens and takes new runs
    again = make_training().run(run_name="after", repository=repo.root)
    assert again.status == "completed"


def test_deleted_and_corrupt_files_name_the_uri(sqlite_repo: Repository) -> None:
    run = make_training().run(repository=sqlite_repo.root)
    train = run.steps[0].outputs["train"]
    (Path(train.uri) / "df.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ArtifactReadError, match="corrupt") as info:
        train.read()
    assert train.uri in str(info.value)
    (Path(train.uri) / "df.parquet").unlink()
    with pytest.raises(ArtifactReadError) as info:
        train.read()
    assert train.uri in str(info.value)


def _one_clear_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_missing_database_file(sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]) -> None:
    make_training().run(repository=sqlite_repo.root)
    forget_metadata_stores()
    db = sqlite_repo.root / ".zen" / "metadata.db"
    for path in (db, db.with_name("metadata.db-wal"), db.with_name("metadata.db-shm")):
        path.unlink(missing_ok=True)
    with pytest.raises(StoreError) as info:
        Repository(sqlite_repo.root).get_pipelines()
    text = _one_clear_line(info.value)
    assert str(db) in text and "does not exist" in text
    assert not db.exists()  # reading never creates an empty store in its place
    assert main(["-R", str(sqlite_repo.root), "runs"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_read_only_database(tmp_path: Path, sqlite_repo: Repository) -> None:
    make_training().run(run_name="before", repository=sqlite_repo.root)
    forget_metadata_stores()
    db = sqlite_repo.root / ".zen" / "metadata.db"
    root = tmp_path / "reader"
    make_repo(root)
    Repository(root).register_stack(
        "ro", f"sqlite:///file:{db}?mode=ro&uri=true", str(sqlite_repo.root / ".zen/artifacts")
    )
    reader = Repository(root)
    (pipeline,) = reader.get_pipelines(stack_key="ro")  # reading works
    assert pipeline.get_run("before").get_step("evaluator").output.read()["rows"] == 10
    reader.set_active_stack("ro")
    with pytest.raises(StoreError) as info:
        make_training().run(run_name="after", repository=root)
    text = _one_clear_line(info.value)
    assert "readonly" in text.replace("-", "").replace(" ", "") or "read-only" in text


def test_unreachable_postgres(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://zw:hunter2@127.0.0.1:{port}/history"
    root = tmp_path / "repo"
    make_repo(root)
    Repository(root).register_stack(
        "team", url, str(root / "art"), activate=True, validate=False
    )  # a server that is down now
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        Repository(root).get_pipelines()
    assert time.monotonic() - started < 15
    text = _one_clear_line(info.value)
    assert f"127.0.0.1:{port}" in text and "hunter2" not in text
    # no driver traceback chained below it; the driver's error is kept for debugging
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert info.value.original is not None
    assert main(["-R", str(root), "runs"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hunter2" not in err


@pytest.mark.parametrize("pid", [1, os.getpid()], ids=["pid-1-of-a-container", "reused-pid"])
def test_a_silent_heartbeat_means_interrupted_even_when_the_pid_lives(pid: int) -> None:
    from datetime import timedelta

    from zenml_widgets.store import RunRecord, utcnow
    from zenml_widgets.store.liveness import (
        HEARTBEAT_INTERVAL,
        STALE_AFTER,
        interruption,
        this_host,
    )

    def run(silent: timedelta) -> RunRecord:
        start = utcnow() - timedelta(hours=1)
        return RunRecord(
            id=1,
            pipeline_id=1,
            name="r",
            status="running",
            start_time=start,
            end_time=None,
            heartbeat_at=utcnow() - silent,
            pid=pid,
            hostname=this_host(),
            error=None,
        )

    assert interruption(run(HEARTBEAT_INTERVAL)) is None  # beating: alive
    reason = interruption(run(STALE_AFTER + timedelta(seconds=30)))
    assert reason is not None and "no heartbeat" in reason and str(pid) in reason
