"""The rich displays of views: papercuts of issue 20 (section 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
import zw_testing as t

from zenml_widgets.repository import Repository


@pytest.fixture
def history(tmp_path: Path) -> Repository:
    repo = Repository.init(tmp_path / "repo")
    t.make_training().run(run_name="first", repository=repo)
    return repo


def test_empty_cached_cells_say_no(history: Repository) -> None:
    step = history.get_pipeline("training_pipeline").get_run("first").get_step("importer")
    html = step._repr_mimebundle_()["text/html"]
    assert html.count("<td>no</td>") == 2  # train and test, written by this step
    assert "<td></td>" not in html


def test_a_cached_artifact_names_the_run_that_wrote_it(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "cached")
    t.make_training().run(run_name="day-01", repository=repo)
    t.make_training().run(run_name="day-11", repository=repo)
    run = repo.get_pipeline("training_pipeline").get_run("day-11")
    train = run.get_step("importer").outputs["train"]
    assert train.is_cached
    bundle = train._repr_mimebundle_()
    html = bundle["text/html"]
    produced = html.split("produced in")[1].split("</tr>")[0]
    assert "day-01" in produced and "day-11" not in produced
    reused = html.split("reused in")[1].split("</tr>")[0]
    assert "day-11" in reused
    assert "produced in day-01/importer, reused in day-11/importer" in bundle["text/plain"]

    fresh = repo.get_pipeline("training_pipeline").get_run("day-01").get_step("importer")
    assert "reused in" not in fresh.outputs["train"]._repr_mimebundle_()["text/html"]
