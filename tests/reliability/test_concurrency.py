"""Several processes writing history into one store at once (SQLite file and PostgreSQL)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from zw_testing import make_repo, make_training

from zenml_widgets.exceptions import RunNameClashError
from zenml_widgets.repository import Repository
from zenml_widgets.runner import execution

WRITERS = 8
RUNS_EACH = 3
TESTS_DIR = str(Path(__file__).resolve().parents[1])


def _spawn(code: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": TESTS_DIR, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen[str]], timeout: float = 240) -> list[str]:
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"writer failed ({proc.returncode}):\n{out}\n{err}"
        assert "database is locked" not in err
        outputs.append(out)
    return outputs


WRITER = """
    import sys, time
    from pathlib import Path
    from zw_testing import make_training
    go = Path(sys.argv[1] if len(sys.argv) > 1 else {go!r})
    while not go.exists():
        time.sleep(0.01)
    for i in range({runs}):
        run = make_training(n_rows=20 + {w}, epochs=i + 1).run(
            run_name=f"w{w}-{{i}}", repository={root!r}
        )
        print(run.name, run.status)
"""


@pytest.mark.slow
def test_eight_writers_and_a_reader(tmp_path: Path, store_url: str) -> None:
    repo = make_repo(tmp_path / "repo", store_url)
    make_training().run(run_name="seed", repository=repo.root)  # schema and pipeline exist
    go = tmp_path / "go"
    procs = [
        _spawn(WRITER.format(go=str(go), runs=RUNS_EACH, w=w, root=str(repo.root)), tmp_path)
        for w in range(WRITERS)
    ]
    go.touch()
    # a reader browses while they write
    reads = 0
    pipeline = Repository(repo.root).get_pipeline("training_pipeline")
    while any(p.poll() is None for p in procs):
        for run in pipeline.runs.newest(50):
            assert run.status in ("running", "completed")
            _ = [s.status for s in run.steps]
        reads += 1
        time.sleep(0.02)
    outputs = _finish(procs)
    assert reads > 0
    for w, out in enumerate(outputs):
        assert out.split() == [x for i in range(RUNS_EACH) for x in (f"w{w}-{i}", "completed")]
    runs = list(Repository(repo.root).get_pipeline("training_pipeline").runs)
    assert len(runs) == 1 + WRITERS * RUNS_EACH
    assert len({r.name for r in runs}) == len(runs)
    for run in runs:
        assert run.status == "completed"
        assert [s.name for s in run.steps] == ["importer", "trainer", "evaluator"]
        assert run.get_step("evaluator").output.read()["rows"] > 0
    # chronological: each writer's runs in the order it made them, runs[-1] the latest start
    ids = {r.name: i for i, r in enumerate(runs)}
    for w in range(WRITERS):
        order = [ids[f"w{w}-{i}"] for i in range(RUNS_EACH)]
        assert order == sorted(order)
    starts = [r.start_time for r in runs]
    if store_url.startswith("sqlite"):  # writers are serialised: start order is id order
        assert starts == sorted(starts)


RACER = """
    import sys, time
    from pathlib import Path
    from zw_testing import make_training
    from zenml_widgets.exceptions import RunNameClashError
    go = Path({go!r})
    while not go.exists():
        time.sleep(0.005)
    try:
        make_training(epochs={w}).run(run_name="the-one", repository={root!r})
        print("won")
    except RunNameClashError as e:
        print("clash", "the-one" in str(e))
"""


def test_same_run_name_race_has_exactly_one_winner(tmp_path: Path, store_url: str) -> None:
    repo = make_repo(tmp_path / "repo", store_url)
    make_training().run(run_name="seed", repository=repo.root)
    go = tmp_path / "go"
    procs = [_spawn(RACER.format(go=str(go), w=w, root=str(repo.root)), tmp_path) for w in range(6)]
    time.sleep(1.5)  # let them import and wait at the line
    go.touch()
    results = sorted(out.strip() for out in _finish(procs))
    assert results == ["clash True"] * 5 + ["won"]
    pipeline = Repository(repo.root).get_pipeline("training_pipeline")
    assert pipeline.get_run_names() == ["seed", "the-one"]
    assert pipeline.get_run("the-one").status == "completed"


def test_generated_names_retry_on_a_clash(
    sqlite_repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = execution.default_run_name

    def same_microsecond(name: str, attempt: int = 0) -> str:
        return f"{name}-2026_01_01-00_00_00_000000" if attempt == 0 else real(name, attempt)

    monkeypatch.setattr(execution, "default_run_name", same_microsecond)
    first = make_training().run(repository=sqlite_repo.root)
    second = make_training().run(repository=sqlite_repo.root)
    assert first.name == "training_pipeline-2026_01_01-00_00_00_000000"
    assert re.fullmatch(
        r"training_pipeline-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d_\d{6}-[0-9a-f]{6}", second.name
    )
    with pytest.raises(RunNameClashError, match="already has a run named"):
        make_training().run(run_name=first.name, repository=sqlite_repo.root)
