"""Logging metrics from steps (``log_metric``, ``log_metrics``) and reading them back, on SQLite
and PostgreSQL: values, step indexes, NaN and infinities and the order kept; threads, retries,
cached steps, the errors, a store that refuses a batch, and memory bounded by the batch size."""

from __future__ import annotations

import math
import threading
import time
import tracemalloc
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from zenml_widgets import log_metric, log_metrics, pipeline, step
from zenml_widgets.exceptions import MetricLoggingError, NotFoundError, StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.runner import metrics as metrics_module
from zenml_widgets.store.engine import get_engine

VALUES = [0.5, math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324, 3, np.float32(0.25)]


@step(enable_cache=False)
def curves(epochs: int = 4) -> float:
    for epoch in range(epochs):
        log_metrics({"loss": 1.0 / (epoch + 1), "accuracy": epoch / 10})
    for value in VALUES:
        log_metric("odd", value)
    log_metric("jumps", 1.0, step=10)
    log_metric("jumps", 2.0, step=3)  # out of order: kept as logged
    log_metric("jumps", 3.0)  # the counter goes on from the last step given
    log_metric("jumps", 4.0, step=3)
    return 1.0


@pipeline(enable_cache=False)
def curve_pipeline(curves):
    curves()


def test_points_round_trip_in_order(repo: Repository) -> None:
    run = curve_pipeline(curves=curves(epochs=4)).run(run_name="r1", repository=repo)
    step_view = run.get_step("curves")
    assert step_view.metric_names == ["accuracy", "jumps", "loss", "odd"]
    loss = step_view.metric_history("loss")
    assert loss.name == "loss" and loss.dtype == "float64" and loss.index.name == "step"
    assert loss.index.tolist() == [0, 1, 2, 3]
    assert loss.tolist() == [1.0, 0.5, 1 / 3, 0.25]
    odd = step_view.metric_history("odd").tolist()
    assert math.isnan(odd[1]) and odd[2] == math.inf and odd[3] == -math.inf
    assert [v for i, v in enumerate(odd) if i != 1] == [
        0.5, math.inf, -math.inf, -0.0, 1e308, 5e-324, 3.0, 0.25,
    ]  # fmt: skip
    jumps = step_view.metric_history("jumps")
    assert jumps.index.tolist() == [10, 3, 4, 3] and jumps.tolist() == [1.0, 2.0, 3.0, 4.0]
    frame = step_view.metrics_dataframe()
    assert list(frame.columns) == ["name", "step", "value", "time"]
    assert len(frame) == 4 + 4 + 4 + len(VALUES)
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert frame["time"].min() >= pd.Timestamp(run.start_time)
    assert frame[frame.name == "jumps"]["step"].tolist() == [10, 3, 4, 3]


def test_unknown_metric_lists_the_logged_ones(sqlite_repo: Repository) -> None:
    run = curve_pipeline(curves=curves(epochs=1)).run(repository=sqlite_repo)
    with pytest.raises(NotFoundError, match=r"logged no metric 'los'.*'loss'.*Did you mean"):
        run.get_step("curves").metric_history("los")


def test_last_values_are_runs_table_columns(repo: Repository) -> None:
    for epochs in (2, 4, 8):
        curve_pipeline(curves=curves(epochs=epochs)).run(run_name=f"e{epochs}", repository=repo)
    runs = repo.get_pipeline("curve_pipeline").runs
    frame = runs.to_dataframe()
    assert frame["curves.metrics.loss"].tolist() == [1 / 8, 1 / 4, 1 / 2]
    assert frame["curves.metrics.loss"].dtype == "float64"
    assert frame["curves.metrics.odd"].tolist() == [0.25] * 3
    best = runs.to_dataframe(where="curves.metrics.loss < 0.3", sort="curves.metrics.accuracy")
    assert best["name"].tolist() == ["e8", "e4"]
    low = runs.to_dataframe(sort="curves.metrics.loss", ascending=True, limit=1)
    assert low["name"].tolist() == ["e8"]
    # the whole filter language, tags and several sort keys take them as any other column
    repo.get_pipeline("curve_pipeline").get_run("e2").set_tag("stage", "prod")
    either = runs.to_dataframe(
        where="curves.metrics.loss in (0.125, 0.25) or (tags.stage == 'prod' and not "
        "curves.metrics.accuracy > 0.5)",
        sort=["curves.metrics.odd", "curves.metrics.loss"], ascending=[True, False],
        columns=["run_id", "curves.metrics.loss", "tags.stage"],
    )  # fmt: skip
    assert either["name"].tolist() == ["e2", "e4", "e8"]
    assert either["tags.stage"].tolist()[0] == "prod"


def test_runs_logged_before_have_no_value(sqlite_repo: Repository) -> None:
    @step(enable_cache=False)
    def quiet() -> float:
        return 1.0

    @pipeline(name="curve_pipeline", enable_cache=False)
    def old(curves):
        curves()

    old(curves=quiet()).run(run_name="before", repository=sqlite_repo)
    curve_pipeline(curves=curves(epochs=2)).run(run_name="after", repository=sqlite_repo)
    runs = sqlite_repo.get_pipeline("curve_pipeline").runs
    frame = runs.to_dataframe(sort="curves.metrics.loss")
    assert frame["name"].tolist() == ["after", "before"]  # runs without it come last
    assert math.isnan(frame["curves.metrics.loss"].tolist()[1])
    assert runs.to_dataframe(where="curves.metrics.loss > 0")["name"].tolist() == ["after"]
    assert runs.table().curves("curves.metrics.loss").curves.keys() == {"after"}


@step(enable_cache=True)
def cached_curves(epochs: int = 3) -> float:
    for epoch in range(epochs):
        log_metric("loss", 10.0 - epoch)
    return float(epochs)


@pipeline
def cached_pipeline(cached_curves):
    cached_curves()


def test_a_cached_step_shows_the_metrics_of_the_run_that_produced_it(repo: Repository) -> None:
    first = cached_pipeline(cached_curves=cached_curves()).run(run_name="a", repository=repo)
    again = cached_pipeline(cached_curves=cached_curves()).run(run_name="b", repository=repo)
    step_view = again.get_step("cached_curves")
    assert step_view.is_cached
    assert step_view.metric_names == ["loss"]
    assert step_view.metric_history("loss").tolist() == [10.0, 9.0, 8.0]
    assert (
        step_view.metric_history("loss").tolist()
        == first.get_step("cached_curves").metric_history("loss").tolist()
    )
    frame = repo.get_pipeline("cached_pipeline").runs.to_dataframe()
    assert frame["cached_curves.metrics.loss"].tolist() == [8.0, 8.0]
    overlay = repo.get_pipeline("cached_pipeline").runs.table().curves("cached_curves.metrics.loss")
    assert {n: p.values for n, p in overlay.curves.items()} == {
        "b": [10.0, 9.0, 8.0],
        "a": [10.0, 9.0, 8.0],
    }


@step(enable_cache=False, retries=1, retry_delay=0.01)
def flaky() -> float:
    from zenml_widgets.runner.context import current

    context = current()
    assert context is not None
    log_metric("loss", float(context.attempt))
    if context.attempt == 1:
        log_metric("only_first", 1.0)
        raise RuntimeError("first attempt fails")
    return 1.0


@pipeline(enable_cache=False)
def flaky_pipeline(flaky):
    flaky()


def test_a_retried_step_shows_its_last_attempt(sqlite_repo: Repository) -> None:
    run = flaky_pipeline(flaky=flaky()).run(repository=sqlite_repo)
    step_view = run.get_step("flaky")
    assert [a.number for a in step_view.attempts] == [1, 2]
    assert step_view.metric_names == ["loss"]
    assert step_view.metric_history("loss").tolist() == [2.0]
    frame = sqlite_repo.get_pipeline("flaky_pipeline").runs.to_dataframe()
    assert "flaky.metrics.only_first" not in frame or frame["flaky.metrics.only_first"].isna().all()
    assert frame["flaky.metrics.loss"].tolist() == [2.0]


def test_logging_outside_a_step_says_so() -> None:
    with pytest.raises(MetricLoggingError, match="only inside a running step"):
        log_metric("loss", 1.0)
    with pytest.raises(MetricLoggingError, match="only inside a running step"):
        log_metrics({"loss": 1.0})


BAD: list[tuple[Any, Any, type[Exception], str]] = [
    ("", 1.0, ValueError, "must not be empty"),
    ("   ", 1.0, ValueError, "must not be empty"),
    ("x" * 251, 1.0, ValueError, "251 characters long; at most 250"),
    ("bad\nname", 1.0, ValueError, "control characters"),
    (7, 1.0, TypeError, "A metric name is a string"),
    ("loss", "0.3", TypeError, "takes a number"),
    ("loss", None, TypeError, "takes a number"),
    ("loss", [1.0], TypeError, "takes a number"),
    ("loss", True, TypeError, "takes a number"),
    ("loss", np.array([1.0, 2.0]), TypeError, "single number"),
]


@step(enable_cache=False)
def bad_inputs() -> float:
    seen = []
    for name, value, kind, message in BAD:
        try:
            log_metric(name, value)
        except kind as e:
            assert message in str(e), (message, str(e))
            seen.append(message)
    try:
        log_metric("loss", 1.0, step=1.5)  # type: ignore[arg-type]
    except TypeError as e:
        seen.append(str(e))
    try:
        log_metrics([("loss", 1.0)])  # type: ignore[arg-type]
    except TypeError as e:
        seen.append(str(e))
    try:  # all checked before any is logged
        log_metrics({"fine": 1.0, "": 2.0})
    except ValueError:
        seen.append("mixed")
    log_metric("x" * 250, 1.0)  # the longest name is fine
    return float(len(seen))


@pipeline(enable_cache=False)
def bad_pipeline(bad_inputs):
    bad_inputs()


def test_bad_names_and_values_are_clear_errors(sqlite_repo: Repository) -> None:
    run = bad_pipeline(bad_inputs=bad_inputs()).run(repository=sqlite_repo)
    step_view = run.get_step("bad_inputs")
    assert step_view.output.read() == len(BAD) + 3
    assert step_view.metric_names == ["x" * 250]  # nothing of "fine": the batch was refused whole


LATE: list[BaseException] = []


@step(enable_cache=False)
def leaves_a_thread() -> float:
    go = threading.Event()

    def later() -> None:
        go.wait()
        try:
            log_metric("late", 1.0)
        except MetricLoggingError as e:
            LATE.append(e)

    def inside() -> None:
        log_metric("from_thread", 2.0)

    worker = threading.Thread(target=inside)
    worker.start()
    worker.join()
    threading.Thread(target=later, daemon=True).start()
    _GO.append(go)
    return 1.0


_GO: list[threading.Event] = []


@pipeline(enable_cache=False)
def thread_pipeline(leaves_a_thread):
    leaves_a_thread()


def test_threads_log_while_the_step_runs_and_not_after(sqlite_repo: Repository) -> None:
    LATE.clear()
    run = thread_pipeline(leaves_a_thread=leaves_a_thread()).run(repository=sqlite_repo)
    _GO.pop().set()
    deadline = time.monotonic() + 10
    while not LATE and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.get_step("leaves_a_thread").metric_history("from_thread").tolist() == [2.0]
    assert LATE and "has ended" in str(LATE[0]) and "leaves_a_thread" in str(LATE[0])
    assert run.get_step("leaves_a_thread").metric_names == ["from_thread"]


@step(enable_cache=False)
def slow_logger(seconds: float = 5.0) -> float:
    for i in range(int(seconds / 0.1)):
        log_metric("loss", float(i))
        time.sleep(0.1)
    return 1.0


@pipeline(enable_cache=False)
def slow_pipeline(slow_logger):
    slow_logger()


def test_a_running_step_writes_its_points_every_two_seconds(repo: Repository) -> None:
    """A reader sees the curve grow while the step runs: the explorer, refreshed, redraws it."""
    from zenml_widgets.widgets import HistoryExplorer

    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (
            slow_pipeline(slow_logger=slow_logger(seconds=6)).run(run_name="s", repository=repo),
            done.set(),
        )
    )
    thread.start()
    seen: list[int] = []
    explorer: HistoryExplorer | None = None
    while not done.is_set():
        try:
            if explorer is None:
                explorer = HistoryExplorer(Repository(repo.root))
                explorer.select("slow_pipeline", "s", "slow_logger")
            else:
                explorer.refresh()
            curves = explorer.curves.curves
            seen.append(curves.series[0].points if curves and curves.series else 0)
        except KeyError:  # the run or its step is not recorded yet
            explorer = None
        time.sleep(0.3)
    thread.join()
    growing = sorted(set(seen))
    assert len([n for n in growing if 0 < n < 60]) >= 2, seen  # at least 2 batches mid-run
    assert explorer is not None and "<svg" in explorer.curves.chart.value
    explorer.refresh()  # the step has finished: its last points are read once more
    assert explorer.curves.curves is not None and explorer.curves.curves.series[0].points == 60
    final = Repository(repo.root).get_pipeline("slow_pipeline").get_run("s")
    assert len(final.get_step("slow_logger").metric_history("loss")) == 60
    # its batches grew one packed chunk: a whole history is read as one blob, not 60 rows
    with get_engine(repo.active_stack.metadata_url).connect() as conn:
        assert conn.execute(text("SELECT points FROM metric_chunks")).scalars().all() == [60]


@step(enable_cache=False)
def refused() -> float:
    for i in range(50):
        log_metric("loss", float(i))
    return 1.0


@pipeline(enable_cache=False)
def refused_pipeline(refused):
    refused()


def test_a_store_that_refuses_a_batch_fails_the_step(sqlite_repo: Repository) -> None:
    store = sqlite_repo.active_stack.metadata_store
    with store.transaction():
        store._read().execute(
            "arming a trigger",
            __import__("zenml_widgets.store.sql", fromlist=["Sql"]).Sql(
                "CREATE TRIGGER refuse_points BEFORE INSERT ON metric_points "
                "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
            ),
        )
    with pytest.raises(StepFailedError) as failed:
        refused_pipeline(refused=refused()).run(run_name="x", repository=sqlite_repo)
    message = str(failed.value)
    assert "refused a batch of 50 metric points of step 'refused'" in message
    assert "the disk is full" in message
    run = sqlite_repo.get_pipeline("refused_pipeline").get_run("x")
    assert run.status == "failed" and run.get_step("refused").status == "failed"


@step(enable_cache=False)
def tight_loop(points: int = 200_000) -> float:
    for i in range(points):
        log_metric("loss", i * 0.5)
    return float(points)


@pipeline(enable_cache=False)
def tight_pipeline(tight_loop):
    tight_loop()


def test_memory_is_bounded_by_the_batch_not_the_points(
    sqlite_repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_module, "BATCH_POINTS", 2_000)
    monkeypatch.setattr(metrics_module.MetricBuffer.__init__, "__defaults__", (2_000, 2.0))
    peaks = []
    for points in (20_000, 200_000):
        tracemalloc.start()
        tight_pipeline(tight_loop=tight_loop(points=points)).run(repository=sqlite_repo)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # 10x the points, about the same peak: what is held is one batch, not the points
    assert peaks[1] < peaks[0] * 1.5 + 2_000_000, peaks
    runs = sqlite_repo.get_pipeline("tight_pipeline").runs
    history = runs[-1].get_step("tight_loop").metric_history("loss")
    assert len(history) == 200_000 and history.iloc[-1] == 199_999 * 0.5
    assert history.index.is_monotonic_increasing
