"""Status is decided in one place: every reader reports the same status for every state of a
run and its steps (finding 3 of the lifecycle issue: a client killed during a step was
``failed`` for ``run.status`` and the CLI, ``running`` for the runs table).

The readers: ``run.status`` and ``step.status``, ``runs.to_dataframe()`` and its ``status=``
filter (in SQL), ``repo.runs_dataframe``, the CLI's ``runs``, the explorer's run and step
choices, and the DAG's data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from zw_testing import make_repo

from zenml_widgets import pipeline, step
from zenml_widgets.cli import main
from zenml_widgets.display.dag import run_graph
from zenml_widgets.exceptions import StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores
from zenml_widgets.widgets.options import SEP

pytestmark = pytest.mark.slow

CLIENT = """
    import sys, time
    from zenml_widgets import pipeline, step

    @step(enable_cache=False)
    def first() -> int:
        return 1

    @step(enable_cache=False)
    def slow(x: int) -> int:
        print("started", flush=True)
        time.sleep(600)
        return x

    @step(enable_cache=False)
    def last(x: int) -> int:
        return x

    @pipeline(enable_cache=False)
    def states(first, slow, last):
        last(x=slow(x=first()))

    if __name__ == "__main__":
        states(first=first(), slow=slow(), last=last()).run(run_name=sys.argv[2],
                                                            repository=sys.argv[1])
"""


@step
def first() -> int:
    return 1


@step
def slow(x: int, fail: bool = False) -> int:
    if fail:
        raise ValueError("slow refuses")
    return x


@step
def last(x: int) -> int:
    return x


@pipeline
def states(first, slow, last):
    last(x=slow(x=first()))


def every_reader(root: Path, run_name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """What each reader says of the run ``run_name`` of pipeline ``states``."""
    forget_metadata_stores()
    repo = Repository(root)
    runs = repo.get_pipeline("states").runs
    run = repo.get_pipeline("states").get_run(run_name)
    table = runs.to_dataframe(columns=["status"])
    filtered = {s: set(runs.to_dataframe(status=s)["name"]) for s in ("running", "completed",
                                                                      "failed")}  # fmt: skip
    across = repo.runs_dataframe(pipelines=["states"])
    capsys.readouterr()
    assert main(["-R", str(root), "runs", "states", "--limit", "50"]) == 0
    cli = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    graph = run_graph(run)
    from zenml_widgets import HistoryExplorer

    explorer = HistoryExplorer(repo)
    explorer.select("states", run_name)
    run_label = {v: k for k, v in explorer.ui.run.options}[run_name]
    explorer_steps = {v: k.split(SEP)[1] for k, v in explorer.ui.step.options}
    return {
        "run.status": run.status,
        "table": dict(zip(table["name"], table["status"], strict=True))[run_name],
        "status=": next(s for s, names in filtered.items() if run_name in names),
        "runs_dataframe": dict(zip(across["name"], across["status"], strict=True))[run_name],
        "cli": cli[run_name],
        "explorer": run_label.split(SEP)[1],
        "dag": graph.status,
        "steps": {s.name: s.status for s in run.steps},
        "explorer steps": explorer_steps,
        "dag steps": {s.name: s.status for s in graph.steps},
    }


def assert_agree(found: dict[str, Any], run_status: str, steps: dict[str, str]) -> None:
    for reader in ("run.status", "table", "status=", "runs_dataframe", "cli", "explorer", "dag"):
        assert found[reader] == run_status, (reader, found)
    for reader in ("steps", "explorer steps", "dag steps"):
        assert found[reader] == steps, (reader, found)


def test_every_reader_agrees_on_every_state(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "repo", store_url)
    script = tmp_path / "client.py"
    script.write_text(textwrap.dedent(CLIENT))
    client = subprocess.Popen(
        [sys.executable, str(script), str(repo.root), "killed"],
        stdout=subprocess.PIPE, env={**os.environ}, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert client.stdout is not None and client.stdout.readline().strip() == b"[slow] started"
        running = every_reader(repo.root, "killed", capsys)
        assert_agree(running, "running", {"first": "completed", "slow": "running",
                                          "last": "pending"})  # fmt: skip
        os.kill(client.pid, signal.SIGKILL)
        client.wait(timeout=30)
    finally:
        client.kill()
    interrupted = every_reader(repo.root, "killed", capsys)
    assert_agree(interrupted, "failed", {"first": "completed", "slow": "failed",
                                         "last": "skipped"})  # fmt: skip
    # gc records what the readers reported; nothing they report changes
    assert main(["-R", str(repo.root), "gc", "--older-than-hours", "0"]) == 0
    assert every_reader(repo.root, "killed", capsys) == interrupted

    states(first=first(), slow=slow(), last=last()).run(run_name="done", repository=repo)
    assert_agree(every_reader(repo.root, "done", capsys), "completed",
                 {"first": "completed", "slow": "completed", "last": "completed"})  # fmt: skip
    states(first=first(), slow=slow(), last=last()).run(run_name="again", repository=repo)
    assert_agree(every_reader(repo.root, "again", capsys), "completed",
                 {"first": "cached", "slow": "cached", "last": "cached"})  # fmt: skip
    with pytest.raises(StepFailedError):
        states(first=first(), slow=slow(fail=True), last=last()).run(
            run_name="broken", repository=repo
        )
    assert_agree(every_reader(repo.root, "broken", capsys), "failed",
                 {"first": "cached", "slow": "failed", "last": "skipped"})  # fmt: skip
