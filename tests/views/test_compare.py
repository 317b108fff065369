"""Why a step re-ran (``views.lineage``) and run comparisons (``views.compare``), on real runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import zw_testing as t

from zenml_widgets import pipeline, step
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository
from zenml_widgets.views.compare import MISSING, compare_runs
from zenml_widgets.views.lineage import explain_run, explain_step, previous_step

# --- why a step ran ----------------------------------------------------------------------------


def test_first_run_ever(repo: Repository) -> None:
    run = t.make_training().run(run_name="first", repository=repo)
    why = explain_run(run)
    assert list(why) == ["importer", "trainer", "evaluator"]
    assert {e.kind for e in why.values()} == {"first"}
    assert "no earlier run" in why["trainer"].summary


def test_cached_step_names_the_run_that_produced_its_outputs(repo: Repository) -> None:
    t.make_training().run(run_name="first", repository=repo)
    second = t.make_training().run(run_name="second", repository=repo)
    why = explain_step(second.get_step("trainer"))
    assert why.kind == "cached"
    assert why.source is not None and why.source.run.name == "first"
    assert why.summary == "cached: reused the outputs of step 'trainer' in run 'first'"


def test_parameter_change_names_the_keys(repo: Repository) -> None:
    t.make_training(epochs=1).run(run_name="one", repository=repo)
    run = t.make_training(epochs=2).run(run_name="two", repository=repo)
    why = explain_run(run)
    assert why["importer"].kind == "cached"
    trainer = why["trainer"]
    assert (trainer.kind, trainer.reasons, trainer.changed_parameters) == (
        "changed",
        ("parameters",),
        ("epochs",),
    )
    assert trainer.previous is not None and trainer.previous.run.name == "one"
    assert "parameters changed (epochs)" in trainer.summary
    assert "compared with run 'one'" in trainer.summary


def test_upstream_output_change_names_the_input_and_the_upstream_step(repo: Repository) -> None:
    t.make_training(n_rows=50).run(run_name="small", repository=repo)
    run = t.make_training(n_rows=60).run(run_name="bigger", repository=repo)
    trainer = explain_step(run.get_step("trainer"))
    assert trainer.reasons == ("inputs",)
    assert trainer.changed_parameters == ()
    [change] = trainer.changed_inputs
    assert (change.name, change.upstream_step, change.upstream_output) == (
        "train",
        "importer",
        "train",
    )
    assert change.upstream is not None and change.upstream.changed_parameters == ("n_rows",)
    assert "input 'train'" in trainer.summary
    assert "parameters changed (n_rows)" in trainer.summary  # the root cause, upstream
    evaluator = explain_step(run.get_step("evaluator"))
    assert [c.name for c in evaluator.changed_inputs] == ["score", "test"]


def test_code_edit(repo: Repository, tmp_path: Path) -> None:
    source = """
from zenml_widgets import step, pipeline

@step
def make(factor: int = 2) -> int:
    return {value} * factor

@pipeline
def p(make):
    make()
"""
    with t.module_versions(tmp_path, "mod_explain_code", source) as load:
        mod = load(value=1)
        mod.p(make=mod.make()).run(run_name="before", repository=repo)
        mod = load(value=2)
        after = mod.p(make=mod.make()).run(run_name="after", repository=repo)
    why = explain_step(after.steps[0])
    assert (why.kind, why.reasons) == ("changed", ("code",))
    assert why.summary == "re-ran: code changed, compared with run 'before'"


def test_enable_cache_false(repo: Repository) -> None:
    @step(enable_cache=False)
    def fresh(n: int = 1) -> int:
        return n

    @pipeline
    def uncached(fresh):
        fresh()

    uncached(fresh=fresh()).run(run_name="a", repository=repo)
    run = uncached(fresh=fresh()).run(run_name="b", repository=repo)
    why = explain_step(run.steps[0])
    assert (why.kind, why.reasons) == ("not_cached", ("cache_disabled",))
    assert "enable_cache=False" in why.summary


def test_caching_on_with_outputs_present_never_says_caching_is_off(repo: Repository) -> None:
    import shutil

    first = t.make_training(epochs=1).run(run_name="one", repository=repo)
    folder = Path(first.get_step("importer").outputs["train"].uri)
    hidden = folder.with_name(folder.name + "-hidden")
    folder.rename(hidden)  # unavailable while the next run looks for it (e.g. a storage outage)
    second = t.make_training(epochs=1).run(run_name="two", repository=repo)
    hidden.rename(folder)
    shutil.rmtree(hidden, ignore_errors=True)
    why = explain_step(second.get_step("importer"))
    assert (why.kind, why.reasons) == ("not_cached", ("outputs_unavailable",))
    assert "caching is off" not in why.summary
    assert "caching was on" in why.summary and "could not be found when it ran" in why.summary


def test_compared_with_the_most_recent_earlier_run_having_that_step(repo: Repository) -> None:
    t.make_training(epochs=1).run(run_name="one", repository=repo)
    t.make_training(epochs=2).run(run_name="two", repository=repo)
    third = t.make_training(epochs=1).run(run_name="three", repository=repo)
    # 'three' matches 'one' exactly and is cached from it, but 'two' is the one compared with
    assert explain_step(third.get_step("trainer")).kind == "cached"
    before = previous_step(third.get_step("trainer"))
    assert before is not None and before.run.name == "two"
    other = t.failing_pipeline(importer=t.importer(), exploding=t.exploding())
    with pytest.raises(Exception, match="boom"):
        other.run(run_name="x", repository=repo)
    failed = repo.get_pipeline("failing_pipeline").get_run("x")
    assert explain_step(failed.get_step("exploding")).kind == "first"  # other pipeline's history


# --- comparing runs ----------------------------------------------------------------------------


def test_compare_runs_parameters_status_and_types(repo: Repository) -> None:
    a = t.make_training(epochs=1).run(run_name="a", repository=repo)
    b = t.make_training(epochs=3).run(run_name="b", repository=repo)
    comparison = compare_runs(a, b)
    assert comparison.parameter_diff == {"trainer": {"epochs": (1, 3)}}
    everything = compare_runs(a, b, show_all=True).parameter_diff
    assert everything["importer"] == {"n_rows": (50, 50), "seed": (0, 0)}
    assert "evaluator" not in everything  # no parameters at all
    # importer: completed -> cached; trainer: parameters; evaluator: re-ran on a new score
    assert comparison.differing_steps == ["importer", "trainer"]
    importer = comparison.step("importer")
    assert importer.status_changed and importer.cache_changed
    assert not comparison.step("evaluator").differs
    assert comparison.output_types[("importer", "train")] == ("pandas.DataFrame",) * 2
    assert comparison.output_types[("trainer", "output")] == ("builtins.float",) * 2
    assert comparison.only_in_a == comparison.only_in_b == []
    bundle = comparison._repr_mimebundle_()
    assert "epochs" in bundle["text/plain"] and "Changed parameters" in bundle["text/html"]
    with pytest.raises(NotFoundError, match="'trainer'"):
        comparison.step("trainr")


def test_compare_output_frames(repo: Repository) -> None:
    a = t.make_training(n_rows=50).run(run_name="a", repository=repo)
    b = t.make_training(n_rows=100).run(run_name="b", repository=repo)
    output = compare_runs(a, b).output("importer", "train")
    assert output.labels == ("A: a", "B: b")
    assert list(output.artifacts) == ["A: a", "B: b"]
    diff = output.frame_diff()
    assert diff.rows == (40, 80) and diff.same_schema
    bundle = output._repr_mimebundle_()
    assert "rows: 40 vs 80" in bundle["text/plain"]
    assert "A: a" in bundle["text/html"] and "B: b" in bundle["text/html"]
    assert "Numeric features" in bundle["text/html"]  # Facets statistics side by side
    with pytest.raises(ValueError, match="2 outputs"):
        compare_runs(a, b).output("importer")


@step
def shaped(wide: bool = False) -> pd.DataFrame:
    if wide:
        return pd.DataFrame({"x": [1.0, 2.0, 3.0], "extra": ["a", "b", "c"]})
    return pd.DataFrame({"x": [1, 2], "gone": [True, False]})


def test_compare_across_pipelines_with_column_diff(repo: Repository) -> None:
    @pipeline
    def narrow_pipeline(shaped):
        shaped()

    @pipeline
    def wide_pipeline(shaped):
        shaped()

    a = narrow_pipeline(shaped=shaped()).run(run_name="n", repository=repo)
    b = wide_pipeline(shaped=shaped(wide=True)).run(run_name="w", repository=repo)
    comparison = compare_runs(a, b)
    assert comparison.parameter_diff == {"shaped": {"wide": (False, True)}}
    diff = comparison.output("shaped").frame_diff()
    assert diff.rows == (2, 3)
    assert (diff.added, diff.removed) == (("extra",), ("gone",))
    assert diff.dtype_changed == {"x": ("int64", "float64")}
    assert "narrow_pipeline / n" in comparison._repr_mimebundle_()["text/plain"]


def test_steps_in_one_run_only(repo: Repository) -> None:
    a = t.make_training().run(run_name="a", repository=repo)
    with pytest.raises(Exception, match="boom"):
        t.failing_pipeline(importer=t.importer(), exploding=t.exploding()).run(
            run_name="f", repository=repo
        )
    f = repo.get_pipeline("failing_pipeline").get_run("f")
    comparison = compare_runs(a, f)
    assert comparison.only_in_a == ["trainer", "evaluator"]
    assert comparison.only_in_b == ["exploding"]
    assert comparison.step("exploding").output_types == {}
    assert comparison.parameter_diff["trainer"] == {"epochs": (5, MISSING)}
    assert "—" in comparison._repr_mimebundle_()["text/html"]


def test_why_it_reran_costs_the_same_queries_however_long_the_history(
    tmp_path: Path, count_queries: Callable[[Repository], list[str]]
) -> None:
    """The earlier namesake of every step comes from one query (a join over earlier runs'
    steps), not one query per earlier run looked at."""
    counts = []
    for bulk in (3, 60):
        repo = t.make_repo(tmp_path / f"h{bulk}")
        t.make_training(epochs=1).run(run_name="first", repository=repo)
        t.bulk_runs(repo, "training_pipeline", bulk)  # runs without these steps in between
        last = t.make_training(epochs=2).run(run_name="last", repository=repo)
        statements = count_queries(repo)
        why = explain_run(last)
        assert why["trainer"].previous is not None
        assert why["trainer"].previous.run.name == "first"  # found past the bulk runs
        assert "parameters changed (epochs)" in why["trainer"].summary
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] < 30


DAG_WITHOUT_PANDAS = """
import sys
from zenml_widgets.repository import Repository
from zenml_widgets.display.dag import PipelineRunDagVisualizer, RunDag
run = Repository().get_pipeline("ints").runs[-1]
html = RunDag(run).html
assert "<svg" in html
print(sorted(m for m in ("pandas", "pyarrow", "numpy") if m in sys.modules))
"""


def test_drawing_a_dag_imports_neither_pandas_nor_pyarrow(tmp_path: Path) -> None:
    @step
    def one() -> int:
        return 1

    @step
    def two(x: int) -> int:
        return x + 1

    @pipeline
    def ints(one, two):
        two(x=one())

    repo = t.make_repo(tmp_path / "r")
    ints(one=one(), two=two()).run(repository=repo)
    ints(one=one(), two=two()).run(repository=repo)
    out = t.run_python(DAG_WITHOUT_PANDAS, cwd=repo.root)
    assert out.strip().splitlines()[-1] == "[]"
