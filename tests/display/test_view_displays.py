"""The rich displays of views: papercuts of issue 20 (section 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
import zw_testing as t

from zenml_widgets.repository import Repository


def test_empty_cached_cells_say_no(first_run: Repository) -> None:
    step = first_run.get_pipeline("training_pipeline").get_run("first").get_step("importer")
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


def test_an_artifact_shows_its_content_without_being_read_whole(
    first_run: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml_widgets.materializers.pandas_materializer import PandasMaterializer

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole artifact was read")

    monkeypatch.setattr(PandasMaterializer, "handle_input", never)
    run = first_run.get_pipeline("training_pipeline").get_run("first")
    html = run.get_step("importer").outputs["train"]._repr_mimebundle_()["text/html"]
    assert "40 rows, 2 columns" in html  # the recorded shape
    assert "<td>x</td><td>float64</td>" in html  # dtypes, from the parquet footer
    assert "head(10)" in html and "<th>label</th>" in html  # the first rows
    metrics = run.get_step("evaluator").output._repr_mimebundle_()["text/html"]
    assert "&quot;score&quot;" in metrics and "&quot;rows&quot;: 10" in metrics  # a small dict


def test_a_failing_content_preview_is_a_note_not_an_error(
    first_run: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml_widgets.views import ArtifactView

    def broken(self: object) -> str:
        raise OSError("disk on fire")

    monkeypatch.setattr(ArtifactView, "preview_html", broken)
    output = first_run.get_pipeline("training_pipeline").get_run("first").get_step("trainer").output
    html = output._repr_mimebundle_()["text/html"]
    assert "No preview: OSError: disk on fire" in html and "produced in" in html
