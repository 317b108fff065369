"""Dask orchestrator benchmark: parallel branches, and the cost per step of going through Dask.

Run: python benchmarks/bench_dask.py [--sleep 1.0 --noop-steps 20 --repeat 3]

1. A pipeline of 4 independent steps that each sleep ``--sleep`` seconds, joined by a fifth:
   wall time on the local orchestrator vs Dask with 2 and 4 worker processes (a running
   cluster), as ratios to the ideal (one sleep plus the join).
2. Per-step overhead: a chain of ``--noop-steps`` no-op steps on the local orchestrator vs on a
   running Dask cluster (each step is a task that reads its input from the artifact store and
   records itself in the metadata store from the worker).
3. For reference: the same 4-branch pipeline on a cluster started for the run (no address).

Every figure is measured in this run; SQLite metadata store and local artifact folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import report

from zenml_widgets import pipeline, step
from zenml_widgets.repository import Repository

SLEEP = 1.0


@step(enable_cache=False)
def origin() -> int:
    return 1


@step(enable_cache=False)
def sleeper(x: int, seconds: float = 1.0) -> int:
    time.sleep(seconds)
    return x


@step(enable_cache=False)
def gather(a: int, b: int, c: int, d: int) -> int:
    return a + b + c + d


@pipeline(enable_cache=False)
def four_sleepers(origin, s1, s2, s3, s4, gather):
    x = origin()
    gather(a=s1(x=x), b=s2(x=x), c=s3(x=x), d=s4(x=x))


@step(enable_cache=False)
def noop(x: int) -> int:
    return x


def chain_pipeline(n: int) -> Any:
    def body(origin: Any, **steps: Any) -> None:
        x = origin()
        for s in steps.values():
            x = s(x=x)

    body.__name__ = f"noop_chain_{n}"
    return pipeline(body, enable_cache=False)


def run_chain(n: int, repo: Repository) -> Any:
    noops = {f"n{i}": noop() for i in range(n)}
    return chain_pipeline(n)(origin=origin(), **noops).run(repository=repo)


def make_sleepers(seconds: float) -> Any:
    sleepers = {f"s{i}": sleeper(seconds=seconds) for i in range(1, 5)}
    return four_sleepers(origin=origin(), **sleepers, gather=gather())


def median_wall(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up: imports, schema, worker processes opening the stores
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def repository(root: Path, orchestrator: str, **options: Any) -> Repository:
    repo = Repository.init(root)
    repo.register_stack(
        "bench",
        f"sqlite:///{root}/bench.db",
        str(root / "artifacts"),
        orchestrator=orchestrator,
        orchestrator_options=options,
        activate=True,
    )
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sleep", type=float, default=SLEEP)
    parser.add_argument("--noop-steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import dask
    import distributed

    tmp = Path(tempfile.mkdtemp(prefix="zw-bench-dask-"))
    local = repository(tmp / "local", "local")
    ideal = args.sleep  # the branches at the same time; the join and origin are no-ops

    print(f"== 4 independent steps sleeping {args.sleep:g} s + a join (median of {args.repeat})")
    wall_local = median_wall(lambda: make_sleepers(args.sleep).run(repository=local), args.repeat)
    report("local orchestrator", wall_local, note=f"{wall_local / ideal:.2f}x ideal")
    results: dict[int, float] = {}
    for workers in (2, 4):
        with (
            dask.config.set({"distributed.scheduler.allowed-failures": 1}),
            distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
        ):
            repo = repository(tmp / f"dask{workers}", "dask", address=cluster.scheduler_address)
            wall = median_wall(
                lambda repo=repo: make_sleepers(args.sleep).run(repository=repo), args.repeat
            )
            results[workers] = wall
            verdict = ""
            if workers == 4:
                verdict = f"  target <= 1.3x: {'OK' if wall / ideal <= 1.3 else 'MISSED'}"
            report(
                f"dask, {workers} workers (running cluster)",
                wall,
                note=f"{wall / ideal:.2f}x ideal, {wall_local / wall:.2f}x faster than local"
                + verdict,
            )
            if workers == 4:
                print(f"\n== Per-step overhead: a chain of {args.noop_steps} no-op steps")

                def steps_of(repo: Repository) -> Callable[[], Any]:
                    return lambda: run_chain(args.noop_steps, repo)

                n = args.noop_steps + 1
                chain_local = median_wall(steps_of(local), args.repeat)
                chain_dask = median_wall(steps_of(repo), args.repeat)
                report("local, per step", chain_local / n)
                report(
                    "dask (running cluster), per step",
                    chain_dask / n,
                    target=0.050,
                    note=f"{chain_dask / chain_local:.1f}x local",
                )
    print("\n== A cluster started for each run (no address; 4 workers)")
    per_run = repository(tmp / "per-run", "dask", n_workers=4)
    wall = median_wall(lambda: make_sleepers(args.sleep).run(repository=per_run), 1)
    report("dask, LocalCluster started and closed per run", wall, note=f"{wall / ideal:.2f}x ideal")
    print(f"\n(data in {tmp})", file=sys.stderr)


if __name__ == "__main__":
    main()
