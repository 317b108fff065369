"""Regression tests for the explorer's papercuts of issue 20 (section 5), one per papercut.

The others: tests/views/test_step_lookup.py, tests/display/test_view_displays.py,
tests/test_cli.py and tests/test_readme_quickstart.py.
"""

from __future__ import annotations

from zenml_widgets import HistoryExplorer
from zenml_widgets.repository import Repository


def test_the_read_time_line_goes_when_the_pipeline_or_run_changes(history: Repository) -> None:
    explorer = HistoryExplorer()
    explorer.select("training_pipeline", "second", "importer", "train")
    assert "read in" in explorer.ui.status.value
    explorer.select("training_pipeline", "first")
    assert explorer.ui.status.value == ""

    explorer.select("training_pipeline", "second", "importer", "train")
    assert "read in" in explorer.ui.status.value
    explorer.pipeline_name = "failing_pipeline"
    assert explorer.ui.status.value == ""


def test_the_compare_choice_does_not_offer_the_run_itself(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "second")
    offered = [value for _, value in explorer.comparison.against.options]
    assert offered == ["", "first"]
    explorer.run_name = "first"
    assert [value for _, value in explorer.comparison.against.options] == ["", "second"]


def test_the_pipeline_preview_lists_the_runs_the_filter_lets_through(
    history: Repository,
) -> None:
    explorer = HistoryExplorer().select("training_pipeline")
    assert "second" in explorer.ui.preview.value and "first" in explorer.ui.preview.value
    explorer.ui.filter.value = "fir"
    preview = explorer.ui.preview.value
    assert "first" in preview and "second" not in preview
    assert "newest matching &#x27;fir&#x27;" in preview
    explorer.ui.filter.value = "nothing-like-it"
    assert "No runs matching" in explorer.ui.preview.value
    explorer.ui.filter.value = ""
    assert "second" in explorer.ui.preview.value
