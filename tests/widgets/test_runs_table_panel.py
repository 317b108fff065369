"""The explorer's runs grid, driven without a browser: the messages the page would send (fetch,
sort, select) and what the grid answers; filters, the chart, and what a sort costs."""

from __future__ import annotations

from typing import Any

import pytest
import zw_testing as t

from zenml_widgets import HistoryExplorer, Output, pipeline, step
from zenml_widgets.repository import Repository
from zenml_widgets.widgets.runs_grid import RunsGrid


class Page:
    """Stands in for the grid's page: sends what it sends, keeps what it gets."""

    def __init__(self, grid: RunsGrid, monkeypatch: pytest.MonkeyPatch) -> None:
        self.grid = grid
        self.received: list[dict[str, Any]] = []
        monkeypatch.setattr(
            grid, "send", lambda message, buffers=None: self.received.append(message)
        )

    def says(self, **message: Any) -> None:
        self.grid._on_message(self.grid, {**message, "generation": self.grid.generation}, [])

    def names(self, offset: int = 0, limit: int = 100) -> list[str]:
        self.received.clear()
        self.says(type="fetch", offset=offset, limit=limit)
        (answer,) = self.received
        assert answer["type"] == "rows" and answer["offset"] == offset
        return [row[0] for row in answer["rows"]]


@pytest.fixture
def explorer(history: Repository) -> HistoryExplorer:
    for epochs in (3, 4, 5):
        t.make_training(epochs=epochs).run(run_name=f"e{epochs}", repository=history)
    return HistoryExplorer().select("training_pipeline")


@pytest.fixture
def page(explorer: HistoryExplorer, monkeypatch: pytest.MonkeyPatch) -> Page:
    """The explorer's runs table, opened, and its page."""
    explorer.runs_table.toggle.value = True
    return Page(explorer.runs_table.grid, monkeypatch)


def test_nothing_is_queried_while_the_table_is_closed(explorer: HistoryExplorer) -> None:
    panel = explorer.runs_table
    assert panel.box.layout.display == "" and panel.content.layout.display == "none"
    assert panel.table is None and panel.grid.total == 0


def test_the_grid_fetches_pages_sorts_and_selects(explorer: HistoryExplorer, page: Page) -> None:
    panel = explorer.runs_table
    grid = panel.grid
    assert grid.total == 5 and grid.error == "" and grid.sort == "start" and grid.descending
    assert page.names() == ["e5", "e4", "e3", "second", "first"]  # newest first
    assert page.names(offset=3, limit=1) == ["second"]
    names = [c["name"] for c in grid.columns]
    assert names[:4] == ["name", "status", "start", "duration"] and "trainer.epochs" in names
    numeric = {c["name"]: c["numeric"] for c in grid.columns}
    assert numeric["trainer.epochs"] and numeric["duration"] and not numeric["status"]

    generation = grid.generation
    page.says(type="sort", column="trainer.epochs", descending=True)
    assert grid.generation == generation + 1 and grid.sort == "trainer.epochs"
    assert page.names()[:3] == ["e5", "e4", "e3"]
    page.says(type="sort", column="trainer.epochs", descending=False)
    assert page.names() == ["first", "second", "e3", "e4", "e5"] and not grid.descending

    page.says(type="select", name="second")
    assert explorer.run_name == "second" and explorer.ui.run.value == "second"
    assert grid.selected == "second"
    explorer.run_name = "first"  # the other way: the grid highlights the explorer's run
    assert grid.selected == "first"


def test_fetches_of_an_older_query_are_dropped_and_its_clicks_still_count(
    explorer: HistoryExplorer, page: Page
) -> None:
    panel = explorer.runs_table
    old = panel.grid.generation
    panel.sort_by("trainer.epochs")
    page.received.clear()
    panel.grid._on_message(
        panel.grid, {"type": "fetch", "offset": 0, "limit": 5, "generation": old}, []
    )
    assert page.received == []
    # A row clicked just before the page heard of the new query still selects its run.
    panel.grid._on_message(panel.grid, {"type": "select", "name": "e4", "generation": old}, [])
    assert explorer.state.run_name == "e4" and panel.grid.selected == "e4"


def test_a_bad_filter_clears_the_rows_and_says_why(explorer: HistoryExplorer, page: Page) -> None:
    panel = explorer.runs_table
    panel.where.value = "trainer.epochs >= 4"
    assert sorted(page.names()) == ["e4", "e5"] and panel.grid.total == 2
    panel.where.value = "trainer.epoch >= 3"
    grid = panel.grid
    assert (
        grid.total == 0 and "Did you mean" in grid.error and "Did you mean" in panel.message.value
    )
    assert page.names() == [] and panel.chart.value == ""  # no rows that look like a result
    panel.where.value = ""
    assert grid.error == "" and grid.total == 5 and len(page.names()) == 5


def test_a_sort_costs_one_page_query_and_keeps_the_count_and_the_chart(
    explorer: HistoryExplorer, count_queries: Any, history: Repository
) -> None:
    panel = explorer.runs_table
    panel.toggle.value = True
    panel.where.value = "trainer.epochs >= 2"
    chart = panel.chart.value
    statements = count_queries(history)
    panel.sort_by("trainer.epochs")
    # the total is not counted again (SQLite's planner may count up to 5,000 matching values
    # on their index to choose where to start: a probe, not the count)
    probes = [s for s in statements if s.endswith("LIMIT ?) few")]
    counted = [s for s in statements if "count(" in s.lower() and s not in probes]
    assert counted == [] and len(probes) <= 1 and panel.chart.value == chart
    statements.clear()
    panel.where.value = ""  # clearing the filter: its count was kept from the first load
    assert [s for s in statements if "count(" in s.lower()] == []


@step
def summary(seed: int = 0) -> Output(cities=int, revenue=float):  # type: ignore[valid-type]
    """A constant and a metric that varies."""
    return 6, 100.0 + seed


@pipeline
def shop(summary):  # type: ignore[no-untyped-def]
    summary()


def test_the_default_chart_metric_varies(history: Repository) -> None:
    for seed in range(4):
        shop(summary=summary(seed=seed)).run(run_name=f"s{seed}", repository=history)
    explorer = HistoryExplorer().select("shop")
    explorer.runs_table.toggle.value = True
    panel = explorer.runs_table
    assert "summary.cities" in panel.metric.options  # offered, but it is a constant
    assert panel.metric.value == "summary.revenue"
    assert "<svg" in panel.chart.value and "<title>s3: summary.revenue = 103" in panel.chart.value
    panel.x_axis.value = "summary.seed"
    assert "summary.seed = " in panel.chart.value  # a scatter now


def test_the_dropdowns_come_before_the_table(explorer: HistoryExplorer) -> None:
    children = list(explorer.children)
    table = children.index(explorer.runs_table.widget)
    for dropdown in (explorer.ui.run, explorer.ui.step, explorer.ui.output):
        assert children.index(dropdown) < table


def test_another_pipeline_starts_over(explorer: HistoryExplorer, page: Page) -> None:
    panel = explorer.runs_table
    panel.sort_by("trainer.epochs")
    explorer.select("failing_pipeline")
    assert panel.sort == "start" and panel.grid.sort == "start" and panel.where.value == ""
    assert page.names() == ["broken"]
