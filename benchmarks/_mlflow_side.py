"""The MLflow side of ``bench_mlflow.py``, and the data both sides record.

Imported by ``bench_mlflow.py`` for :func:`run_values` only (the project does not depend on
MLflow); run as a script by MLflow's own venv's Python:

* ``python _mlflow_side.py build DB ARTIFACTS RUNS``: log runs ``0 .. RUNS - 1`` into experiment
  ``bench`` of the tracking store ``sqlite:///DB`` through MLflow's own API (``create_run``,
  one ``log_batch`` of the 10 parameters, 10 metrics and the tags, ``set_terminated``),
  resuming after the last finished run (a run left unfinished by an interruption is deleted
  and logged again).
* ``python _mlflow_side.py serve DB``: answer timing requests, one JSON line each on stdin, one
  JSON line each on stdout: ``{"op": "top" | "top_metric" | "top_tag" | "all"}`` ->
  ``{"seconds": ..., "names": [...], "shape": [rows, columns]}``, ``seconds`` measured around
  ``mlflow.search_runs`` inside this process (the import and the store's first opening are done
  before the first request).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

EXPERIMENT = "bench"
#: The filters and the sort of the top-50 queries, as MLflow writes them and as we do.
MLFLOW_QUERIES = {
    "top": ("params.optimizer = 'adam'", ["metrics.m3 DESC"], 50),
    "top_metric": ("params.optimizer = 'adam' and metrics.m0 > 0.5", ["metrics.m3 DESC"], 50),
    "top_tag": ("tags.stage = 'prod' and params.optimizer = 'adam'", ["metrics.m3 DESC"], 50),
    "all": ("", None, 100_000),
}
OURS_QUERIES = {
    "top": ("trainer.optimizer == 'adam'", "evaluator.output.m3", 50),
    "top_metric": (
        "trainer.optimizer == 'adam' and evaluator.output.m0 > 0.5",
        "evaluator.output.m3",
        50,
    ),
    "top_tag": ("tags.stage == 'prod' and trainer.optimizer == 'adam'", "evaluator.output.m3", 50),
}
#: Ours only: MLflow's filter has no ``or`` and no ``in`` for tags (two searches, merged by hand).
OURS_ONLY = {
    "top_or": (
        "tags.stage in ('prod', 'staging') or tags.baseline is not null",
        "evaluator.output.m3",
        50,
    ),
}


def run_name(r: int) -> str:
    """The name of run ``r`` on both sides: the key that matches MLflow's runs with ours."""
    return f"run-{r:06d}"


def run_values(r: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Run ``r``'s 10 parameters and 10 metrics (metric values are distinct for r < 100,003,
    so a top 50 has no ties and both sides must return the same runs in the same order)."""
    params: dict[str, Any] = {f"p{k}": (r * (k + 3)) % 10 for k in range(5)}
    params |= {f"lr{k}": round(0.001 * ((r + k) % 7 + 1), 4) for k in range(4)}
    params["optimizer"] = ("adam", "sgd", "rmsprop")[r % 3]
    metrics = {f"m{k}": ((r * 7919 + k * 104729) % 100_003) / 100_003 for k in range(10)}
    return params, metrics


def run_tags(r: int) -> dict[str, str]:
    """Run ``r``'s tags: ``stage`` on three runs of four, a ``baseline`` mark on every 50th."""
    tags = {"stage": ("prod", "staging", "dev")[r % 4]} if r % 4 != 3 else {}
    return tags | ({"baseline": ""} if r % 50 == 0 else {})


def _uri(db: str) -> str:
    return f"sqlite:///{db}"


def build(db: str, artifacts: str, runs: int) -> None:
    import sqlite3
    from pathlib import Path

    from mlflow.entities import Metric, Param, RunStatus, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=_uri(db))
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        experiment_id = client.create_experiment(
            EXPERIMENT, artifact_location=Path(artifacts).resolve().as_uri()
        )
    else:
        experiment_id = experiment.experiment_id
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT run_uuid, name, status FROM runs WHERE experiment_id = ?", (experiment_id,)
        ).fetchall()
    store = client._tracking_client.store
    done = set()
    for run_id, name, status in found:
        if status == "FINISHED":
            done.add(name)
        else:
            store._hard_delete_run(run_id)
    todo = [r for r in range(runs) if run_name(r) not in done]
    start = time.time()
    base_ms = 1_700_000_000_000
    for i, r in enumerate(todo):
        params, metrics = run_values(r)
        run = client.create_run(experiment_id, start_time=base_ms + r * 1000, run_name=run_name(r))
        run_id = run.info.run_id
        stamp = base_ms + r * 1000 + 500
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in run_tags(r).items()],
        )
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED), stamp + 400)
        if (i + 1) % 500 == 0 or i + 1 == len(todo):
            rate = (i + 1) / (time.time() - start)
            print(f"  mlflow: {len(done) + i + 1}/{runs} runs ({rate:.0f} runs/s)", flush=True)


def serve(db: str) -> None:
    import mlflow

    mlflow.set_tracking_uri(_uri(db))
    experiment_id = mlflow.get_experiment_by_name(EXPERIMENT).experiment_id
    mlflow.search_runs(experiment_ids=[experiment_id], max_results=1)  # opens the store
    print(json.dumps({"ready": mlflow.__version__}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        filter_string, order_by, max_results = MLFLOW_QUERIES[request["op"]]
        started = time.perf_counter()
        df = mlflow.search_runs(
            experiment_ids=[experiment_id],
            filter_string=filter_string,
            order_by=order_by,
            max_results=max_results,
        )
        seconds = time.perf_counter() - started
        names = list(df["tags.mlflow.runName"][:50]) if len(df) else []
        answer = {"seconds": seconds, "names": names, "shape": list(df.shape)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "build":
        build(args[0], args[1], int(args[2]))
    elif command == "serve":
        serve(args[0])
    else:
        raise SystemExit(f"unknown command {command!r}")
