"""The explorer's runs table, driven without a browser: sort by header, filter, page, pick."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import zw_testing as t

from zenml_widgets import HistoryExplorer
from zenml_widgets.repository import Repository


def _names(explorer: HistoryExplorer) -> list[str]:
    return [
        b.description
        for b in explorer.runs_table.grid.children
        if isinstance(b, w.Button) and "zw-runs-table-run" in b._dom_classes
    ]


def _header(explorer: HistoryExplorer, column: str) -> Any:
    for b in explorer.runs_table.grid.children:
        if isinstance(b, w.Button) and b.description.split(" ")[0] == column:
            return b
    raise AssertionError(f"no header {column}")


def test_runs_table_sorts_filters_pages_and_selects(history: Repository) -> None:
    for epochs in (3, 4, 5):
        t.make_training(epochs=epochs).run(run_name=f"e{epochs}", repository=history)
    explorer = HistoryExplorer().select("training_pipeline")
    panel = explorer.runs_table
    assert panel.box.layout.display == "" and panel.content.layout.display == "none"
    assert panel.table is None  # nothing queried while closed
    panel.toggle.value = True
    assert _names(explorer) == ["e5", "e4", "e3", "second", "first"]  # newest first
    assert "1-5 of 5 runs" in panel.page_label.value
    _header(explorer, "trainer.epochs").click()
    assert _names(explorer)[:3] == ["e5", "e4", "e3"] and panel.descending
    _header(explorer, "trainer.epochs").click()  # again: reversed
    assert _names(explorer) == ["first", "second", "e3", "e4", "e5"]
    panel.where.value = "trainer.epochs >= 3"
    assert sorted(_names(explorer)) == ["e3", "e4", "e5"]
    panel.where.value = "trainer.epoch >= 3"
    assert "Did you mean" in panel.message.value
    panel.where.value = ""
    panel.page_size = 2
    panel.sort_by("start")
    assert _names(explorer) == ["e5", "e4"] and panel.newer.disabled
    panel.older.click()
    assert _names(explorer) == ["e3", "second"]
    run_button = next(
        b for b in panel.grid.children if isinstance(b, w.Button) and b.description == "second"
    )
    run_button.click()
    assert explorer.run_name == "second" and explorer.ui.run.value == "second"
    assert "<svg" in panel.chart.value and "<title>" in panel.chart.value
    assert panel.metric.value in panel.metric.options
    panel.x_axis.value = "trainer.epochs"
    assert "trainer.epochs = " in panel.chart.value  # a scatter now
    explorer.select("failing_pipeline")
    assert _names(explorer) == ["broken"]
