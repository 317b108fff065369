"""Logging metrics from inside a running step: ``log_metric("loss", 0.3)``.

Each step attempt buffers the points it logs (a :class:`MetricBuffer`, the attempt's
``"metrics"`` part, see :mod:`~zenml_widgets.runner.context`) and writes them to the metadata
store in batches: when a batch is full (so memory stays bounded by the batch size, however many
points a step logs), at least every :data:`FLUSH_INTERVAL` seconds while the step runs (a daemon
thread, so the live explorer sees a curve grow), and when the attempt ends. On a Dask worker the
worker writes them to the store itself. A batch the store refuses fails the step with
:class:`~zenml_widgets.exceptions.MetricLoggingError`: no point is dropped silently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import MetricLoggingError
from zenml_widgets.runner.context import current
from zenml_widgets.store.values import METRIC_NAME_LENGTH

if TYPE_CHECKING:
    from zenml_widgets.runner.context import StepContext
    from zenml_widgets.store.metrics import Point

__all__ = ["MetricBuffer", "log_metric", "log_metrics"]

#: Points written per batch: the most a step's buffer holds before it writes them.
BATCH_POINTS = 10_000
#: Seconds between writes of a running step's points (at most).
FLUSH_INTERVAL = 2.0
_INT64 = 2**63


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Log one point of metric ``name`` from inside a running step.

    Args:
        name: the metric's name (1 to 250 characters, no control characters).
        value: a number (int, float, a NumPy or TensorFlow scalar); NaN and infinities are kept.
        step: the point's step index; default: one more than the last step logged for ``name``
            (0 for its first point).

    Raises:
        MetricLoggingError: outside a running step, after it ended, or when the store refused
            an earlier batch of this step's points.
        ValueError, TypeError: a name or value that cannot be a metric.
    """
    if type(name) is not str:
        check_metric_name(name)  # a clear error before it is used as a key
    _buffer("log_metric").add({name: value}, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Log one point of each metric in ``metrics`` (``{"loss": 0.3, "accuracy": 0.9}``) from
    inside a running step; as :func:`log_metric`, all checked before any is logged."""
    if not isinstance(metrics, Mapping):
        raise TypeError(
            f"log_metrics takes a mapping of names to numbers, such as {{'loss': 0.3}}, not "
            f"{type(metrics).__name__}."
        )
    _buffer("log_metrics").add(metrics, step)


def _buffer(what: str) -> MetricBuffer:
    context = current()
    if context is None:
        raise MetricLoggingError(
            f"{what} works only inside a running step (a function decorated with @step, "
            "while a pipeline runs it, or a thread it started); no step is running here."
        )
    buffer: MetricBuffer = context.part("metrics", lambda: MetricBuffer(context))
    return buffer


def check_metric_name(name: Any) -> str:
    """A metric name as it is stored; a clear error for one that cannot be."""
    if not isinstance(name, str):
        raise TypeError(f"A metric name is a string, not {type(name).__name__} ({name!r}).")
    if not name.strip():
        raise ValueError(f"A metric name must not be empty, got {name!r}.")
    if len(name) > METRIC_NAME_LENGTH:
        raise ValueError(
            f"The metric name {name[:40]!r}... is {len(name)} characters long; at most "
            f"{METRIC_NAME_LENGTH}."
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"The metric name {name!r} contains control characters.")
    return name


def metric_value(name: str, value: Any) -> float:
    """``value`` as the float stored; a ``TypeError`` naming the metric for a non-number."""
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if isinstance(value, str | bytes | bool) or value is None or not hasattr(value, "__float__"):
        raise TypeError(
            f"Metric {name!r} takes a number (int, float, or a NumPy or TensorFlow scalar), "
            f"not {type(value).__name__} ({value!r:.60})."
        )
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeError(f"Metric {name!r} takes a single number; {value!r:.60} is not: {e}") from e


def _step_index(step: Any) -> int | None:
    if step is None:
        return None
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError(f"A metric's step is a whole number, not {type(step).__name__} ({step!r}).")
    index = int(step.__index__())
    if not -_INT64 <= index < _INT64:
        raise ValueError(f"A metric's step must fit in 64 bits, got {index}.")
    return index


class MetricBuffer:
    """The points one step attempt logs, written to the store in batches (see the module).

    Args:
        context: the attempt.
        batch_points: points per batch (the most held in memory before a write).
        interval: seconds between writes while points wait.
    """

    def __init__(
        self,
        context: StepContext,
        *,
        batch_points: int = BATCH_POINTS,
        interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.context = context
        self.batch_points = batch_points
        self.interval = interval
        self._lock = threading.Lock()  # the pending points, counters and state
        self._writing = threading.Lock()  # one batch at a time, in logged order
        self._pending: list[Point] = []
        self._seq: dict[str, int] = {}
        self._next_step: dict[str, int] = {}
        self._series: dict[str, int] = {}
        self._fresh = True
        self._closed = False
        self._error: MetricLoggingError | None = None
        self._stop = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_regularly, name=f"zenml-metrics-{context.step_name}", daemon=True
        )
        self._flusher.start()
        #: Points written so far (every batch that committed).
        self.written = 0

    def add(self, metrics: Mapping[str, Any], step: Any = None) -> None:
        """Buffer one point of each metric; write a batch when it is full."""
        values = {check_metric_name(n) if n not in self._seq else n: v for n, v in metrics.items()}
        values = {n: metric_value(n, v) for n, v in values.items()}
        index = _step_index(step)
        now = time.time()
        with self._lock:
            self._check_open()
            for name, value in values.items():
                seq = self._seq.get(name, 0)
                at = self._next_step.get(name, 0) if index is None else index
                self._seq[name] = seq + 1
                self._next_step[name] = at + 1
                self._pending.append((name, seq, at, value, now))
            full = len(self._pending) >= self.batch_points
        if full:
            self.flush()

    def _check_open(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            context = self.context
            raise MetricLoggingError(
                f"Step {context.step_name!r} of run {context.run_name!r} has ended (attempt "
                f"{context.attempt}): metrics can no longer be logged for it. Log them while "
                "the step runs (join the threads that log before the step returns)."
            )

    def flush(self) -> None:
        """Write the points waiting now (the caller waits for the batch before it)."""
        with self._writing:
            with self._lock:
                batch, self._pending = self._pending, []
                fresh = self._fresh and bool(batch)
                self._fresh = self._fresh and not batch
                if self._error is not None:
                    raise self._error
            if batch:
                self._write(batch, fresh)

    def _write(self, batch: list[Point], fresh: bool) -> None:
        context = self.context
        try:
            context.stack.metadata_store.record_metrics(
                run_id=context.run_id, step_id=context.step_id, step_name=context.step_name,
                attempt=context.attempt, points=batch, series=self._series, fresh=fresh,
            )  # fmt: skip
        except Exception as e:
            error = MetricLoggingError(
                f"The metadata store refused a batch of {len(batch)} metric points of step "
                f"{context.step_name!r} (run {context.run_name!r}, attempt {context.attempt}), "
                f"so the step fails rather than lose them: {e}"
            )
            error.__cause__ = e
            with self._lock:
                self._error = self._error or error
            raise error from e
        self.written += len(batch)

    def _flush_regularly(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except MetricLoggingError:
                return  # kept: the next log_metric, and the end of the step, raise it

    def close(self) -> None:
        """The attempt ends: no more points; the last ones are written (or the error that
        refused a batch is raised)."""
        with self._lock:
            self._closed = True
        self._stop.set()
        if self._flusher is not threading.current_thread():
            self._flusher.join()
        self.flush()
