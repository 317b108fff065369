"""Round trips per action against a real PostgreSQL server, counted by a latency proxy.

The people browsing team history sit 10-50 ms away from the database: every round trip an
action takes is time they wait. Each test asserts an action's budget; history is written
directly (not through the proxy), then read through it by a fresh process-wide store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import zw_testing as t
from infra.latency_proxy import LatencyProxy

from zenml_widgets.exceptions import StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

pytestmark = [pytest.mark.postgres]

RUNS = 12


@pytest.fixture
def remote(
    tmp_path: Path, latency_proxy: tuple[str, LatencyProxy]
) -> Iterator[tuple[Repository, LatencyProxy]]:
    """A repository whose team stack is reached through the proxy, holding ``RUNS`` runs of
    the 3-step training pipeline (some cached) and a failed run, with the store not yet open."""
    url, proxy = latency_proxy
    repo = t.make_repo(tmp_path / "repo", url)
    for i in range(RUNS):
        t.make_training(epochs=1 + i % 3, seed=i % 4).run(run_name=f"run-{i:02d}", repository=repo)
    with pytest.raises(StepFailedError):
        t.failing_pipeline(importer=t.importer(), exploding=t.exploding()).run(
            run_name="broken", repository=repo
        )
    forget_metadata_stores()
    proxy.wait_idle()
    yield Repository(repo.root), proxy
    forget_metadata_stores()


def trips(proxy: LatencyProxy, action: Callable[[], Any]) -> int:
    """The round trips ``action`` takes."""
    with proxy.counting() as counted:
        action()
    return counted.round_trips


def test_opening_the_explorer(remote: tuple[Repository, LatencyProxy]) -> None:
    from zenml_widgets.widgets import HistoryExplorer

    repo, proxy = remote
    assert trips(proxy, lambda: HistoryExplorer(repo)) <= 4  # connecting included


def test_each_click_of_the_cascade(remote: tuple[Repository, LatencyProxy]) -> None:
    from zenml_widgets.widgets import HistoryExplorer

    repo, proxy = remote
    explorer = HistoryExplorer(repo)
    ui = explorer.ui
    assert trips(proxy, lambda: setattr(ui.pipeline, "value", "training_pipeline")) <= 3
    assert trips(proxy, lambda: setattr(ui.run, "value", "run-05")) <= 3
    assert trips(proxy, lambda: setattr(ui.step, "value", "trainer")) <= 3
    assert trips(proxy, lambda: setattr(ui.output, "value", "output")) <= 3
    assert trips(proxy, lambda: setattr(ui.run, "value", "run-09")) <= 3
    assert trips(proxy, lambda: setattr(ui.step, "value", "importer")) <= 3
    assert trips(proxy, explorer.refresh) <= 3
    assert explorer.state.output is None and explorer.step_name == "importer"


def test_a_run_and_a_step_display(remote: tuple[Repository, LatencyProxy]) -> None:
    repo, proxy = remote
    pipeline = repo.get_pipeline("training_pipeline")
    run = pipeline.get_run("run-07")
    assert trips(proxy, lambda: run._repr_mimebundle_()) <= 2
    step = pipeline.get_run("run-08").get_step("trainer")
    assert trips(proxy, lambda: step._repr_mimebundle_()) <= 2


def test_the_latest_run_with_its_steps_and_outputs(remote: tuple[Repository, LatencyProxy]) -> None:
    repo, proxy = remote
    pipeline = repo.get_pipeline("training_pipeline")

    def latest() -> None:
        run = pipeline.runs[-1]
        assert run.name == f"run-{RUNS - 1:02d}"
        for step in run.steps:
            assert step.status in ("completed", "cached")
            assert step.outputs

    assert trips(proxy, latest) <= 2


def test_a_runs_grid_page(remote: tuple[Repository, LatencyProxy]) -> None:
    repo, proxy = remote
    runs = repo.get_pipeline("training_pipeline").runs

    def page() -> None:
        table = runs.table(
            where="trainer.epochs >= 2", sort="trainer.output", limit=5, offset=1, count=True
        )
        assert len(table) == 5 and table.total

    assert trips(proxy, page) <= 2

    repo.get_pipeline("training_pipeline").get_run("run-03").set_tag("stage", "prod")

    def with_everything() -> None:  # or, not, in, like, a tag, and two sort keys
        table = runs.table(
            where="(trainer.epochs in (1, 3) or tags.stage == 'prod') and not name like 'x%'",
            sort=["trainer.epochs", "trainer.output"], ascending=[True, False],
            limit=5, offset=1, count=True,
        )  # fmt: skip
        assert len(table) == 5 and table.total and "tags.stage" in table.columns

    assert trips(proxy, with_everything) <= 2


def test_tags_cost_a_run_click_nothing_and_a_tag_write_one_round_trip(
    remote: tuple[Repository, LatencyProxy],
) -> None:
    """The tags panel shows the tags read with the run's steps: a run click costs what it
    cost without the panel. Adding or removing a tag from the explorer is one statement."""
    from zenml_widgets.widgets import HistoryExplorer

    class WithoutTags(HistoryExplorer):
        def parts(self) -> list[Any]:
            return [p for p in super().parts() if p is not self.tags]

    repo, proxy = remote
    clicks: dict[str, list[int]] = {}
    for kind in (WithoutTags, HistoryExplorer):
        forget_metadata_stores()
        explorer = kind(Repository(repo.root))
        explorer.ui.pipeline.value = "training_pipeline"

        def click(run: str, ui: Any = explorer.ui) -> None:
            ui.run.value = run

        clicks[kind.__name__] = [
            trips(proxy, partial(click, r)) for r in ("run-05", "run-09", "run-05")
        ]
    assert clicks["HistoryExplorer"] == clicks["WithoutTags"], clicks  # [3, 3, 1] when written
    panel = explorer.tags
    assert panel.run is not None and panel.run.name == "run-05"
    assert trips(proxy, lambda: panel.add_tag("stage", "prod")) == 1
    assert trips(proxy, lambda: panel.remove_tag("stage")) == 1
    assert "stage" not in panel.run.tags


def test_a_step_click_with_its_learning_curves(
    tmp_path: Path, latency_proxy: tuple[str, LatencyProxy]
) -> None:
    """Choosing a step that logged metrics shows its curves within the step click's budget."""
    from infra.metric_steps import two_trainers, worker_curves

    from zenml_widgets.widgets import HistoryExplorer

    url, proxy = latency_proxy
    repo = t.make_repo(tmp_path / "curves", url)
    for i in range(3):
        two_trainers(a=worker_curves(epochs=50 + i), b=worker_curves(epochs=3)).run(
            run_name=f"c-{i}", repository=repo
        )
    forget_metadata_stores()
    proxy.wait_idle()
    explorer = HistoryExplorer(Repository(repo.root))
    ui = explorer.ui
    assert trips(proxy, lambda: setattr(ui.pipeline, "value", "two_trainers")) <= 3
    assert trips(proxy, lambda: setattr(ui.run, "value", "c-1")) <= 3
    assert trips(proxy, lambda: setattr(ui.step, "value", "a")) <= 3
    curves = explorer.curves.curves
    assert curves is not None and [s.name for s in curves.series][:2] == [
        "epoch_pid",
        "from_thread",
    ]
    assert len(curves.points["loss"].steps) == 51
    assert "<svg" in explorer.curves.chart.value and explorer.curves.box.layout.display == ""
    assert trips(proxy, lambda: setattr(explorer.curves.log_scale, "value", True)) == 0
    read = explorer.curves.curves
    assert trips(proxy, explorer.refresh) <= 3  # a finished step's curves are not read again
    assert explorer.curves.curves is read
    assert trips(proxy, lambda: setattr(ui.step, "value", "b")) <= 3
    assert trips(proxy, lambda: setattr(ui.output, "value", "output")) <= 3
    assert explorer.curves.box.layout.display == "none"  # an output is shown, not the step


def test_a_runs_grid_page_by_a_logged_metric_and_its_curves(
    tmp_path: Path, latency_proxy: tuple[str, LatencyProxy]
) -> None:
    """A page filtered and sorted on logged metrics' last values keeps the page's budget; the
    overlay of a metric's curves (a cell's, the explorer grid's) reads once."""
    from infra.metric_steps import two_trainers, worker_curves

    from zenml_widgets.widgets import HistoryExplorer

    url, proxy = latency_proxy
    repo = t.make_repo(tmp_path / "curves", url)
    for i in range(6):
        two_trainers(a=worker_curves(epochs=2 + i, factor=1 + i), b=worker_curves(epochs=2)).run(
            run_name=f"c-{i}", repository=repo
        )
    forget_metadata_stores()
    proxy.wait_idle()
    runs = Repository(repo.root).get_pipeline("two_trainers").runs

    def page() -> Any:
        table = runs.table(
            where="a.metrics.loss < 0.85 and b.metrics.loss > 0", sort="a.metrics.loss",
            limit=3, offset=1, count=True,
        )  # fmt: skip
        assert table.column("a.metrics.loss") == sorted(table.column("a.metrics.loss"))[::-1]
        assert len(table) == 3 and table.total == 5
        return table

    assert trips(proxy, page) <= 2
    table = page()
    assert trips(proxy, lambda: table.curves("a.metrics.loss")) == 1
    overlay = table.curves("a.metrics.loss")
    assert list(overlay.curves) == table.column("name")
    assert trips(proxy, lambda: overlay._repr_mimebundle_()) == 0
    assert trips(proxy, lambda: runs.curves("b.metrics.loss", ["c-0", "c-5"])) == 1

    explorer = HistoryExplorer(Repository(repo.root))
    explorer.select("two_trainers")
    panel = explorer.runs_table
    # the page and the chart's query, each <= 2 as without curves; the overlay reads nothing
    # until the page reports the runs in view
    assert trips(proxy, lambda: setattr(panel.toggle, "value", True)) <= 4
    assert panel.overlay.curves is None
    grid, chart = panel.grid, panel.overlay
    assert trips(proxy, lambda: setattr(grid, "visible", ["c-5", "c-4", "c-3"])) == 1
    assert list(chart.curves.curves) == ["c-5", "c-4", "c-3"]  # type: ignore[union-attr]
    assert trips(proxy, lambda: setattr(chart.metric, "value", "b.metrics.loss")) == 1
    assert trips(proxy, lambda: setattr(chart.log_scale, "value", True)) == 0
