"""The explorer's DAG, comparison and newer-runs panels, driven without a browser."""

from __future__ import annotations

import pytest
import zw_testing as t
from traitlets import TraitError

from zenml_widgets import HistoryExplorer
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository


def test_dag_of_the_selected_run_and_clicking_a_node_selects_the_step(
    history: Repository,
) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "second")
    assert explorer.dag.box.layout.display == ""
    buttons = explorer.dag.buttons
    assert list(buttons) == ["importer", "trainer", "evaluator"]
    # second run: epochs and seed changed, so everything re-ran
    assert {b.button_style for b in buttons.values()} == {"success"}
    assert "parameters changed (seed)" in buttons["importer"].tooltip
    assert (
        "<svg" in explorer.dag.picture.value and "zw-dag-selected" not in explorer.dag.picture.value
    )
    layers = [c for c in explorer.dag.nodes.children if hasattr(c, "children")]
    assert [[b.description for b in col.children] for col in layers] == [
        ["importer"],
        ["trainer"],
        ["evaluator"],
    ]
    buttons["trainer"].click()
    assert explorer.step_name == "trainer"
    assert explorer.code.endswith('.get_step("trainer")')
    assert buttons["trainer"].icon == "check" and buttons["importer"].icon == ""
    assert 'zw-dag-selected" data-step="trainer"' in explorer.dag.picture.value
    explorer.ui.run.value = "first"  # another run: new nodes, no selection
    assert explorer.step_name is None
    assert all(b.icon == "" for b in explorer.dag.buttons.values())
    explorer.pipeline_name = None
    assert explorer.dag.box.layout.display == "none"


def test_compare_with_another_run_and_one_output(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "second")
    against = explorer.comparison.against
    assert [v for _, v in against.options] == ["", "first"]  # not the run itself
    against.value = "first"  # as the browser would
    assert explorer.compare_run_name == "first"
    summary = explorer.comparison.summary.value
    assert "Changed parameters" in summary and "epochs" in summary and "seed" in summary
    assert explorer.comparison.output_button.layout.display == "none"  # no output selected
    explorer.select("training_pipeline", "second", "importer", "train")
    assert explorer.compare_run_name == "first"  # kept while the pipeline stays
    button = explorer.comparison.output_button
    assert button.layout.display == "" and "'train'" in button.description
    button.click()
    shown = explorer.comparison.output_view.value
    assert "A: first" in shown and "B: second" in shown
    assert "Numeric features" in shown  # Facets statistics side by side
    assert explorer.error == ""
    with pytest.raises((NotFoundError, TraitError), match="'nope'"):
        explorer.compare_with("nope")
    against.value = ""  # back to "(choose a run to compare with)"
    assert explorer.compare_run_name is None
    assert explorer.comparison.summary.value == ""
    explorer.compare_with("first")
    explorer.pipeline_name = "failing_pipeline"  # another pipeline starts over
    assert explorer.compare_run_name is None
    assert [v for _, v in explorer.comparison.against.options] == ["", "broken"]


def test_newer_runs_are_announced_and_the_button_jumps_to_the_newest(
    history: Repository,
) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "first")
    assert explorer.check_for_newer_runs() == 0
    assert explorer.newer_runs.box.layout.display == "none"
    t.make_training(epochs=7).run(run_name="third", repository=history)
    t.make_training(epochs=8).run(run_name="fourth", repository=history)
    explorer.ui.step.value = "trainer"  # any interaction checks (one LIMIT 1 query)
    assert explorer.newer_runs.box.layout.display == ""
    assert "2 newer runs" in explorer.newer_runs.label.value
    assert "fourth" in explorer.newer_runs.label.value
    explorer.newer_runs.jump.click()
    assert explorer.run_name == "fourth"
    assert explorer.newer_runs.box.layout.display == "none"
    assert [v for _, v in explorer.ui.run.options][:2] == ["fourth", "third"]
