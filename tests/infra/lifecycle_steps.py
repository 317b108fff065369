"""Steps and pipelines of the lifecycle tests, importable by the workers of an external Dask
cluster (``infra.lifecycle_steps``), and a client to run them in a process of their own:

    python -m infra.lifecycle_steps REPOSITORY PIPELINE RUN_NAME [SECONDS]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from zenml_widgets import pipeline, step


@step(enable_cache=False)
def source(n: int = 3) -> int:
    return n


@step(enable_cache=False)
def branch(x: int, seconds: float = 0.0, factor: int = 1) -> int:
    time.sleep(seconds)
    return x * factor


@step(enable_cache=False)
def join(a: int, b: int, c: int, d: int) -> dict:
    return {"total": a + b + c + d}


@pipeline(enable_cache=False)
def diamond(source, b1, b2, b3, b4, join):
    x = source()
    join(a=b1(x=x), b=b2(x=x), c=b3(x=x), d=b4(x=x))


def make_diamond(seconds: float = 0.0) -> Any:
    """The 6-step diamond: a source, 4 branches sleeping ``seconds``, a join."""
    branches = {f"b{i}": branch(seconds=seconds, factor=i) for i in range(1, 5)}
    return diamond(source=source(), **branches, join=join())


@pipeline(enable_cache=False)
def two_branches(source, b1, b2):
    x = source()
    b1(x=x)
    b2(x=x)


def make_two(seconds: float) -> Any:
    """A source and two branches of ``seconds`` each."""
    return two_branches(source=source(), b1=branch(seconds=seconds), b2=branch(seconds=seconds))


@step(enable_cache=False)
def exits(x: int, how: str = "exit") -> int:
    """Ends by ``sys.exit(3)`` (``how="exit"``) or ``KeyboardInterrupt`` (``"interrupt"``)."""
    if how == "exit":
        sys.exit(3)
    raise KeyboardInterrupt("from the step")


@step(enable_cache=False)
def worker_pid(x: int) -> int:
    return os.getpid()


@pipeline(enable_cache=False)
def exit_then_pid(source, bad, after):
    x = source()
    bad(x=x)
    after(x=x)


@step(enable_cache=False, retries=2, retry_delay=0.1)
def flaky(x: int, marker: str = "", failures: int = 1) -> int:
    """Raises ``failures`` times (counted in the file ``marker``), then returns ``x + 1``."""
    path = Path(marker)
    seen = int(path.read_text()) if path.exists() else 0
    if seen < failures:
        path.write_text(str(seen + 1))
        raise RuntimeError(f"flaky failure {seen + 1}")
    return x + 1


@step(enable_cache=False, timeout=0.5)
def spins(x: int) -> int:
    """Pure Python past its timeout: stopped at the limit."""
    while True:
        pass


@pipeline(enable_cache=False)
def with_flaky(source, flaky):
    flaky(x=source())


if __name__ == "__main__":
    root, which, run_name = sys.argv[1:4]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    made = make_diamond(seconds) if which == "diamond" else make_two(seconds)
    print("starting", flush=True)
    made.run(run_name=run_name, repository=root)
