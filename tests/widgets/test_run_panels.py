"""The explorer's DAG, comparison and newer-runs panels, driven without a browser."""

from __future__ import annotations

import re

import pytest
import zw_testing as t
from traitlets import TraitError

from zenml_widgets import HistoryExplorer
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository
from zenml_widgets.visualizers.html import MUTED


def test_dag_of_the_selected_run_and_clicking_a_node_selects_the_step(
    history: Repository,
) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "second")
    graph = explorer.dag.graph
    assert explorer.dag.box.layout.display == ""
    assert graph.title == "DAG of run second" and graph.selected is None
    steps = re.findall(r'data-step="([^"]+)" data-status="([^"]+)"', graph.svg)
    # second run: epochs and seed changed, so everything re-ran
    assert steps == [
        ("importer", "completed"),
        ("trainer", "completed"),
        ("evaluator", "completed"),
    ]
    assert "parameters changed (seed)" in graph.svg  # the tooltip says why
    assert "zw-dag-selected" not in graph.svg
    key = graph.key

    graph.set_state({"selected": "trainer"})  # what a click in the page sends
    assert explorer.step_name == "trainer"
    assert explorer.code.endswith('.get_step("trainer")')
    assert 'zw-dag-selected" data-step="trainer"' in graph.svg and graph.key == key
    explorer.step_name = "importer"  # the other way: the DAG follows the explorer
    assert graph.selected == "importer" and 'zw-dag-selected" data-step="importer"' in graph.svg

    explorer.ui.run.value = "first"  # another run: new picture, no selection
    assert explorer.step_name is None and graph.selected is None and graph.key != key
    explorer.pipeline_name = None
    assert explorer.dag.box.layout.display == "none"


def test_the_dag_widget_ships_its_module_and_shows_as_svg_where_widgets_cannot_run(
    history: Repository,
) -> None:
    from zenml_widgets.widgets.dag_widget import DagWidget

    explorer = HistoryExplorer().select("training_pipeline", "second")
    graph = explorer.dag.graph
    assert isinstance(graph, DagWidget)
    assert "export default" in graph._esm and "http" not in graph._esm  # nothing from the net
    assert "zw-dag-view" in graph._css
    bundle = graph._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/html"].startswith('<div class="zw-dag-container"')


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


def test_the_tags_panel_adds_and_removes_tags_and_shows_a_bad_tag_as_an_error(
    history: Repository,
) -> None:
    explorer = HistoryExplorer().select("training_pipeline")
    panel = explorer.tags
    assert panel.box.layout.display == "none" and panel.run is None  # no run selected
    explorer.ui.run.value = "first"
    assert panel.box.layout.display == ""
    assert [c.value for c in panel.chips.children] == [f"<span style='color:{MUTED}'>none</span>"]

    panel.key.value, panel.value.value = "stage", "<b>prod</b>"
    panel.add.click()
    panel.key.value = "baseline"
    panel.add.click()
    assert explorer.error == "" and panel.key.value == panel.value.value == ""
    labels = [chip.children[0].value for chip in panel.chips.children]
    assert labels == ["<code>baseline</code>", "<code>stage=&lt;b&gt;prod&lt;/b&gt;</code>"]
    stored = Repository().get_pipeline("training_pipeline").get_run("first").tags
    assert stored == {"baseline": "", "stage": "<b>prod</b>"}
    preview = explorer.ui.preview.value  # the run's display lists them at once
    assert "<code>baseline</code> <code>stage=&lt;b&gt;prod&lt;/b&gt;</code>" in preview

    panel.key.value = "   "  # refused by the store's rules, shown in the explorer
    panel.add.click()
    assert explorer.error.startswith("ValueError: ") and "cannot be empty" in explorer.error
    panel.chips.children[0].children[1].click()  # the remove button of 'baseline'
    assert list(Repository().get_pipeline("training_pipeline").get_run("first").tags) == ["stage"]
    assert "<code>baseline</code>" not in explorer.ui.preview.value
    explorer.step_name = "trainer"  # a step's display has no tags: the preview stays the step's
    panel.add_tag("late")
    assert (
        "Step" in explorer.ui.preview.value and "<code>late</code>" not in explorer.ui.preview.value
    )
    explorer.ui.run.value = "second"  # another run: its own (no) tags
    assert panel.run is not None and panel.run.name == "second" and len(panel.chips.children) == 1
