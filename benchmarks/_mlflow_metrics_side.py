"""The MLflow side of ``bench_metrics.py``, and the points both sides log.

Imported by ``bench_metrics.py`` for :func:`point` only (the project does not depend on MLflow);
run as a script by MLflow's own venv's Python, printing one JSON line:

* ``python _mlflow_metrics_side.py log DB SYNC ASYNC BATCH``: into a new run of experiment
  ``bench`` of the tracking store ``sqlite:///DB``, log metric ``loss`` ``SYNC`` times with
  ``mlflow.log_metric`` (one write each), ``ASYNC`` times with ``log_metric(...,
  synchronous=False)`` (MLflow's background batching, flushed at the end), and ``BATCH`` points
  with ``MlflowClient.log_batch`` in batches of 1,000 (MLflow's limit): the seconds of each.
* ``python _mlflow_metrics_side.py histories DB RUNS POINTS REPEAT``: log ``RUNS`` runs of
  ``POINTS`` points each (``log_batch``, once per store), then time reading all their
  histories with ``MlflowClient.get_metric_history`` (run ids known) ``REPEAT`` times: the
  seconds of each round and the number of points and their sum read.
"""

from __future__ import annotations

import json
import sys
import time

EXPERIMENT = "bench"
MLFLOW_BATCH = 1000  # MLflow's most metrics per log_batch


def point(run: int, i: int) -> float:
    """The value of point ``i`` of run ``run``'s ``loss`` on both sides."""
    return 1.0 / (1.0 + i + run % 7) + ((i * 7919 + run * 104729) % 1000) / 1e6


def _client(db: str):  # type: ignore[no-untyped-def]
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{db}")
    client = MlflowClient()
    found = client.get_experiment_by_name(EXPERIMENT)
    experiment = found.experiment_id if found else client.create_experiment(EXPERIMENT)
    return mlflow, client, experiment


def log(db: str, sync: int, asynchronous: int, batch: int) -> dict[str, float]:
    from mlflow.entities import Metric

    mlflow, client, experiment = _client(db)
    seconds: dict[str, float] = {}
    with mlflow.start_run(experiment_id=experiment) as run:
        started = time.perf_counter()
        for i in range(sync):
            mlflow.log_metric("loss", point(0, i), step=i)
        seconds["sync"] = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(asynchronous):
            mlflow.log_metric("loss_async", point(0, i), step=i, synchronous=False)
        mlflow.flush_async_logging()
        seconds["async"] = time.perf_counter() - started
        run_id = run.info.run_id
        stamp = int(time.time() * 1000)
        started = time.perf_counter()
        for start in range(0, batch, MLFLOW_BATCH):
            metrics = [
                Metric("loss_batch", point(0, i), stamp, i)
                for i in range(start, min(batch, start + MLFLOW_BATCH))
            ]
            client.log_batch(run_id, metrics=metrics)
        seconds["batch"] = time.perf_counter() - started
    return seconds


def histories(db: str, runs: int, points: int, repeat: int) -> dict[str, object]:
    from mlflow.entities import Metric

    _, client, experiment = _client(db)
    found = client.search_runs([experiment], max_results=runs)
    if len(found) < runs:
        for r in range(len(found), runs):
            run_id = client.create_run(experiment, run_name=f"run-{r:03d}").info.run_id
            stamp = int(time.time() * 1000)
            for start in range(0, points, MLFLOW_BATCH):
                batch = [
                    Metric("loss", point(r, i), stamp, i)
                    for i in range(start, min(points, start + MLFLOW_BATCH))
                ]
                client.log_batch(run_id, metrics=batch)
            client.set_terminated(run_id)
        found = client.search_runs([experiment], max_results=runs)
    ids = [r.info.run_id for r in found]
    rounds = []
    total, count = 0.0, 0
    for _ in range(repeat + 1):
        started = time.perf_counter()
        read = {run_id: client.get_metric_history(run_id, "loss") for run_id in ids}
        rounds.append(time.perf_counter() - started)
        count = sum(len(h) for h in read.values())
        total = sum(m.value for h in read.values() for m in h)
    return {"seconds": rounds[1:], "points": count, "sum": total, "runs": len(ids)}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "log":
        print(json.dumps(log(args[0], int(args[1]), int(args[2]), int(args[3]))))
    elif command == "histories":
        print(json.dumps(histories(args[0], int(args[1]), int(args[2]), int(args[3]))))
    else:
        raise SystemExit(f"unknown command {command!r}")
