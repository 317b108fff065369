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
