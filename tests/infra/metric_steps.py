"""Steps that log metrics, importable by the workers of an external Dask cluster
(``infra.metric_steps``; the workers' ``PYTHONPATH`` is the tests folder)."""

from __future__ import annotations

import math
import os
import threading

from zenml_widgets import log_metric, log_metrics, pipeline, step


@step(enable_cache=False)
def worker_curves(epochs: int = 5, factor: float = 1.0) -> int:
    """Logs a loss per epoch (and the worker's PID), NaN and -inf, and one point from a thread
    it starts; returns the worker's PID."""
    for epoch in range(epochs):
        log_metrics({"loss": factor / (epoch + 1), "epoch_pid": float(os.getpid())})
    log_metric("odd", math.nan)
    log_metric("odd", -math.inf)
    thread = threading.Thread(target=lambda: log_metric("from_thread", 7.0))
    thread.start()
    thread.join()
    return os.getpid()


@pipeline(enable_cache=False)
def two_trainers(a, b):
    a()
    b()
