"""Steps that print and log, for the step-logs tests on Dask clusters (workers import this
module by name: ``PYTHONPATH`` is the tests folder)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from zenml_widgets import pipeline, step


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
    """Prints a line a tick until the file ``release`` exists."""
    i = 0
    while not Path(release).exists():
        print(f"tick {i}")
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
