"""HistoryExplorer without a browser: assign traits, call select, read back widget state."""

from __future__ import annotations

import re
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from traitlets import TraitError

from zenml_widgets import HistoryExplorer
from zenml_widgets.display.html import fmt_size
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository
from zenml_widgets.views import ArtifactView, PipelineRunView, PipelineView, StepView
from zenml_widgets.widgets import data_panel


def labels(dropdown: Any) -> list[str]:
    return list(dropdown.get_state()["_options_labels"])


def test_pipelines_are_listed_and_nothing_is_selected_at_first(history: Repository) -> None:
    explorer = HistoryExplorer()
    assert labels(explorer.ui.pipeline) == ["failing_pipeline", "training_pipeline"]
    assert explorer.ui.pipeline.get_state()["index"] is None
    assert explorer.pipeline_name is None and explorer.current is None
    assert explorer.code == "Repository()"
    assert "training_pipeline" in explorer.ui.preview.value  # the repository overview
    assert explorer.ui.stack.layout.display == "none"  # a single stack: no stack selector
    shown = (explorer.ui.pipeline, explorer.ui.run, explorer.ui.step, explorer.ui.output)
    assert all(d.layout.display in (None, "") for d in (*shown, explorer.ui.code))


def test_choosing_a_pipeline_lists_its_runs_newest_first_with_status(history: Repository) -> None:
    explorer = HistoryExplorer()
    explorer.ui.pipeline.value = "training_pipeline"  # as the browser would
    assert explorer.pipeline_name == "training_pipeline"
    assert isinstance(explorer.current, PipelineView)
    run_labels = labels(explorer.ui.run)
    assert [label.split()[0] for label in run_labels] == ["second", "first"]
    assert all("completed" in label and " UTC" in label for label in run_labels)
    assert explorer.ui.run.get_state()["index"] is None  # options set, nothing chosen for you
    assert labels(explorer.ui.step) == [] and labels(explorer.ui.output) == []
    assert explorer.code == 'Repository().get_pipeline("training_pipeline")'
    assert "2 runs" in explorer.ui.preview.value and "second" in explorer.ui.preview.value

    explorer.ui.pipeline.value = "failing_pipeline"
    assert [label.split()[0] for label in labels(explorer.ui.run)] == ["broken"]
    assert "failed" in labels(explorer.ui.run)[0]


def test_the_cascade_down_to_an_output(history: Repository) -> None:
    explorer = HistoryExplorer()
    explorer.pipeline_name = "training_pipeline"
    explorer.ui.run.index = 1  # "first"
    assert explorer.run_name == "first" and isinstance(explorer.current, PipelineRunView)
    assert [s.split()[0] for s in labels(explorer.ui.step)] == [
        "importer",
        "trainer",
        "evaluator",
    ]
    preview = explorer.ui.preview.value
    assert "importer" in preview and "evaluate_model" in preview and "completed" in preview

    explorer.ui.step.value = "importer"
    assert isinstance(explorer.current, StepView)
    assert [o.split()[0] for o in labels(explorer.ui.output)] == ["train", "test"]
    assert "pandas.DataFrame" in labels(explorer.ui.output)[0]
    assert "n_rows" in explorer.ui.preview.value  # parameters
    assert explorer.code == (
        'Repository().get_pipeline("training_pipeline").get_run("first").get_step("importer")'
    )

    explorer.ui.output.value = "train"
    artifact = explorer.current
    assert isinstance(artifact, ArtifactView) and explorer.output_name == "train"
    meta = explorer.ui.preview.value
    assert artifact.uri in meta and "PandasMaterializer" in meta and "pandas.DataFrame" in meta
    data = explorer.ui.data.value
    assert "40 rows, 2 columns" in data and "float64" in data and "head(10)" in data
    assert explorer.code.endswith('.get_step("importer").outputs["train"].read()')
    assert explorer.ui.code.value == explorer.code
    assert explorer.ui.statistics.layout.display == ""  # a DataFrame: statistics offered


def test_the_code_line_evaluates_to_the_selection(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "first", "importer", "test")
    value = eval(explorer.code, {"Repository": Repository})
    pd.testing.assert_frame_equal(value, explorer.load_into("frame"))
    explorer.select("training_pipeline", "second", "trainer")
    assert eval(explorer.code, {"Repository": Repository}) == explorer.current


def test_changing_an_upper_level_clears_the_lower_ones(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "first", "importer", "train")
    explorer.run_name = "second"
    assert explorer.step_name is None and explorer.output_name is None
    assert explorer.ui.step.get_state()["index"] is None and labels(explorer.ui.output) == []
    assert explorer.ui.data.value == ""
    explorer.pipeline_name = None
    assert explorer.run_name is None and labels(explorer.ui.run) == []
    assert explorer.current is None and explorer.code == "Repository()"


def test_select_latest_and_unknown_names(history: Repository) -> None:
    explorer = HistoryExplorer()
    explorer.select("training_pipeline", "latest")
    assert explorer.run_name == "second"
    assert explorer.ui.run.value == "second"
    with pytest.raises(NotFoundError, match=r"No run 'nope'.*'second', 'first'"):
        explorer.select("training_pipeline", "nope")
    with pytest.raises(NotFoundError, match="Its pipelines are: 'failing_pipeline'"):
        explorer.select("trainingpipeline")
    with pytest.raises(NotFoundError, match="Its outputs are: 'train', 'test'"):
        explorer.select("training_pipeline", "first", "importer", "nope")
    with pytest.raises(TraitError, match="No step 'nope'"):
        explorer.step_name = "nope"
    explorer.select("training_pipeline")
    with pytest.raises(TraitError, match="Select a run before a step"):
        explorer.step_name = "importer"


def test_reading_happens_only_when_an_output_is_selected(
    history: Repository, artifact_reads: list[str]
) -> None:
    reads = artifact_reads
    explorer = HistoryExplorer().select("training_pipeline", "first", "importer")
    explorer.refresh()
    assert reads == []
    explorer.output_name = "test"
    assert reads == ["test"]
    assert "read in" in explorer.ui.status.value
    explorer.load_into("t")  # the object read for the preview is reused
    assert reads == ["test"]

    explorer.read_on_select = False
    explorer.output_name = "train"
    assert reads == ["test"] and "Data not read yet" in explorer.ui.data.value
    assert explorer.ui.read.layout.display == ""
    explorer.ui.read.click()
    assert reads == ["test", "train"] and "head(10)" in explorer.ui.data.value


def test_big_outputs_are_read_only_on_request(history: Repository) -> None:
    explorer = HistoryExplorer()
    explorer.auto_read_limit = 10
    explorer.select("training_pipeline", "first", "importer", "train")
    assert "Data not read yet" in explorer.ui.data.value and "it is big" in explorer.ui.data.value
    explorer.ui.read.click()
    assert "40 rows" in explorer.ui.data.value


def test_scalars_and_dicts_are_previewed(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "first", "trainer", "output")
    assert "builtins.float" in explorer.ui.data.value
    assert explorer.ui.statistics.layout.display == "none"
    explorer.select("training_pipeline", "first", "evaluator", "output")
    assert "dict with 2 keys" in explorer.ui.data.value and "score" in explorer.ui.data.value


def test_errors_show_in_the_explorer(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "first", "importer")
    shutil.rmtree(explorer.current.outputs["train"].uri)
    explorer.ui.output.value = "train"  # a UI change: must not raise into the kernel log
    assert explorer.output_name == "train"
    assert explorer.error.startswith("ArtifactReadError")
    assert (
        "missing" in explorer.ui.message.value and "ArtifactReadError" in explorer.ui.message.value
    )
    explorer.ui.output.value = "test"  # a good selection clears the message
    assert explorer.error == "" and explorer.ui.message.value == ""


def test_load_into_a_variable(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "first", "trainer", "output")
    explorer.ui.variable.value = "not valid"
    explorer.ui.load.click()
    assert "not a valid Python variable name" in explorer.error
    explorer.ui.variable.value = "class"
    explorer.ui.load.click()
    assert "not a valid" in explorer.error
    explorer.ui.variable.value = "score"
    explorer.ui.load.click()
    assert explorer.loaded == {"score": explorer.current.read()}
    assert "Loaded <code>score</code>" in explorer.ui.message.value

    explorer.select("training_pipeline", "first")
    assert explorer.load_into("") is explorer.loaded["first"]  # a view, named after it


def test_load_into_the_ipython_namespace(history: Repository) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    explorer = HistoryExplorer().select("training_pipeline", "second", "importer", "test")
    explorer.load_into("df")
    assert isinstance(shell.user_ns["df"], pd.DataFrame) and len(shell.user_ns["df"]) == 10
    del shell.user_ns["df"]


def test_refresh_shows_new_runs_and_status_changes(history: Repository) -> None:
    import zw_testing as t

    explorer = HistoryExplorer().select("training_pipeline")
    store = history.active_stack.metadata_store
    pipeline_id = explorer.current.id
    running = store.create_run(pipeline_id, "in-progress", pid=None, hostname="another-host")
    t.make_training(epochs=3).run(run_name="third", repository=history)
    assert [x.split()[0] for x in labels(explorer.ui.run)] == ["second", "first"]
    explorer.ui.refresh.click()
    run_labels = labels(explorer.ui.run)
    assert [x.split()[0] for x in run_labels] == ["third", "in-progress", "second", "first"]
    assert "running" in run_labels[1]
    explorer.select("training_pipeline", "in-progress")
    assert 'zw-status zw-running">running' in explorer.ui.preview.value
    store.finish_run(running.id, "completed")
    explorer.refresh()
    assert "completed" in labels(explorer.ui.run)[1] and explorer.run_name == "in-progress"
    assert 'zw-status zw-completed">completed' in explorer.ui.preview.value


def test_several_stacks(history: Repository, tmp_path: Path) -> None:
    history.register_stack("other", f"sqlite:///{tmp_path}/other.db", str(tmp_path / "art"))
    repo = Repository(history.root)
    store = repo.get_stack("other").metadata_store
    record = store.get_or_create_pipeline("other_pipeline")
    store.finish_run(store.create_run(record.id, "o-1", pid=None, hostname="h").id, "completed")

    explorer = HistoryExplorer(repo)
    assert explorer.ui.stack.layout.display == ""
    assert labels(explorer.ui.stack) == ["default (active)", "other"]
    explorer.ui.stack.value = "other"
    assert explorer.stack_key == "other"
    assert labels(explorer.ui.pipeline) == ["other_pipeline"]
    explorer.select("other_pipeline", "o-1")
    assert explorer.code == (
        'Repository().get_pipeline("other_pipeline", stack_key="other").get_run("o-1")'
    )
    with pytest.raises(NotFoundError, match="Its stacks are: 'default', 'other'"):
        HistoryExplorer(repo, stack_key="nope")


def test_repository_elsewhere_is_named_in_the_code(
    history: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    explorer = HistoryExplorer(history.root / ".zen").select("training_pipeline")
    assert explorer.code == f'Repository("{history.root}").get_pipeline("training_pipeline")'
    assert eval(explorer.code, {"Repository": Repository}) == explorer.current


def test_names_are_escaped_and_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zw_testing as t

    repo = Repository.init(tmp_path)
    monkeypatch.chdir(tmp_path)
    name = "<img src=x onerror=alert(1)> \"q\" 'x'"
    t.make_training().run(run_name=name, repository=repo)
    explorer = HistoryExplorer().select("training_pipeline", name)
    assert "<img src=x" not in explorer.ui.preview.value
    assert "&lt;img src=x" in explorer.ui.preview.value
    assert eval(explorer.code, {"Repository": Repository}).name == name


def test_statistics_button(history: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    class FakeVisualizer:
        def __init__(self, **options: Any) -> None:
            seen.append(options)

        def visualize(self, artifact: Any) -> None:
            seen.append(artifact)

    fake = types.ModuleType(data_panel.FACETS_MODULE)
    fake.FacetStatisticsVisualizer = FakeVisualizer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, data_panel.FACETS_MODULE, fake)
    explorer = HistoryExplorer().select("training_pipeline", "first", "importer", "train")
    explorer.ui.statistics.click()
    limit = {"streaming_min_bytes": explorer.auto_read_limit}
    assert seen == [limit, explorer.current] and explorer.error == ""

    class FileVisualizer:  # outside a notebook the real one writes a file and returns its path
        def __init__(self, **options: Any) -> None:
            pass

        def visualize(self, artifact: Any) -> Path:
            return Path("/tmp/stats.html")

    fake.FacetStatisticsVisualizer = FileVisualizer  # type: ignore[attr-defined]
    explorer.ui.statistics.click()
    assert "statistics written to <code>/tmp/stats.html</code>" in explorer.ui.status.value

    monkeypatch.setitem(sys.modules, data_panel.FACETS_MODULE, None)  # not installed
    explorer.ui.statistics.click()
    assert "Facets statistics are not available" in explorer.error
    assert "pip install" in explorer.ui.message.value


def test_the_code_box_cannot_be_edited_away(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "first")
    explorer.ui.code.value = "something else"
    assert explorer.ui.code.value == explorer.code


def test_importing_the_package_does_not_import_widgets() -> None:
    import subprocess

    code = "import zenml_widgets, sys; print('ipywidgets' in sys.modules, 'IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_reading_shows_the_size_and_progress_then_the_time(
    history: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipywidgets

    explorer = HistoryExplorer().select("training_pipeline", "first", "importer")
    progress, status = explorer.ui.progress, explorer.ui.status
    assert progress.layout.display == "none"
    seen: dict[str, Any] = {}
    sent: list[tuple[Any, Any]] = []
    original_read, original_send = ArtifactView.read, ipywidgets.Widget.send_state

    def slow_read(self: ArtifactView, *args: Any, **kwargs: Any) -> Any:
        seen.update(
            display=progress.layout.display,
            state=progress.get_state(),
            status=status.value,
            sent=list(sent),
        )
        return original_read(self, *args, **kwargs)

    def recording_send(widget: Any, key: Any = None) -> None:
        sent.append((widget, key))
        original_send(widget, key)

    monkeypatch.setattr(ArtifactView, "read", slow_read)
    monkeypatch.setattr(ipywidgets.Widget, "send_state", recording_send)
    explorer.ui.output.value = "train"
    size = explorer.current.size_bytes
    assert seen["display"] == ""  # shown while reading
    assert seen["state"]["bar_style"] == "info" and seen["state"]["value"] == 1
    assert seen["state"]["description"] == f"reading {fmt_size(size)}"
    assert "Reading <code>train</code>" in seen["status"] and fmt_size(size) in seen["status"]
    # the page is told before the read starts, not when the whole change is done
    assert any(w is progress.layout for w, _ in seen["sent"])
    assert any(w is status for w, _ in seen["sent"])
    assert progress.layout.display == "none"
    assert re.search(r"<code>train</code> \(.+\) read in \d+\.\d\d s", status.value)


def test_a_failed_read_hides_the_progress(history: Repository) -> None:
    explorer = HistoryExplorer().select("training_pipeline", "first", "importer")
    shutil.rmtree(explorer.current.outputs["train"].uri)
    explorer.ui.output.value = "train"
    assert explorer.error.startswith("ArtifactReadError")
    assert explorer.ui.progress.layout.display == "none" and explorer.ui.status.value == ""


def test_select_from_code_raises_store_errors(
    history: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml_widgets.exceptions import StoreError
    from zenml_widgets.store import MetadataStore

    explorer = HistoryExplorer()

    def down(*_args: Any, **_kwargs: Any) -> None:
        raise StoreError("the database server went away")

    monkeypatch.setattr(MetadataStore, "list_runs", down)
    with pytest.raises(StoreError, match="went away"):
        explorer.select("training_pipeline")
    assert "went away" in explorer.error  # shown in the widget as well
    explorer.ui.pipeline.value = None
    explorer.ui.pipeline.value = "training_pipeline"  # a UI change: shown, never raised
    assert "went away" in explorer.error and "went away" in explorer.ui.message.value


def test_a_display_layer_that_fails_to_import_is_reported_every_time(
    history: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from zenml_widgets import rendering

    monkeypatch.setattr(rendering, "_loaded", False)
    real = importlib.import_module

    def broken(name: str, *args: Any) -> Any:
        if name.startswith("zenml_widgets.display"):
            raise ImportError("display is broken")
        return real(name, *args)

    monkeypatch.setattr(rendering.importlib, "import_module", broken)
    run = history.get_pipeline("training_pipeline").get_run("first")
    for _ in range(2):
        bundle = run._repr_mimebundle_()
        assert "display is broken" in bundle["text/plain"]
    monkeypatch.setattr(rendering.importlib, "import_module", real)
    assert "display is broken" not in run._repr_mimebundle_()["text/plain"]
