"""Concurrency benchmark: runs recorded per second with 1, 4 and 8 writer processes, on SQLite
and on PostgreSQL, and listing latency (``pipeline.runs.newest(50)``) while 8 writers run vs idle.

Run: python benchmarks/bench_concurrency.py [--runs 12]
PostgreSQL is a throwaway server (tests/infra/postgres.py, needs the Debian ``postgresql``
package). Each writer runs ``--runs`` runs of a 3-step pipeline with builtin outputs and caching
off, so the figures are the runner's and the metadata store's cost, not a model's. Writers start
together after importing (a go-file), so interpreter start-up is not counted.
Ratios compare against the 1-writer figure and the idle listing measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

TESTS = Path(__file__).resolve().parents[1] / "tests"

WRITER = """
    import sys, time
    from pathlib import Path
    from zenml_widgets import pipeline, step

    @step(enable_cache=False)
    def load(n: int = 10) -> list:
        return list(range(n))

    @step(enable_cache=False)
    def total(xs: list) -> int:
        return sum(xs)

    @step(enable_cache=False)
    def report(t: int) -> dict:
        return {"total": t}

    @pipeline
    def bench_pipeline(load, total, report):
        report(t=total(xs=load()))

    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.002)
    for _ in range(int(sys.argv[2])):
        bench_pipeline(load=load(), total=total(), report=report()).run(repository=sys.argv[3])
"""


def make_repo(root: Path, url: str | None) -> Repository:
    repo = Repository.init(root)
    if url is not None:
        repo.register_stack("team", url, str(root / "artifacts"), activate=True)
        repo = Repository(root)
    return repo


def start_writers(n: int, runs: int, root: Path, go: Path) -> list[subprocess.Popen[bytes]]:
    code = textwrap.dedent(WRITER)
    return [
        subprocess.Popen(
            [sys.executable, "-c", code, str(go), str(runs), str(root)],
            stderr=subprocess.PIPE,
        )
        for _ in range(n)
    ]


def wait(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        _out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a writer failed:\n{err.decode()}")


def throughput(url: str | None, writers: int, runs: int, tmp: Path) -> float:
    root = tmp / f"repo-{writers}-{'pg' if url else 'sqlite'}-{time.monotonic_ns()}"
    root.mkdir()
    make_repo(root, url)
    go = root / "go"
    procs = start_writers(writers, runs, root, go)
    time.sleep(2.0)  # imports done; they wait for the go-file
    started = time.perf_counter()
    go.touch()
    wait(procs)
    elapsed = time.perf_counter() - started
    forget_metadata_stores()
    recorded = len(Repository(root).get_pipeline("bench_pipeline").runs)
    assert recorded == writers * runs, (recorded, writers * runs)
    return writers * runs / elapsed


def listing_latency(url: str | None, runs: int, tmp: Path) -> tuple[float, float, float, float]:
    """(idle median, idle p95, busy median, busy p95) of runs.newest(50), in ms."""
    root = tmp / f"listing-{'pg' if url else 'sqlite'}"
    root.mkdir()
    make_repo(root, url)
    # some history first
    seed = start_writers(4, max(runs, 15), root, root / "seed-go")
    (root / "seed-go").touch()
    wait(seed)
    forget_metadata_stores()
    pipeline = Repository(root).get_pipeline("bench_pipeline")

    def sample(seconds: float, stop: list[subprocess.Popen[bytes]] | None = None) -> list[float]:
        times = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            if stop is not None and all(p.poll() is not None for p in stop):
                break
            t = time.perf_counter()
            assert len(pipeline.runs.newest(50)) == 50
            times.append((time.perf_counter() - t) * 1000)
            time.sleep(0.005)
        return times

    idle = sample(2.0)
    go = root / "go"
    procs = start_writers(8, runs * 2, root, go)
    time.sleep(2.0)
    go.touch()
    busy = sample(30.0, stop=procs)
    wait(procs)
    return (
        statistics.median(idle),
        _p95(idle),
        statistics.median(busy),
        _p95(busy),
    )


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1 if len(values) > 1 else 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12, help="runs per writer process")
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    from infra.postgres import PostgresServer

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory(prefix="zw-bench-conc-") as tmp_name:
        tmp = Path(tmp_name)
        server = PostgresServer.start()
        try:
            backends = {"sqlite": None, "postgres": None}
            print(f"runs recorded per second ({args.runs} runs per writer, 3 steps each)")
            print(f"{'backend':<10}{'writers':>8}{'runs/s':>10}{'vs 1 writer':>13}")
            for backend in backends:
                base = None
                for writers in (1, 4, 8):
                    url = server.create_database() if backend == "postgres" else None
                    rate = throughput(url, writers, args.runs, tmp)
                    base = base or rate
                    print(f"{backend:<10}{writers:>8}{rate:>10.1f}{rate / base:>12.2f}x")
            print()
            print("runs.newest(50) latency, ms (idle vs while 8 writers record runs)")
            print(
                f"{'backend':<10}{'idle med':>10}{'idle p95':>10}{'busy med':>10}"
                f"{'busy p95':>10}{'busy/idle':>11}"
            )
            for backend in backends:
                url = server.create_database() if backend == "postgres" else None
                im, ip, bm, bp = listing_latency(url, args.runs, tmp)
                print(f"{backend:<10}{im:>10.2f}{ip:>10.2f}{bm:>10.2f}{bp:>10.2f}{bm / im:>10.2f}x")
        finally:
            forget_metadata_stores()
            server.stop()


if __name__ == "__main__":
    main()
