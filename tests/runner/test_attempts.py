"""The run lifecycle on the local orchestrator: pending and skipped steps, attempts, retries,
timeouts, and step code that raises ``BaseException``s."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path

import pytest

from zenml_widgets import pipeline, step
from zenml_widgets.display.dag import RunDag
from zenml_widgets.exceptions import PipelineDefinitionError, StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.views.lineage import explain_step

STARTED: list[str] = []


@step(enable_cache=False)
def one() -> int:
    return 1


@step(enable_cache=False, retries=2, retry_delay=0.05)
def flaky(x: int, failures: int = 1) -> int:
    STARTED.append("flaky")
    if STARTED.count("flaky") <= failures:
        raise RuntimeError(f"flaky failure {STARTED.count('flaky')}")
    return x + 1


@step(enable_cache=False)
def after(x: int) -> int:
    return x * 10


@pipeline(enable_cache=False)
def chain(one, flaky, after):
    after(x=flaky(x=one()))


def test_a_retried_step_shows_every_attempt(sqlite_repo: Repository) -> None:
    STARTED.clear()
    run = chain(one=one(), flaky=flaky(failures=2), after=after()).run(repository=sqlite_repo)
    assert run.status == "completed"
    step_ = run.get_step("flaky")
    assert step_.status == "completed" and step_.output.read() == 2
    attempts = step_.attempts
    assert [(a.number, a.status) for a in attempts] == [(1, "failed"), (2, "failed"),
                                                         (3, "completed")]  # fmt: skip
    assert "RuntimeError: flaky failure 1" in (attempts[0].error or "")
    assert all(a.hostname and a.pid and a.worker is None for a in attempts)
    # the step's own times are those of its last attempt; attempts follow each other
    assert step_.start_time == attempts[-1].start_time and step_.end_time == attempts[-1].end_time
    assert attempts[0].end_time <= attempts[1].start_time  # type: ignore[operator]
    assert [len(s.attempts) for s in run.steps] == [1, 3, 1]


def test_a_step_out_of_retries_fails_and_skips_what_follows(sqlite_repo: Repository) -> None:
    STARTED.clear()
    with pytest.raises(StepFailedError, match="flaky failure 3"):
        chain(one=one(), flaky=flaky(failures=5), after=after()).run(
            run_name="r", repository=sqlite_repo
        )
    run = sqlite_repo.get_pipeline("chain").get_run("r")
    assert [s.status for s in run.steps] == ["completed", "failed", "skipped"]
    assert len(run.get_step("flaky").attempts) == 3  # the first and 2 retries
    skipped = run.get_step("after")
    assert skipped.attempts == [] and skipped.end_time is None and skipped.duration is None
    assert explain_step(skipped).summary.startswith("skipped: never ran")
    dag = RunDag(run)
    assert "after (skipped" in dag.text and 'data-status="skipped"' in dag.svg
    assert ">skipped</text>" in dag.svg and ">pending</text>" not in dag.svg  # in the legend
    width = float(re.search(r'width="([\d.]+)"', dag.svg).group(1))  # type: ignore[union-attr]
    legend_x = float(re.findall(r'<text x="([\d.]+)"[^>]*>skipped</text>', dag.svg)[-1])
    assert legend_x + 60 < width  # the legend's fifth entry fits
    # a later run compares its steps with steps that ran, never with a skipped one
    again = chain(one=one(), flaky=flaky(failures=0), after=after()).run(repository=sqlite_repo)
    assert explain_step(again.get_step("after")).kind == "first"


@step(enable_cache=False, timeout=0.5)
def spins(x: int) -> int:
    STARTED.append("spins")
    while True:  # pure Python: stopped at the limit
        pass


@step(enable_cache=False, timeout=0.3, retries=1)
def sleeps(x: int, seconds: float = 1.5) -> int:
    STARTED.append("sleeps")
    time.sleep(seconds)  # blocked in C: runs on, its result is discarded
    return x


@pipeline(enable_cache=False)
def timed(one, slow):
    slow(x=one())


def test_a_timed_out_attempt_fails_naming_the_limit(sqlite_repo: Repository) -> None:
    before = threading.active_count()
    started = time.monotonic()
    with pytest.raises(StepFailedError, match=r"ran longer than its timeout of 0.5 s"):
        timed(one=one(), slow=spins()).run(run_name="spin", repository=sqlite_repo)
    assert time.monotonic() - started < 10
    run = sqlite_repo.get_pipeline("timed").get_run("spin")
    assert run.status == "failed"
    (attempt,) = run.get_step("slow").attempts
    assert attempt.status == "failed" and "timeout of 0.5 s" in (attempt.error or "")
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)  # the spinning thread was stopped by the exception raised into it
    assert threading.active_count() == before


def test_a_blocked_attempt_is_abandoned_and_its_result_never_written(
    sqlite_repo: Repository,
) -> None:
    STARTED.clear()
    with pytest.raises(StepFailedError, match=r"timeout of 0.3 s"):
        timed(one=one(), slow=sleeps()).run(run_name="sleep", repository=sqlite_repo)
    run = sqlite_repo.get_pipeline("timed").get_run("sleep")
    slow = run.get_step("slow")
    assert [a.status for a in slow.attempts] == ["failed", "failed"]  # retried once
    assert STARTED == ["sleeps", "sleeps"]
    time.sleep(1.6)  # both sleeping threads return meanwhile
    assert slow.outputs == {}
    root = Path(sqlite_repo.active_stack.artifact_root)
    assert not [p for p in root.rglob("*") if "-slow" in str(p)]


@step(enable_cache=False)
def exits(x: int) -> int:
    sys.exit(3)


@pipeline(enable_cache=False)
def exiting(one, bad):
    bad(x=one())


def test_system_exit_in_a_step_fails_the_step_not_the_process(sqlite_repo: Repository) -> None:
    with pytest.raises(StepFailedError, match="SystemExit: 3") as e:
        exiting(one=one(), bad=exits()).run(run_name="r", repository=sqlite_repo)
    assert e.value.step_name == "bad"
    run = sqlite_repo.get_pipeline("exiting").get_run("r")
    assert run.status == "failed" and not (run.error or "").startswith("interrupted")
    bad = run.get_step("bad")
    assert bad.status == "failed" and len(bad.attempts) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": -1}, "retries takes a whole number >= 0"),
        ({"retries": 1.5}, "retries takes a whole number >= 0"),
        ({"retry_delay": -1}, "retry_delay takes a number of seconds >= 0"),
        ({"timeout": 0}, "timeout takes a number of seconds > 0"),
        ({"timeout": "10"}, "timeout takes a number of seconds > 0"),
    ],
)
def test_step_options_are_checked(options: dict[str, object], message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=message):
        step(**options)  # type: ignore[call-overload]


def test_the_dag_legend_explains_pending_and_skipped_when_a_run_has_them() -> None:
    from zenml_widgets.visualizers import dag as drawing

    def run_of(*statuses: str) -> drawing.DagRun:
        steps = tuple(
            drawing.DagStep(name=f"s{i}", status=s, entrypoint="f", duration=None, position=i)
            for i, s in enumerate(statuses)
        )
        return drawing.DagRun("r", "failed", steps)

    usual = drawing.dag_svg(run_of("failed"))
    assert ">pending</text>" not in usual and ">skipped</text>" not in usual
    both = drawing.layout(run_of("pending", "skipped"))
    assert drawing.legend_statuses(run_of("pending", "skipped"))[-2:] == ["pending", "skipped"]
    assert both.width >= 2 * drawing.MARGIN + 6 * drawing.LEGEND_STEP  # six entries fit
    assert drawing.layout(run_of("failed")).width == 2 * drawing.MARGIN + 4 * drawing.LEGEND_STEP
