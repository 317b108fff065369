"""The runner: recording, parameters, caching, failures, name clashes."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import zw_testing as t

from zenml_widgets import Output, pipeline, step
from zenml_widgets.exceptions import (
    MaterializerNotFoundError,
    PipelineDefinitionError,
    RunNameClashError,
    StepFailedError,
)
from zenml_widgets.materializers import BaseMaterializer
from zenml_widgets.repository import Repository


def test_run_records_steps_parameters_and_lineage(repo: Repository) -> None:
    run = t.make_training(n_rows=50, epochs=5).run(run_name="first", repository=repo)
    assert run.name == "first"
    assert run.status == "completed"
    assert run.end_time is not None and run.duration is not None
    assert [s.name for s in run.steps] == ["importer", "trainer", "evaluator"]
    importer, trainer, evaluator = run.steps
    assert importer.parameters == {"n_rows": 50, "seed": 0}  # defaults included
    assert trainer.parameters == {"epochs": 5}
    assert evaluator.entrypoint_name == "evaluate_model"
    assert set(importer.outputs) == {"train", "test"}
    assert evaluator.inputs["score"] == trainer.output
    assert evaluator.inputs["test"] == importer.outputs["test"]
    assert [p.name for p in evaluator.parent_steps] == ["importer", "trainer"]
    assert evaluator.output.read() == {"rows": 10, "score": trainer.output.read()}
    assert importer.outputs["train"].data_type == "pandas.DataFrame"
    assert importer.outputs["train"].materializer.endswith("PandasMaterializer")
    assert t.CALLS == ["importer", "trainer", "evaluator"]


def test_default_run_name_is_pipeline_and_timestamp(repo: Repository) -> None:
    run = t.make_training().run(repository=repo)
    assert re.fullmatch(r"training_pipeline-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d_\d{6}", run.name)


def test_cache_hit_reuses_outputs_without_running(repo: Repository) -> None:
    first = t.make_training().run(repository=repo)
    t.CALLS.clear()
    second = t.make_training().run(repository=repo)
    assert t.CALLS == []
    assert [s.status for s in second.steps] == ["cached"] * 3
    assert all(s.is_cached for s in second.steps)
    assert second.steps[0].outputs["train"].uri == first.steps[0].outputs["train"].uri
    assert second.steps[0].outputs["train"].is_cached
    assert second.steps[0].source_step == first.steps[0]
    assert second.steps[1].output.producer_step == first.steps[1]
    pd.testing.assert_frame_equal(
        second.steps[0].outputs["train"].read(), first.steps[0].outputs["train"].read()
    )


def test_parameter_change_reruns_that_step_and_downstream(repo: Repository) -> None:
    t.make_training(epochs=5).run(repository=repo)
    t.CALLS.clear()
    run = t.make_training(epochs=6).run(repository=repo)
    assert [s.status for s in run.steps] == ["cached", "completed", "completed"]
    assert t.CALLS == ["trainer", "evaluator"]


def test_upstream_change_reruns_downstream(repo: Repository) -> None:
    t.make_training(seed=0).run(repository=repo)
    t.CALLS.clear()
    run = t.make_training(seed=1).run(repository=repo)
    assert [s.status for s in run.steps] == ["completed"] * 3


def test_code_change_misses_the_cache(repo: Repository, tmp_path: Path) -> None:
    source = """
from zenml_widgets import step, pipeline

@step
def make() -> int:
    return {value}

@pipeline
def p(make):
    make()
"""
    with t.module_versions(tmp_path, "mod_code_change", source) as load:
        mod = load(value=1)
        first = mod.p(make=mod.make()).run(repository=repo)
        mod = load(value=2)
        second = mod.p(make=mod.make()).run(repository=repo)
    assert second.steps[0].status == "completed"
    assert second.steps[0].code_hash != first.steps[0].code_hash
    assert second.steps[0].output.read() == 2


def test_enable_cache_false_on_step_and_pipeline(repo: Repository) -> None:
    @step(enable_cache=False)
    def fresh() -> int:
        return 1

    @pipeline
    def p1(fresh):
        fresh()

    @pipeline(name="p2", enable_cache=False)
    def p2(importer):
        importer()

    p1(fresh=fresh()).run(repository=repo)
    again = p1(fresh=fresh()).run(repository=repo).steps[0]
    assert again.status == "completed" and again.cache_enabled is False
    p2(importer=t.importer()).run(repository=repo)
    again = p2(importer=t.importer()).run(repository=repo).steps[0]
    assert again.status == "completed" and again.cache_enabled is False
    assert t.make_training().run(repository=repo).steps[0].cache_enabled is True


def test_failing_step_marks_run_failed_and_keeps_earlier_outputs(repo: Repository) -> None:
    p = t.failing_pipeline(importer=t.importer(n_rows=20), exploding=t.exploding())
    with pytest.raises(StepFailedError) as info:
        p.run(run_name="bad", repository=repo)
    assert "'exploding'" in str(info.value) and "boom in the step" in str(info.value)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    run = repo.get_pipeline("failing_pipeline").get_run("bad")
    assert run.status == "failed"
    assert "exploding" in (run.error or "")
    importer, exploding = run.steps
    assert importer.status == "completed"
    assert exploding.status == "failed"
    assert "ZeroDivisionError" in (exploding.error or "")
    assert importer.outputs["train"].read().shape == (16, 2)


def test_run_name_clash_is_refused_before_anything_runs(repo: Repository) -> None:
    t.make_training().run(run_name="same", repository=repo)
    t.CALLS.clear()
    with pytest.raises(RunNameClashError, match="'same'"):
        t.make_training(epochs=9).run(run_name="same", repository=repo)
    assert t.CALLS == []
    assert len(repo.get_pipeline("training_pipeline").runs) == 1


def test_unregistered_return_type_names_the_type_and_the_fix(repo: Repository) -> None:
    class Custom:
        pass

    @step
    def makes_custom() -> Custom:
        return Custom()

    @pipeline
    def custom_pipeline(makes_custom):
        makes_custom()

    with pytest.raises(StepFailedError) as info:
        custom_pipeline(makes_custom=makes_custom()).run(repository=repo)
    cause = info.value.__cause__
    assert isinstance(cause, MaterializerNotFoundError)
    assert "Custom" in str(cause) and "BaseMaterializer" in str(cause)
    assert "ASSOCIATED_TYPES" in str(cause)


def test_wrong_return_type_for_annotation_fails_the_step(repo: Repository) -> None:
    @step
    def liar() -> pd.DataFrame:
        return 3  # type: ignore[return-value]

    @pipeline
    def liar_pipeline(liar):
        liar()

    with pytest.raises(StepFailedError, match="annotated DataFrame"):
        liar_pipeline(liar=liar()).run(repository=repo)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: t.importer(rows=3), "no parameter 'rows'"),
        (lambda: t.importer(n_rows=object()), "JSON-serializable"),
        (lambda: t.importer(n_rows={1: "a"}), "dict keys must be strings"),
        (lambda: t.importer(n_rows=[{"a": {2: 3}}]), "int key 2"),
        (
            lambda: t.training_pipeline(
                importer=t.importer, trainer=t.trainer(), evaluator=t.evaluator()
            ),
            "step class",
        ),
        (lambda: t.training_pipeline(importer=t.importer(), trainer=t.trainer()), "evaluator"),
    ],
)
def test_definition_errors_are_clear(build: object, message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=message):
        build()  # type: ignore[operator]


def test_step_called_outside_a_pipeline_says_how_to_use_it() -> None:
    with pytest.raises(PipelineDefinitionError, match="inside a @pipeline"):
        t.trainer()()


def test_unwired_argument_without_default_fails_before_running(repo: Repository) -> None:
    @pipeline
    def unwired(importer, trainer):
        importer()
        trainer()

    with pytest.raises(PipelineDefinitionError, match="'train'"):
        unwired(importer=t.importer(), trainer=t.trainer()).run(repository=repo)
    assert t.CALLS == []


def test_run_without_repository_creates_one_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZENML_WIDGETS_REPOSITORY", raising=False)
    run = t.make_training().run()
    assert "created one in" in capsys.readouterr().err
    assert (tmp_path / ".zen" / "config.json").is_file()
    assert Repository(tmp_path).get_pipeline("training_pipeline").runs[-1] == run


@pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 256])
def test_bad_run_names_are_refused(repo: Repository, name: str) -> None:
    with pytest.raises(PipelineDefinitionError):
        t.make_training().run(run_name=name, repository=repo)
    assert repo.get_pipelines() == []


def test_any_and_unannotated_returns_are_accepted(repo: Repository) -> None:
    from typing import Any

    @step
    def anything() -> Any:
        return {"a": 1}

    @step
    def bare():  # type: ignore[no-untyped-def]
        return [1, 2]

    @pipeline
    def loose(anything, bare):
        anything()
        bare()

    run = loose(anything=anything(), bare=bare()).run(repository=repo)
    assert run.steps[0].output.read() == {"a": 1}
    assert run.steps[1].output.read() == [1, 2]


def test_unrecordable_default_parameter_fails_before_running(repo: Repository) -> None:
    @step
    def odd_default(lookup: dict = {1: "one"}) -> int:  # noqa: B006
        return len(lookup)

    @pipeline
    def odd(odd_default):
        odd_default()

    with pytest.raises(PipelineDefinitionError, match=r"'lookup'.*dict keys must be strings"):
        odd(odd_default=odd_default()).run(repository=repo)
    assert repo.get_pipelines() == []


def test_an_unresolvable_output_annotation_is_named(tmp_path: Path, repo: Repository) -> None:
    source = """
from __future__ import annotations
from zenml_widgets import step, pipeline, Output
{imports}

@step
def split() -> Output(a=pd.DataFrame, b=int):
    return None, 1

@pipeline
def p(split):
    split()
"""
    with t.module_versions(tmp_path, "mod_unresolved", source) as load:
        mod = load(imports="")  # pandas used in the annotation but never imported
        with pytest.raises(PipelineDefinitionError, match=r"return annotation .*Output\(a=pd"):
            mod.p(split=mod.split()).run(repository=repo)
        assert repo.get_pipelines() == []
        mod = load(imports="import pandas as pd")
        assert [n for n, _ in mod.split.output_spec()] == ["a", "b"]
    lazy = source.replace("Output(a=pd.DataFrame, b=int)", "keras.Model")
    with t.module_versions(tmp_path, "mod_lazy_type", lazy) as load:
        mod = load(imports="")  # a type imported lazily is still one output, of unknown type
        assert mod.split.output_spec() == [("output", "keras.Model")]


class Unwritable:
    """A value whose materializer fails half-way through writing it."""


class UnwritableMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = (Unwritable,)

    def handle_return(self, data: Unwritable) -> None:
        with self.artifact.open("part.bin", "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    def handle_input(self, data_type: type) -> Unwritable:
        return Unwritable()


def test_outputs_are_published_all_or_none(repo: Repository) -> None:
    @step
    def two_outputs() -> Output(table=pd.DataFrame, broken=Unwritable):
        return pd.DataFrame({"a": [1, 2]}), Unwritable()

    @pipeline
    def half_written(two_outputs):
        two_outputs()

    with pytest.raises(StepFailedError, match="disk full"):
        half_written(two_outputs=two_outputs()).run(run_name="half", repository=repo)
    run = repo.get_pipeline("half_written").get_run("half")
    assert run.get_step("two_outputs").status == "failed"
    assert run.get_step("two_outputs").outputs == {}
    root = Path(repo.active_stack.artifact_root)
    published = [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]
    assert published == []  # the DataFrame written first was never published alone
    assert not list((root / ".tmp").iterdir())  # and the temporary folders are gone
