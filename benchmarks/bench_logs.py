"""Step logs benchmark: what capture costs a step that prints, and how soon ``--follow``
shows a line printed on a Dask worker.

Run: python benchmarks/bench_logs.py [--lines 100000 --repeat 5 --follow-lines 20]
     [--only overhead|follow]

1. Capture overhead: one step printing ``--lines`` lines in a tight loop, its duration as
   recorded (the attempt's start to end: the last flush of its logs included), on a stack
   with capture off (``log_options={"capture": False}``: the lines go to the console) against
   the same step with capture on, without and with the console echo (``stream_logs``). The
   console is ``/dev/null`` (the cheapest there is: the harshest baseline), then a
   pseudo-terminal drained by a thread (as a terminal is). Runs alternate; medians; target
   <= 1.5x. Measured (2 cores, load 1.5-2.6, --repeat 5): /dev/null, 100k lines 1.16x (echo
   1.18x), 1M lines 1.08-1.12x (echo 1.14-1.15x); a terminal 0.12-0.15x (echo 0.24-0.26x).
2. Follow latency: a step on a LocalCluster worker prints ``--follow-lines`` lines, each with
   the time it was printed, 0.25 s apart; ``zenml-widgets logs PIPELINE RUN STEP --follow``
   runs as its own process, and each line's latency is the time this process reads it from
   the command's output less the time in the line. Median and worst; target median < 2 s.

Every figure is measured in this run; SQLite metadata store and local artifact folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import ratio, report

from zenml_widgets import pipeline, step
from zenml_widgets.repository import Repository


@step(enable_cache=False)
def printer(lines: int = 100_000) -> int:
    for i in range(lines):
        print(f"epoch {i // 1000} batch {i} loss 0.{i % 9973:04d}")
    return lines


@pipeline(enable_cache=False)
def printing(printer):
    printer()


@step(enable_cache=False)
def ticker(lines: int = 20, every: float = 0.25) -> int:
    for i in range(lines):
        print(f"tick {i} {time.time():.6f}", flush=True)
        time.sleep(every)
    return lines


@pipeline(enable_cache=False)
def ticking(ticker):
    ticker()


def step_seconds(repo: Repository, stack: str, lines: int, stream: bool, console: Any) -> float:
    """The recorded duration of the printing step on ``stack``, printing to ``console``."""
    repo.set_active_stack(stack)
    with contextlib.redirect_stdout(console):
        run = printing(printer=printer(lines=lines)).run(repository=repo, stream_logs=stream)
    duration = run.get_step("printer").duration
    assert duration is not None
    return duration.total_seconds()


@contextlib.contextmanager
def terminal() -> Iterator[Any]:
    """A pseudo-terminal as the console (line-buffered, as a terminal is), read as fast as
    it is written by a thread, as a terminal emulator does."""
    leader, follower = pty.openpty()
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                os.read(leader, 1 << 16)
            except OSError:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with open(follower, "w", buffering=1, closefd=True) as console:
        yield console
    stop.set()
    os.close(leader)


def capture_overhead(root: Path, lines: int, repeat: int) -> None:
    repo = Repository.init(root / "repo")
    url = repo.active_stack.metadata_url
    repo.register_stack("off", url, str(root / "artifacts"), log_options={"capture": False})
    repo.register_stack("on", url, str(root / "artifacts"))
    cases = {"off": ("off", False), "on": ("on", False), "on+echo": ("on", True)}
    with open(os.devnull, "w") as null, terminal() as tty:
        for console_name, console in (("/dev/null", null), ("a terminal", tty)):
            samples: dict[str, list[float]] = {name: [] for name in cases}
            for round_ in range(repeat + 1):
                for name, (stack, stream) in cases.items():
                    seconds = step_seconds(repo, stack, lines, stream, console)
                    if round_:  # the first round warms up
                        samples[name].append(seconds)
            off = statistics.median(samples["off"])
            report(f"a step printing {lines:,} lines to {console_name}, capture off", off)
            for name in ("on", "on+echo"):
                ours = statistics.median(samples[name])
                ratio(f"  capture {name} / off", ours, off, target=1.5)


def follow_latency(root: Path, lines: int) -> None:
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    )
    try:
        repo = Repository.init(root / "dask")
        repo.register_stack(
            "cluster", repo.active_stack.metadata_url, str(root / "dask-artifacts"),
            orchestrator="dask", orchestrator_options={"address": cluster.scheduler_address},
            activate=True,
        )  # fmt: skip
        latencies = _followed(repo, lines)
    finally:
        cluster.close()
    report("--follow: a worker's line shown, median", statistics.median(latencies), target=2.0)
    report("--follow: a worker's line shown, worst", max(latencies))


def _followed(repo: Repository, lines: int) -> list[float]:
    """Latencies of the ticker's lines as ``zenml-widgets logs --follow`` prints them."""
    run = threading.Thread(
        target=lambda: ticking(ticker=ticker(lines=lines)).run(
            run_name="r", repository=repo, stream_logs=False, progress=False
        )
    )
    run.start()
    deadline = time.monotonic() + 120
    while not _step_started(repo):
        if time.monotonic() > deadline:
            raise SystemExit("the ticker never started")
        time.sleep(0.05)
    proc = subprocess.Popen(
        [sys.executable, "-m", "zenml_widgets.cli", "--repository", str(repo.root),
         "logs", "ticking", "r", "ticker", "--follow"],
        stdout=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    latencies = []
    assert proc.stdout is not None
    for line in proc.stdout:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "tick":
            latencies.append(time.time() - float(parts[2]))
    proc.wait(timeout=60)
    run.join(timeout=120)
    if len(latencies) < lines // 2:
        raise SystemExit(f"--follow showed {len(latencies)} of {lines} lines")
    return latencies[1:]  # the first lines were printed before the command started


def _step_started(repo: Repository) -> Any:
    try:
        return Repository(repo.root).get_pipeline("ticking").get_run("r")["ticker"].attempts
    except KeyError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--follow-lines", type=int, default=20)
    parser.add_argument("--only", choices=("overhead", "follow"), help="run one part only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "follow":
            capture_overhead(Path(tmp), args.lines, args.repeat)
        if args.only != "overhead":
            follow_latency(Path(tmp), args.follow_lines)


if __name__ == "__main__":
    sys.exit(main())
