"""``ExplorerState`` on its own: the cascade pipeline -> run -> step -> output, no widget at all."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import zw_testing as t
from traitlets import TraitError

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository
from zenml_widgets.views import ArtifactView, PipelineRunView, PipelineView, StepView
from zenml_widgets.widgets.state import LATEST, ExplorerState


def values(options: list[tuple[str, str]]) -> list[str]:
    return [value for _label, value in options]


class Signals:
    """Counts the state's settled notifications, and what the state looked like at each."""

    def __init__(self, state: ExplorerState) -> None:
        self.state = state
        self.seen: list[tuple[str, tuple[Any, ...]]] = []
        state.observe(self._on_revision_change, names=["revision", "runs_revision"])

    def _on_revision_change(self, change: Any) -> None:
        s = self.state
        names = (s.pipeline_name, s.run_name, s.step_name, s.output_name)
        self.seen.append((change.name, names))

    def take(self) -> list[str]:
        taken = [name for name, _ in self.seen]
        self.seen.clear()
        return taken


@pytest.fixture
def state(history: Repository) -> ExplorerState:
    return ExplorerState(history)


def test_the_state_module_imports_no_widgets() -> None:
    code = (
        "import sys; import zenml_widgets.widgets.state; "
        "print('ipywidgets' in sys.modules, 'IPython' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_nothing_is_selected_at_first(state: ExplorerState, history: Repository) -> None:
    assert state.stack_key == history.active_stack_key
    assert state.options("stack_key") == [("default (active)", "default")]
    assert values(state.options("pipeline_name")) == ["failing_pipeline", "training_pipeline"]
    assert state.pipeline_name is None and state.current is None
    assert state.runs == [] and state.run_count is None and state.runs_description == ""
    assert state.options("run_name") == [] and state.options("step_name") == []


def test_each_level_loads_its_view_and_what_the_next_offers(state: ExplorerState) -> None:
    state.pipeline_name = "training_pipeline"
    assert isinstance(state.pipeline, PipelineView) and state.current is state.pipeline
    assert [r.name for r in state.runs] == ["second", "first"] and state.run_count == 2
    labels = [label for label, _ in state.options("run_name")]
    assert labels[0].startswith("second") and "completed" in labels[0] and " UTC" in labels[0]

    state.run_name = "first"
    assert isinstance(state.run, PipelineRunView) and state.run.name == "first"
    assert values(state.options("step_name")) == ["importer", "trainer", "evaluator"]

    state.step_name = "importer"
    assert isinstance(state.step, StepView) and state.current is state.step
    assert values(state.options("output_name")) == ["train", "test"]
    assert "pandas.DataFrame" in state.options("output_name")[0][0]

    state.output_name = "test"
    assert isinstance(state.output, ArtifactView) and state.current is state.output
    assert len(state.output.read()) == 10


def test_a_failed_run_is_browsed_like_any_other(state: ExplorerState) -> None:
    state.select("failing_pipeline", LATEST)
    assert state.run_name == "broken" and state.run is not None
    assert state.run.status == "failed" and "failed" in state.options("run_name")[0][0]
    steps = {value: label for label, value in state.options("step_name")}
    assert "completed" in steps["importer"] and "failed" in steps["exploding"]


def test_wrong_names_are_refused_with_what_exists(state: ExplorerState) -> None:
    with pytest.raises(TraitError, match="Its pipelines are: 'failing_pipeline'"):
        state.pipeline_name = "trainingpipeline"
    with pytest.raises(TraitError, match="Select a pipeline before a run"):
        state.run_name = "first"
    state.pipeline_name = "training_pipeline"
    with pytest.raises(TraitError, match=r"No run 'nope'.*'second', 'first'"):
        state.run_name = "nope"
    state.run_name = "first"
    with pytest.raises(TraitError, match="No step 'nope'"):
        state.step_name = "nope"
    with pytest.raises(TraitError, match="Select a step before an output"):
        state.output_name = "train"
    state.step_name = "importer"
    with pytest.raises(TraitError, match="Its outputs are: 'train', 'test'"):
        state.output_name = "nope"
    with pytest.raises(TraitError, match="'nope'"):
        state.compare_run_name = "nope"
    with pytest.raises(TraitError, match="Its stacks are: 'default'"):
        state.stack_key = "nope"
    # refused names change nothing
    assert (state.pipeline_name, state.run_name, state.step_name) == (
        "training_pipeline",
        "first",
        "importer",
    )
    assert state.output_name is None and state.compare_run_name is None


def test_select_raises_not_found_errors(state: ExplorerState, history: Repository) -> None:
    with pytest.raises(NotFoundError, match=r"No run 'nope'.*'second', 'first'"):
        state.select("training_pipeline", "nope")
    with pytest.raises(NotFoundError, match="Its outputs are: 'train', 'test'"):
        state.select("training_pipeline", "first", "importer", "nope")
    with pytest.raises(NotFoundError, match="Its stacks are: 'default'"):
        ExplorerState(history, stack_key="nope")
    with pytest.raises(NotFoundError, match="'nope'"):
        state.compare_with("nope")


def test_changing_a_level_clears_the_ones_below(state: ExplorerState) -> None:
    state.select("training_pipeline", "first", "importer", "train").compare_with("second")
    state.run_name = "second"
    assert state.step_name is None and state.output_name is None
    assert state.step is None and state.output is None and state.options("output_name") == []
    assert state.compare_run_name == "second"  # kept while the pipeline stays
    state.pipeline_name = "failing_pipeline"
    assert state.run_name is None and state.compare_run_name is None
    assert state.compare_run is None and state.options("step_name") == []
    assert [r.name for r in state.runs] == ["broken"]
    state.pipeline_name = None
    assert state.pipeline is None and state.runs == [] and state.options("run_name") == []
    assert state.current is None


def test_latest_resolves_to_the_newest_run(state: ExplorerState, history: Repository) -> None:
    assert state.select("training_pipeline", LATEST).run_name == "second"
    t.make_training(epochs=3).run(run_name="third", repository=history)
    assert state.select("training_pipeline", LATEST).run_name == "third"
    store = history.active_stack.metadata_store
    store.get_or_create_pipeline("empty_pipeline")
    state.refresh()
    with pytest.raises(NotFoundError, match="'empty_pipeline' has no runs yet"):
        state.select("empty_pipeline", LATEST)


def test_compare_with_another_run(state: ExplorerState) -> None:
    state.select("training_pipeline", "second").compare_with("first")
    assert state.compare_run is not None and state.compare_run.name == "first"
    state.compare_with(None)
    assert state.compare_run is None


def test_runs_are_paged_and_filtered(big_history: Repository) -> None:
    state = ExplorerState(big_history, page_size=50).select("bulk")
    names = [r.name for r in state.runs]
    assert names == [f"bulk-{i:05d}" for i in range(299, 249, -1)]
    assert values(state.options("run_name")) == names
    assert state.has_older and not state.has_newer
    assert state.runs_description == "50 newest runs of 300"
    state.older()
    assert state.runs[0].name == "bulk-00249" and state.has_newer
    state.newer()
    assert state.runs[0].name == "bulk-00299" and not state.has_newer

    state.name_filter = "0012"
    assert [r.name for r in state.runs] == [f"bulk-{i:05d}" for i in range(129, 119, -1)] + [
        "bulk-00012"
    ]
    assert state.runs_description == "11 newest runs matching '0012'"
    state.page_size = 3
    assert [r.name for r in state.runs] == ["bulk-00129", "bulk-00128", "bulk-00127"]
    state.run_name = "bulk-00003"  # not listed and not matching: listed, the filter cleared
    assert state.name_filter == "" and state.runs[0].name == "bulk-00003"
    state.pipeline_name = None
    state.pipeline_name = "bulk"
    assert state.name_filter == "" and len(state.runs) == 3


def test_refresh_sees_new_pipelines_runs_and_statuses(
    state: ExplorerState, history: Repository
) -> None:
    state.select("training_pipeline", "second", "importer")
    store = history.active_stack.metadata_store
    running = store.create_run(state.pipeline.id, "in-progress", pid=None, hostname="elsewhere")
    store.get_or_create_pipeline("another_pipeline")
    assert [r.name for r in state.runs] == ["second", "first"]
    generation = state.generation
    state.refresh()
    assert state.generation == generation + 1
    assert [r.name for r in state.runs] == ["in-progress", "second", "first"]
    assert "running" in state.options("run_name")[0][0] and state.run_count == 3
    assert "another_pipeline" in values(state.options("pipeline_name"))
    assert (state.run_name, state.step_name) == ("second", "importer")  # kept
    store.finish_run(running.id, "completed")
    state.refresh()
    assert "completed" in state.options("run_name")[0][0]


def test_one_settled_notification_per_action(state: ExplorerState) -> None:
    signals = Signals(state)
    state.pipeline_name = "training_pipeline"
    assert signals.take() == ["runs_revision", "revision"]
    state.run_name = "first"
    assert signals.take() == ["revision"]
    state.select("training_pipeline", "second", "importer", "train")
    assert signals.take() == ["revision"]
    state.select("training_pipeline", "second", "importer", "train")  # the same again
    assert signals.take() == ["revision"]
    state.name_filter = "sec"
    assert signals.take() == ["runs_revision"]
    state.refresh()
    assert signals.take() == ["runs_revision", "revision"]
    with pytest.raises(TraitError):
        state.step_name = "nope"
    assert signals.take() == []
    state.pipeline_name = "failing_pipeline"  # observers see the state once it settled
    assert signals.seen == [
        ("runs_revision", ("failing_pipeline", None, None, None)),
        ("revision", ("failing_pipeline", None, None, None)),
    ]


def test_a_pipeline_with_many_runs_pages_to_a_run_chosen_by_name(
    big_history: Repository,
) -> None:
    state = ExplorerState(big_history, page_size=50)
    signals = Signals(state)
    state.select("bulk", "bulk-00003")
    assert [r.name for r in state.runs] == [f"bulk-{i:05d}" for i in range(3, -1, -1)]
    assert signals.take() == ["runs_revision", "revision"]
    state.newer()
    assert state.runs[0].name == "bulk-00053" and state.run_name == "bulk-00003"
    assert signals.take() == ["runs_revision"]


@pytest.fixture
def no_ipywidgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail if anything imports ipywidgets while the test runs."""
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    yield


def test_the_cascade_runs_without_ipywidgets(history: Repository, no_ipywidgets: None) -> None:
    state = ExplorerState(history).select("training_pipeline", LATEST, "trainer", "output")
    assert state.current is not None and state.output is not None
    assert isinstance(state.output.read(), float)
