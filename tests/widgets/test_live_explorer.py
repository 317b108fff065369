"""The explorer's Logs panel and its live refresh of a running run: a task on the event loop
that shows the statuses, the DAG's colours, "n of m steps done" and the log tail without a
click, and ends with the run, on another selection or on close. Driven without a browser, on
a real run going on in a thread, with an asyncio loop standing for the kernel's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from infra import log_steps as ls
from infra.log_steps import TIMEOUT, HeldRun, dag_statuses

from zenml_widgets import HistoryExplorer
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository


async def until(predicate: Callable[[], Any], what: str) -> None:
    """Let the loop run until ``predicate()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        await asyncio.sleep(0.05)


def _held_status(repo: Repository) -> str | None:
    """The held step's status as a new reader sees it (``None`` before it is recorded)."""
    try:
        run = Repository(repo.root).get_pipeline("held_chain").get_run("r")
    except NotFoundError:
        return None
    return run.get_step("held").status


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    yield Repository.init(tmp_path / "repo")


def test_a_running_run_refreshes_itself_until_it_ends(repo: Repository, tmp_path: Path) -> None:
    held = HeldRun(repo, tmp_path)

    async def main() -> None:
        fresh = Repository(repo.root)
        await until(lambda: "held_chain" in fresh.get_pipeline_names(), "the run is recorded")
        explorer = HistoryExplorer(fresh)
        explorer.live.interval = 0.3
        explorer.select("held_chain", "r", "held")
        assert explorer.live.active  # it runs: watched without a click
        await until(lambda: "tick 3" in explorer.logs.view.value, "the log tail grows")
        assert ("after", "pending") in dag_statuses(explorer)
        assert ("held", "running") in dag_statuses(explorer)
        assert "running · 1 of 3 steps done · now: held" in explorer.dag.progress.value
        assert ("held  ·  running  ·  -", "held") in explorer.ui.step.options
        ticks = explorer.live.ticks
        held.release()
        await until(lambda: not explorer.live.active, "the refresh stops with the run")
        assert dag_statuses(explorer) == [
            ("start", "completed"), ("held", "completed"), ("after", "completed"),
        ]  # fmt: skip
        assert explorer.dag.progress.value == ""
        assert explorer.logs.view.value.endswith(">released</span></pre></div>")
        assert explorer.state.run is not None and explorer.state.run.status == "completed"
        assert explorer.live.ticks > ticks
        stopped = explorer.live.ticks
        await asyncio.sleep(1.0)  # nothing polls while nothing runs
        assert explorer.live.task is None and explorer.live.ticks == stopped
        explorer.close()

    try:
        asyncio.run(main())
    finally:
        held.release()


def test_the_refresh_stops_on_another_run_and_on_close(repo: Repository, tmp_path: Path) -> None:
    ls.held_chain(start=ls.start(), held=ls.held(release=str(tmp_path)), after=ls.after()).run(
        run_name="done", repository=repo, stream_logs=False, progress=False
    )
    held = HeldRun(repo, tmp_path)

    async def main() -> None:
        fresh = Repository(repo.root)
        await until(lambda: len(fresh.get_pipeline("held_chain").runs) == 2, "the run starts")
        explorer = HistoryExplorer(fresh)
        explorer.live.interval = 0.2
        explorer.select("held_chain", "done")
        assert explorer.live.task is None  # an ended run: nothing to watch
        explorer.select("held_chain", "r")
        task = explorer.live.task
        assert task is not None and explorer.live.active
        explorer.select("held_chain", "done")
        await until(task.done, "the task is cancelled")
        assert task.cancelled() and explorer.live.task is None
        explorer.select("held_chain", "r")
        task = explorer.live.task
        assert task is not None
        explorer.close()
        await until(task.done, "the task is cancelled")
        assert task.cancelled()

    try:
        asyncio.run(main())
    finally:
        held.release()


def test_without_an_event_loop_nothing_is_watched(repo: Repository, tmp_path: Path) -> None:
    held = HeldRun(repo, tmp_path)
    try:
        fresh = Repository(repo.root)
        asyncio.run(until(lambda: _held_status(repo) == "running", "the held step runs"))
        explorer = HistoryExplorer(fresh).select("held_chain", "r")
        assert explorer.live.task is None  # a plain script: refresh() by hand
        explorer.refresh()
        assert ("held", "running") in dag_statuses(explorer)
    finally:
        held.release()
