"""The explorer's learning curves, without a browser: the step's curves below its preview (with a
log-scale switch that reads nothing), and the runs table's overlay of one metric for the runs in
view or the marked ones; names escaped; what each costs in queries."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import zw_testing as t
from infra.metric_steps import two_trainers, worker_curves

from zenml_widgets import HistoryExplorer, log_metric, pipeline, step
from zenml_widgets.repository import Repository


@step(enable_cache=False)
def html_names(epochs: int = 4) -> float:
    for epoch in range(epochs):
        log_metric("<b>loss</b> & 'x'", 10.0 ** (-epoch))
        log_metric("negative", 1.0 - epoch)
    return 1.0


@pipeline(enable_cache=False)
def escaping(html_names):
    html_names()


@pytest.fixture
def curves_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repository:
    root = tmp_path / "repo"
    repo = Repository.init(root)
    monkeypatch.chdir(root)
    for i in range(4):
        two_trainers(a=worker_curves(epochs=3 + i), b=worker_curves(epochs=2)).run(
            run_name=f"<run {i}>", repository=repo
        )
    escaping(html_names=html_names()).run(run_name="esc", repository=repo)
    return repo


def test_a_step_shows_its_curves_and_the_switch_reads_nothing(
    curves_history: Repository, count_queries: t.Any
) -> None:
    explorer = HistoryExplorer().select("escaping", "esc", "html_names")
    panel = explorer.curves
    assert panel.box.layout.display == ""
    html = panel.chart.value
    assert html.count("<svg") == 2
    assert "&lt;b&gt;loss&lt;/b&gt; &amp; &#x27;x&#x27;" in html and "<b>loss" not in html
    statements = count_queries(explorer.repository)
    panel.log_scale.value = True
    assert statements == []
    log_html = panel.chart.value
    assert "(log scale)" in log_html and "3 points not above zero or not finite" in log_html
    explorer.output_name = "output"  # an output is shown: no curves
    assert panel.box.layout.display == "none"
    explorer.select("escaping", "esc", "html_names")
    explorer.step_name = None
    assert panel.box.layout.display == "none"


def test_a_step_without_metrics_shows_no_curves(curves_history: Repository) -> None:
    t.make_training(epochs=1).run(run_name="plain", repository=curves_history)
    explorer = HistoryExplorer().select("training_pipeline", "plain", "trainer")
    assert explorer.curves.box.layout.display == "none"


def test_the_overlay_draws_the_runs_in_view_or_the_marked_ones(
    curves_history: Repository, count_queries: t.Any
) -> None:
    explorer = HistoryExplorer().select("two_trainers")
    table = explorer.runs_table
    table.toggle.value = True
    overlay = table.overlay
    assert overlay.box.layout.display == ""
    assert list(overlay.metric.options) == [
        "a.metrics.epoch_pid", "a.metrics.from_thread", "a.metrics.loss", "a.metrics.odd",
        "b.metrics.epoch_pid", "b.metrics.from_thread", "b.metrics.loss", "b.metrics.odd",
    ]  # fmt: skip
    overlay.metric.value = "a.metrics.loss"
    statements = count_queries(explorer.repository)
    table.grid.visible = ["<run 3>", "<run 2>", "<run 1>"]  # what the page reports
    assert len(statements) == 1  # one query for the three curves
    html = overlay.chart.value
    assert re.findall(r"&lt;run \d&gt;", html)[:3] == [
        "&lt;run 3&gt;",
        "&lt;run 2&gt;",
        "&lt;run 1&gt;",
    ]  # the legend, in that order
    assert "<run" not in html
    assert len(overlay.curves.curves["<run 3>"].steps) == 6  # type: ignore[union-attr]
    overlay.runs.value = "marked runs"
    assert "Mark runs with Ctrl/Cmd/Shift-click" in overlay.chart.value
    table.grid.marked = ["<run 0>"]
    assert list(overlay.curves.curves) == ["<run 0>"]  # type: ignore[union-attr]
    table.grid.marked = [f"<run {i % 4}>" for i in range(30)]  # at most 20 are drawn
    assert len(overlay.names()) == 20
    statements.clear()
    overlay.log_scale.value = True
    assert statements == []


def test_no_logged_metrics_no_overlay(curves_history: Repository) -> None:
    t.make_training(epochs=1).run(run_name="plain", repository=curves_history)
    explorer = HistoryExplorer().select("training_pipeline")
    explorer.runs_table.toggle.value = True
    assert explorer.runs_table.overlay.box.layout.display == "none"


def test_table_curves_in_a_cell(curves_history: Repository) -> None:
    runs = curves_history.get_pipeline("two_trainers").runs
    overlay = runs.table().curves("a.metrics.loss")
    assert list(overlay.curves) == ["<run 3>", "<run 2>", "<run 1>", "<run 0>"]
    bundle = overlay._repr_mimebundle_()
    assert "zw-log-" in bundle["text/html"] and "&lt;run 3&gt;" in bundle["text/html"]
    assert "<run 3>: 6 points, last 0.166667" in bundle["text/plain"]
    chosen = runs.table().curves("a.metrics.loss", runs=["<run 0>", "<run 2>"])
    assert list(chosen.curves) == ["<run 0>", "<run 2>"]
    with pytest.raises(KeyError, match=r"is not a logged metric.*'a.metrics.loss'"):
        runs.table().curves("a.metric.loss")
    with pytest.raises(KeyError, match="No run 'nope'"):
        runs.table().curves("a.metrics.loss", runs=["nope"])
    with pytest.raises(ValueError, match="at most 20 runs"):
        runs.table().curves("a.metrics.loss", runs=["<run 0>"] * 21)
    histories = runs.table(limit=2).metric_histories("b.metrics.loss")
    assert list(histories) == ["<run 3>", "<run 2>"]
    assert histories["<run 3>"].tolist() == [1.0, 0.5]
    assert histories["<run 3>"].index.tolist() == [0, 1] and histories["<run 3>"].name == (
        "b.metrics.loss"
    )
    odd = runs.table().metric_histories("a.metrics.odd")  # NaN and -inf kept, runs in order
    assert list(odd) == ["<run 3>", "<run 2>", "<run 1>", "<run 0>"]
    assert all(math.isnan(s.iloc[0]) and s.iloc[1] == -math.inf for s in odd.values())
    assert runs.table(where="status == 'failed'").metric_histories("a.metrics.odd") == {}
