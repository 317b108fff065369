"""``%zenml_history`` in a real IPython shell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zw_testing as t
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from zenml_widgets import HistoryExplorer
from zenml_widgets.magics import HistoryMagics
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A shell with the extension loaded, in a repository with two training runs."""
    repo = Repository.init(tmp_path / "repo")
    t.make_training(epochs=1).run(run_name="first", repository=repo)
    t.make_training(epochs=2).run(run_name="second", repository=repo)
    monkeypatch.chdir(repo.root)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "zenml_widgets")
    yield ip
    ip.run_line_magic("unload_ext", "zenml_widgets")
    forget_metadata_stores()


def test_no_argument_opens_the_explorer(shell: InteractiveShell) -> None:
    explorer = shell.run_line_magic("zenml_history", "")
    assert isinstance(explorer, HistoryExplorer) and explorer.pipeline_name is None
    assert explorer.ui.pipeline.get_state()["_options_labels"] == ("training_pipeline",)


def test_preselection(shell: InteractiveShell) -> None:
    explorer = shell.run_line_magic("zenml_history", "training_pipeline latest importer train")
    assert (explorer.pipeline_name, explorer.run_name) == ("training_pipeline", "second")
    assert (explorer.step_name, explorer.output_name) == ("importer", "train")
    assert explorer.code.endswith('get_run("second").get_step("importer").outputs["train"].read()')
    assert shell.run_line_magic("zenml_history", "training_pipeline first").run_name == "first"


def test_the_cell_result_is_the_explorer(shell: InteractiveShell) -> None:
    result = shell.run_cell("%zenml_history training_pipeline")
    assert result.success and isinstance(result.result, HistoryExplorer)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("trainingpipeline", "No pipeline 'trainingpipeline'.*Did you mean 'training_pipeline'"),
        ("training_pipeline third", "No run 'third'.*'second', 'first'"),
        ("training_pipeline first nope", "No step 'nope'.*'importer', 'trainer', 'evaluator'"),
        ("training_pipeline first importer nope", "No output 'nope'.*'train', 'test'"),
        ("--stack prod", "No stack 'prod'.*'default'"),
        ("--page-size x", "invalid int value"),
    ],
)
def test_unknown_names_are_usage_errors(shell: InteractiveShell, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic("zenml_history", line)


def test_no_repository(shell: InteractiveShell, tmp_path: Path, monkeypatch: Any) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    monkeypatch.delenv("ZENML_WIDGETS_REPOSITORY", raising=False)
    with pytest.raises(UsageError, match="zenml-widgets init"):
        shell.run_line_magic("zenml_history", "")
    explorer = shell.run_line_magic("zenml_history", f"-r {tmp_path / 'repo'} training_pipeline")
    assert explorer.code == f'Repository("{tmp_path / "repo"}").get_pipeline("training_pipeline")'


def test_help_lists_the_arguments() -> None:
    doc = HistoryMagics.zenml_history.__doc__ or ""
    for word in ("%zenml_history", "--stack KEY", "pipeline", "run", "step", "output", "latest"):
        assert word in doc
