"""Steps that print and log, for the step-logs tests on Dask clusters (workers import this
module by name: ``PYTHONPATH`` is the tests folder)."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from zenml_widgets import log_metric, pipeline, step

TIMEOUT = 60


def _meet(folder: str, me: str, other: str, timeout: float = 60) -> None:
    """Wait until the step ``other`` reached this point too (both run at once)."""
    Path(folder, me).touch()
    deadline = time.monotonic() + timeout
    while not Path(folder, other).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{other} never came")
        time.sleep(0.01)


@step(enable_cache=False)
def printer(name: str = "", other: str = "", folder: str = "", lines: int = 2000) -> int:
    _meet(folder, name, other)
    log = logging.getLogger(f"steps.{name}")
    for i in range(lines):
        print(f"{name} line {i}")
        if i % 400 == 0:
            log.warning("%s warns %d", name, i)
            print(f"{name} err {i}", file=sys.stderr)
    return lines


@pipeline(enable_cache=False)
def two_printers(a, b):
    a()
    b()


@step(enable_cache=False)
def waiter(release: str = "") -> int:
    for i in range(3):
        print(f"early {i}")
    while not Path(release).exists():
        time.sleep(0.05)
    print("late")
    return 1


@pipeline(enable_cache=False)
def waiting(waiter):
    waiter()


@step(enable_cache=False)
def start() -> int:
    print("\x1b[32mgreen\x1b[0m <b>not bold</b>")
    return 1


@step(enable_cache=False)
def held(x: int, release: str = "") -> int:
    """Prints a line and logs a metric point a tick until the file ``release`` exists."""
    i = 0
    while not Path(release).exists():
        print(f"tick {i}")
        log_metric("tick", i)
        i += 1
        time.sleep(0.2)
    print("released", file=sys.stderr)
    return x + 1


@step(enable_cache=False)
def after(x: int) -> int:
    return x * 2


@pipeline(enable_cache=False)
def held_chain(start, held, after):
    after(x=held(x=start()))


class HeldRun:
    """``held_chain`` (run ``name``) running in a thread of this process until ``release()``."""

    def __init__(self, repo: Any, folder: Path, name: str = "r") -> None:
        self.release_file = folder / f"release-{name}"
        self.error: BaseException | None = None
        chain = held_chain(start=start(), held=held(release=str(self.release_file)), after=after())

        def run() -> None:
            try:
                chain.run(run_name=name, repository=repo, stream_logs=False, progress=False)
            except BaseException as e:
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def release(self) -> None:
        """Let the run end, and wait for it (it must have succeeded)."""
        self.release_file.touch()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive() and self.error is None, self.error


def dag_statuses(explorer: Any) -> list[tuple[str, str]]:
    """The (step, status) pairs of the explorer's DAG, as drawn."""
    return re.findall(r'data-step="([^"]+)" data-status="([^"]+)"', explorer.dag.graph.svg)


@step(enable_cache=False)
def stages(folder: str = "") -> int:
    """Prints ``stage N`` for N = 0, 1, 2, waiting for the file ``go-N`` before N = 1 and 2."""
    for n in range(3):
        while n and not Path(folder, f"go-{n}").exists():
            time.sleep(0.05)
        print(f"stage {n}")
    return 3


@pipeline(enable_cache=False)
def staged(stages):
    stages()
