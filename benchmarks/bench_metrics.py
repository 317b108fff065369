"""Logged metrics (``log_metric``) beside MLflow 3.17, on the same points.

Run: python benchmarks/bench_metrics.py [--points 100000 --sync-points 2000 --async-points 10000
     --runs 100 --history-points 1000 --big 100000 --memory-points 10000000 --million 1000000
     --repeat 7 --only logging|histories|top|memory|million]

MLflow runs in its own venv (``~/.cache/zenml-widgets-bench/mlflow-venv``, created by
``bench_mlflow.py``; the project does not depend on it) through ``_mlflow_metrics_side.py``, which
times its own calls. Both sides log the same values (``_mlflow_metrics_side.point``) into SQLite
stores (5. also PostgreSQL). Measured in this run:

1. logging ``--points`` points of one metric from one step: ours, ``log_metric`` in a loop inside
   a running step, timed as the run minus the same run logging nothing (measured alternately);
   MLflow's ``log_metric`` (one write per call; on ``--sync-points`` points, it is slow),
   ``log_metric(synchronous=False)`` (its background batching, on ``--async-points``: about
   5,000 points a minute on a loaded 2-core machine) and ``log_batch`` (1,000 a call):
   the cost per point of each, and MLflow's / ours;
2. reading the histories of ``--runs`` runs x ``--history-points`` points: ours,
   ``runs.table(limit=100).metric_histories("trainer.metrics.loss")`` (finding the runs
   included; one Series per run), MLflow's ``get_metric_history`` for each run (run ids known);
   both must read the same number of points with the same sum. Target: under 50 ms;
3. the top 50 runs by a metric's last value at ``--big`` runs:
   ``runs.to_dataframe(sort="trainer.metrics.loss", ascending=True, limit=50)``, against a
   baseline that reads every run's last value and sorts in pandas. Target: under 50 ms;
4. memory: a fresh process whose step logs ``--memory-points`` points in a tight loop; its peak
   RSS against the same process logging none (bounded by the batch, not the points) and the cost
   per point;
5. ``--million`` points from one step on SQLite and on PostgreSQL (a throwaway server, as in
   ``bench_concurrency.py``): the cost of logging them, and reading them back as a Series
   (``metric_history``), a DataFrame (``metrics_dataframe``) and a picture (``curves``).

Histories (2, 3) are built once and kept in ``benchmarks/.data/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import paired, timeit
from _mlflow_metrics_side import point
from tqdm import tqdm

from zenml_widgets import log_metric, pipeline, step
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
MLFLOW_PYTHON = Path.home() / ".cache" / "zenml-widgets-bench" / "mlflow-venv" / "bin" / "python"
HISTORIES = 0.050  # target 2
TOP = 0.050  # target 3
BATCH = 200  # runs per transaction while building the big history


@step(enable_cache=False)
def trainer(points: int = 1000, run: int = 0) -> int:
    """Logs ``points`` points of ``loss`` (the values both sides log for run ``run``)."""
    for i in range(points):
        log_metric("loss", point(run, i))
    return points


@pipeline(enable_cache=False)
def metrics_pipeline(trainer):
    trainer()


def mlflow_side(*args: str) -> Any:
    if not MLFLOW_PYTHON.exists():
        raise SystemExit(f"{MLFLOW_PYTHON} is missing: run benchmarks/bench_mlflow.py once")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MLFLOW_"))}
    out = subprocess.run(
        [str(MLFLOW_PYTHON), str(HERE / "_mlflow_metrics_side.py"), *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"MLflow's side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(name: str, value: str, note: str = "") -> None:
    print(f"  {name:<66} {value:>14}{'  ' + note if note else ''}")


def us(seconds: float, points: int) -> str:
    return f"{seconds / points * 1e6:.2f} us/pt"


# -- 1. logging ------------------------------------------------------------------------------


def bench_logging(args: argparse.Namespace, tmp: Path) -> None:
    repo = Repository.init(tmp / "ours")
    n = args.points

    def run(points: int) -> Callable[[], None]:
        return lambda: metrics_pipeline(trainer=trainer(points=points)).run(repository=repo)

    with_points, without = paired(run(n), run(0), repeat=max(3, args.repeat // 2))
    ours = with_points - without
    history = repo.get_pipeline("metrics_pipeline").runs[-2].get_step("trainer")
    assert len(history.metric_history("loss")) in (0, n)
    theirs = mlflow_side(
        "log", str(tmp / "mlflow.db"), str(args.sync_points), str(args.async_points), str(n)
    )
    print(f"1. logging {n:,} points of one metric from one step (SQLite)")
    line("ours: log_metric in a step (the run minus a run logging none)", us(ours, n),
         f"{ours:.3f} s for {n:,}")  # fmt: skip
    for key, label, count in (
        ("sync", f"MLflow: log_metric, one write per call ({args.sync_points:,} points)",
         args.sync_points),
        ("async", f"MLflow: log_metric(synchronous=False) + flush ({args.async_points:,})",
         args.async_points),
        ("batch", "MLflow: MlflowClient.log_batch, 1,000 points a call", n),
    ):  # fmt: skip
        seconds = theirs[key]
        ratio = (seconds / count) / (ours / n)
        line(label, us(seconds, count), f"MLflow / ours {ratio:7.1f} x")
    print()


# -- 2. histories ----------------------------------------------------------------------------


def build_histories(root: Path, runs: int, points: int) -> Repository:
    repo = Repository(root) if (root / ".zen").exists() else Repository.init(root)
    done = 0
    if repo.get_pipelines():
        done = len(repo.get_pipeline("metrics_pipeline").runs)
    for r in tqdm(range(done, runs), initial=done, total=runs, desc="ours: histories"):
        metrics_pipeline(trainer=trainer(points=points, run=r)).run(
            run_name=f"run-{r:03d}", repository=repo
        )
    return repo


def bench_histories(args: argparse.Namespace) -> None:
    runs, points = args.runs, args.history_points
    repo = build_histories(DATA / f"metrics-histories-{runs}x{points}", runs, points)
    forget_metadata_stores()
    table_runs = Repository(repo.root).get_pipeline("metrics_pipeline").runs

    def ours() -> dict[str, Any]:
        return table_runs.table(limit=runs).metric_histories("trainer.metrics.loss")

    found = ours()
    count = sum(len(s) for s in found.values())
    total = sum(float(s.sum()) for s in found.values())
    samples = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        ours()
        samples.append(time.perf_counter() - started)
    ours_s = statistics.median(samples)
    db = DATA / f"mlflow-metrics-histories-{runs}x{points}" / "mlflow.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    theirs = mlflow_side("histories", str(db), str(runs), str(points), str(args.repeat))
    assert theirs["points"] == count == runs * points, (theirs["points"], count)
    assert abs(theirs["sum"] - total) < 1e-6 * abs(total), (theirs["sum"], total)
    mlflow_s = statistics.median(theirs["seconds"])
    print(f"2. the histories of {runs} runs x {points:,} points (the same points on both sides)")
    line("ours: runs.table(limit=100).metric_histories(...), runs found too",
         f"{ours_s * 1000:.1f} ms")  # fmt: skip
    line("MLflow: get_metric_history for each run (run ids known)", f"{mlflow_s * 1000:.1f} ms",
         f"MLflow / ours {mlflow_s / ours_s:7.1f} x")  # fmt: skip
    line("target: under 50 ms", "PASS" if ours_s < HISTORIES else "MISS")
    print()


# -- 3. top 50 by a last value ---------------------------------------------------------------


def build_big(root: Path, runs: int) -> Repository:
    """``runs`` runs of one pipeline through the store's own writes (a trainer step logging 5
    points of ``loss`` each); resumes a partial build."""
    repo = Repository(root) if (root / ".zen").exists() else Repository.init(root)
    store = repo.active_stack.metadata_store
    record = store.get_or_create_pipeline("big")
    done = store.count_runs(record.id)
    with tqdm(total=runs, initial=done, desc="ours: big history", unit="run") as bar:
        for start in range(done, runs, BATCH):
            with store.transaction():
                for r in range(start, min(runs, start + BATCH)):
                    run = store.create_run(record.id, f"run-{r:06d}", pid=1, hostname="b")
                    created = store.create_step(
                        run.id, position=0, name="trainer", entrypoint_name="trainer",
                        parameters={"lr": (r % 7 + 1) / 1000}, cache_key=None, code_hash="c",
                    )  # fmt: skip
                    points = [("loss", i, i, point(r, i) + r / 1e7, 0.0) for i in range(5)]
                    store.record_metrics(
                        run_id=run.id, step_id=created.id, step_name="trainer", attempt=1,
                        points=points, series={},
                    )  # fmt: skip
                    store.finish_step(created.id, "completed")
                    store.finish_run(run.id, "completed")
                    bar.update(1)
    return repo


def bench_top(args: argparse.Namespace) -> None:
    repo = build_big(DATA / f"metrics-top-{args.big}", args.big)
    forget_metadata_stores()
    repo = Repository(repo.root)
    runs = repo.get_pipeline("big").runs
    db = Path(repo.active_stack.metadata_url.removeprefix("sqlite:///"))
    pipeline_id = repo.active_stack.metadata_store.get_or_create_pipeline("big").id

    def ours() -> Any:
        return runs.to_dataframe(sort="trainer.metrics.loss", ascending=True, limit=50)

    def baseline() -> Any:
        import pandas as pd

        conn = sqlite3.connect(db)
        try:
            rows = conn.execute(
                "SELECT run_id, num_value FROM run_values WHERE pipeline_id = ? AND name = ?",
                (pipeline_id, "trainer.metrics.loss"),
            ).fetchall()
            frame = pd.DataFrame(rows, columns=["run_id", "loss"]).nsmallest(50, "loss")
            ids = [int(i) for i in frame["run_id"]]
            names = dict(conn.execute(
                f"SELECT id, name FROM runs WHERE id IN ({','.join('?' * len(ids))})", ids
            ).fetchall())  # fmt: skip
        finally:
            conn.close()
        return frame.assign(name=[names[i] for i in frame["run_id"]])

    assert list(ours()["name"]) == list(baseline()["name"])
    ours_s, base_s = paired(ours, baseline, repeat=args.repeat)
    print(f"3. top 50 runs by a metric's last value, {args.big:,} runs (same 50 runs, same order)")
    line("ours: runs.to_dataframe(sort='trainer.metrics.loss', limit=50)",
         f"{ours_s * 1000:.1f} ms")  # fmt: skip
    line("baseline: every run's last value, sorted in pandas", f"{base_s * 1000:.1f} ms",
         f"baseline / ours {base_s / ours_s:7.1f} x")  # fmt: skip
    line("target: under 50 ms", "PASS" if ours_s < TOP else "MISS")
    print()


# -- 5. a million points: write and read -----------------------------------------------------


def million(repo: Repository, n: int, repeat: int) -> dict[str, float]:
    """Seconds to log ``n`` points from one step (the run minus a run logging none) and to read
    them back: every point as a Series and as a DataFrame, and a picture's 500."""
    seconds = {}
    for points in (0, n):
        started = time.perf_counter()
        metrics_pipeline(trainer=trainer(points=points)).run(
            run_name=f"m-{points}", repository=repo
        )
        seconds[points] = time.perf_counter() - started
    forget_metadata_stores()
    runs = Repository(repo.root).get_pipeline("metrics_pipeline")
    step_view = runs.get_run(f"m-{n}").get_step("trainer")
    assert len(step_view.metric_history("loss")) == n
    return {
        "write": seconds[n] - seconds[0],
        "history": timeit(lambda: step_view.metric_history("loss"), repeat=repeat, warmup=0),
        "frame": timeit(step_view.metrics_dataframe, repeat=repeat, warmup=0),
        "curves": timeit(step_view.curves, repeat=repeat * 3, warmup=1),
    }


def bench_million(args: argparse.Namespace, tmp: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from infra.postgres import PostgresServer
    from zw_testing import make_repo

    n = args.million
    print(f"5. one step logging {n:,} points, then reading them (medians of {args.repeat // 2})")
    server = PostgresServer.start()
    try:
        for backend, url in (("SQLite", None), ("PostgreSQL", server.create_database())):
            found = million(make_repo(tmp / f"million-{backend}", url), n, max(1, args.repeat // 2))
            line(f"{backend}: log_metric in a step, {n:,} points", us(found["write"], n),
                 f"{found['write']:.2f} s")  # fmt: skip
            for key, label in (
                ("history", "step.metric_history('loss'), every point"),
                ("frame", "step.metrics_dataframe(), every point"),
                ("curves", "step.curves(), the picture's ~500 points"),
            ):
                line(f"{backend}: {label}", f"{found[key] * 1000:.0f} ms")
    finally:
        forget_metadata_stores()
        server.stop()
    print()


# -- 4. memory -------------------------------------------------------------------------------

MEMORY_CODE = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
from bench_metrics import metrics_pipeline, trainer
from zenml_widgets.repository import Repository
repo = Repository.init({root!r})
started = time.perf_counter()
metrics_pipeline(trainer=trainer(points={points})).run(repository=repo)
seconds = time.perf_counter() - started
step = repo.get_pipeline("metrics_pipeline").runs[-1].get_step("trainer")
steps = sum(s.points for s in step.curves().series)
print(json.dumps([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, seconds, steps]))
"""


def bench_memory(args: argparse.Namespace, tmp: Path) -> None:
    found = {}
    for points in (0, args.memory_points):
        code = MEMORY_CODE.format(here=str(HERE), root=str(tmp / f"mem-{points}"), points=points)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        found[points] = json.loads(out.stdout.strip().splitlines()[-1])
    (rss0, s0, _), (rss, seconds, read) = found[0], found[args.memory_points]
    n = args.memory_points
    assert read == n, (read, n)
    print(f"4. a step logging {n:,} points in a tight loop, in a fresh process")
    line("peak RSS, logging none", f"{rss0 / 1024:.0f} MiB")
    line(f"peak RSS, logging {n:,} ({read:,} points stored)", f"{rss / 1024:.0f} MiB",
         f"+{(rss - rss0) / 1024:.0f} MiB")  # fmt: skip
    line("cost per point (the run minus the run logging none)", us(seconds - s0, n))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--sync-points", type=int, default=2_000)
    parser.add_argument("--async-points", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--history-points", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--memory-points", type=int, default=10_000_000)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", choices=["logging", "histories", "top", "memory", "million"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zw-bench-metrics-") as folder:
        tmp = Path(folder)
        for name, run in (
            ("logging", lambda: bench_logging(args, tmp)),
            ("histories", lambda: bench_histories(args)),
            ("top", lambda: bench_top(args)),
            ("memory", lambda: bench_memory(args, tmp)),
            ("million", lambda: bench_million(args, tmp)),
        ):
            if args.only in (None, name):
                run()


if __name__ == "__main__":
    main()
