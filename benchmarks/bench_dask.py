"""Dask orchestrator benchmark: parallel branches, and the cost per step of going through Dask.

Run: python benchmarks/bench_dask.py [--sleep 1.0 --noop-steps 20 --repeat 3]

1. A pipeline of 4 independent steps that each sleep ``--sleep`` seconds, joined by a fifth:
   wall time on the local orchestrator vs Dask with 2 and 4 worker processes (a running
   cluster), as ratios to the ideal (one sleep plus the join).
2. Per-step overhead: a chain of ``--noop-steps`` no-op steps on the local orchestrator vs on a
   running Dask cluster (each step is a task that reads its input from the artifact store and
   records itself in the metadata store from the worker).
3. For reference: the same 4-branch pipeline on a stack without address: the first run starts
   the process's LocalCluster, the next ones reuse it (their overhead: a 1-step pipeline's wall
   time; target < 0.5 s), and no "port 8787 in use" warning is logged.
4. With ``--baseline REV``: the chain's cost per step on a running cluster (and locally), this
   checkout against commit REV, each in fresh processes, alternately (target <= 1.1x).

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

from _chain import chain, noop
from _common import report, timeit

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


def run_chain(n: int, repo: Repository) -> Any:
    noops = {f"n{i}": noop() for i in range(n)}
    return chain(n)(origin=origin(), **noops).run(repository=repo)


def make_sleepers(seconds: float) -> Any:
    sleepers = {f"s{i}": sleeper(seconds=seconds) for i in range(1, 5)}
    return four_sleepers(origin=origin(), **sleepers, gather=gather())


def median_wall(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``fn()`` after one warm-up call (imports, schema, worker processes
    opening the stores)."""
    return timeit(fn, repeat=repeat, warmup=1)


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
    parser.add_argument("--baseline", default=None, help="a git revision to compare with")
    parser.add_argument(
        "--only", choices=["local-cluster", "lifecycle"], help="run just one section"
    )
    args = parser.parse_args()
    if args.only == "local-cluster":
        bench_local_cluster(Path(tempfile.mkdtemp(prefix="zw-bench-dask-")), args.sleep)
        return
    if args.only == "lifecycle":
        bench_lifecycle(args.baseline or "HEAD")
        return

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
    bench_local_cluster(tmp, args.sleep)
    if args.baseline:
        bench_lifecycle(args.baseline)
    print(f"\n(data in {tmp})", file=sys.stderr)


@step(enable_cache=False)
def single() -> int:
    return 1


@pipeline(enable_cache=False)
def one_step(single):
    single()


def bench_local_cluster(tmp: Path, sleep: float) -> None:
    """A stack without address: the first run starts the LocalCluster, the next reuse it."""
    import logging
    import warnings as warnings_module

    print("\n== A stack without address (LocalCluster of 4 workers, kept by the process)")
    warnings: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "8787" in record.getMessage() or "in use" in record.getMessage():
                warnings.append(record.getMessage())

    logging.getLogger("distributed").addHandler(Catch())
    per_run = repository(tmp / "per-run", "dask", n_workers=4)
    with warnings_module.catch_warnings(record=True) as caught:
        warnings_module.simplefilter("always")
        start = time.perf_counter()
        one_step(single=single()).run(repository=per_run)
        report("first run (starts the LocalCluster), 1 step", time.perf_counter() - start)
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            one_step(single=single()).run(repository=per_run)
            samples.append(time.perf_counter() - start)
    warnings += [str(w.message) for w in caught if "in use" in str(w.message)]
    report("next runs (reuse it), 1 step, median of 5", statistics.median(samples), target=0.5)
    wall = median_wall(lambda: make_sleepers(sleep).run(repository=per_run), 1)
    report("4 sleeping branches + join on it", wall, note=f"{wall / sleep:.2f}x ideal")
    print(f"'port in use' warnings logged: {len(warnings)}")


def bench_lifecycle(baseline: str) -> None:
    """Per step of a 20-step no-op chain, this checkout vs ``baseline``, fresh processes."""
    from _baseline import compare
    from _common import ratio

    print(f"\n== Per step, a 20-step chain: this checkout vs {baseline} (fresh processes)")
    for label, workers in (("local", 0), ("dask, running cluster of 2 workers", 2)):
        ours, theirs = compare(baseline, steps=20, repeat=7, rounds=5, dask_workers=workers)
        report(f"{label}: this checkout, per step", ours)
        report(f"{label}: {baseline}, per step", theirs)
        ratio(f"{label}: this checkout / baseline", ours, theirs, target=1.1)


if __name__ == "__main__":
    main()
