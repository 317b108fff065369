"""The running step attempt that step code (and the threads it starts) finds with
``runner.context.current()``: the base that log capture and metrics hang off."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from zenml_widgets import pipeline, step
from zenml_widgets.repository import Repository
from zenml_widgets.runner import context

SEEN: list[dict[str, Any]] = []


class Part:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def close(self) -> None:
        self.closed = True
        SEEN.append({"closed": self.name})


def _seen(where: str) -> None:
    ctx = context.current()
    assert ctx is not None
    SEEN.append(
        {
            "where": where,
            "step": ctx.step_name,
            "run": ctx.run_name,
            "pipeline": ctx.pipeline_name,
            "attempt": ctx.attempt,
            "step_id": ctx.step_id,
            "run_id": ctx.run_id,
        }
    )


@step(enable_cache=False)
def first() -> int:
    _seen("first")
    ctx = context.current()
    assert ctx is not None
    part = ctx.part("buffer", lambda: Part("first"))
    assert ctx.part("buffer", lambda: Part("other")) is part  # made once
    return 1


@step(enable_cache=False, retries=1, retry_delay=0.01)
def second(x: int) -> int:
    _seen("second")
    worker = threading.Thread(target=_seen, args=("second's thread",))
    worker.start()
    worker.join()
    ctx = context.current()
    assert ctx is not None
    ctx.part("buffer", lambda: Part(f"second attempt {ctx.attempt}"))
    if ctx.attempt == 1:
        raise RuntimeError("first attempt fails")
    return x + 1


@step(enable_cache=False, timeout=30)
def timed(x: int) -> int:
    _seen("timed")  # runs in the time limit's helper thread
    return x


@pipeline(enable_cache=False)
def linked(first, second, timed):
    timed(x=second(x=first()))


def test_step_code_and_its_threads_find_the_running_attempt(sqlite_repo: Repository) -> None:
    SEEN.clear()
    assert context.current() is None
    run = linked(first=first(), second=second(), timed=timed()).run(
        run_name="ctx", repository=sqlite_repo
    )
    assert context.current() is None  # nothing leaks out of the run
    ids = {s.name: s.id for s in run.steps}
    seen = [s for s in SEEN if "where" in s]
    assert [(s["where"], s["attempt"]) for s in seen] == [
        ("first", 1),
        ("second", 1),
        ("second's thread", 1),
        ("second", 2),
        ("second's thread", 2),
        ("timed", 1),
    ]
    for s in seen:
        assert s["run"] == "ctx" and s["pipeline"] == "linked" and s["run_id"] == run.id
        assert s["step_id"] == ids[s["step"]]
    # every attempt's parts were closed when the attempt ended, failed attempts included
    closed = [s["closed"] for s in SEEN if "closed" in s]
    assert closed == ["first", "second attempt 1", "second attempt 2"]


def test_threads_started_outside_a_step_carry_nothing() -> None:
    found: list[object] = []
    t = threading.Thread(target=lambda: found.append(context.current()))
    t.start()
    t.join()
    assert found == [None]


def test_parts_close_newest_first_and_every_part_gets_its_turn(sqlite_repo: Repository) -> None:
    order: list[str] = []

    class Failing:
        def close(self) -> None:
            order.append("failing")
            raise OSError("disk full")

    class Fine:
        def close(self) -> None:
            order.append("fine")

    stack = sqlite_repo.active_stack
    ctx = context.StepContext(stack, "p", 1, "r", 1, "s", 1)
    ctx.part("fine", Fine)
    ctx.part("failing", Failing)
    with pytest.raises(OSError, match="disk full"), context.running(ctx):
        assert context.current() is ctx
    assert order == ["failing", "fine"] and ctx.ended
    assert context.current() is None
