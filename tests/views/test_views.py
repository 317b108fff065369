"""The accessor views: lazy, read-only, hashable, clear errors, safe display."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import zw_testing as t

from zenml_widgets import Output, pipeline, step
from zenml_widgets.exceptions import ArtifactReadError, NotFoundError
from zenml_widgets.materializers import BuiltInMaterializer, PandasMaterializer
from zenml_widgets.repository import Repository
from zenml_widgets.views import PipelineRunView


@pytest.fixture
def history(repo: Repository) -> Repository:
    for i in range(5):
        t.make_training(epochs=i + 1).run(run_name=f"run-{i}", repository=repo)
    return repo


def test_runs_are_a_chronological_lazy_sequence(history: Repository) -> None:
    runs = history.get_pipeline("training_pipeline").runs
    assert len(runs) == 5
    assert runs[0].name == "run-0" and runs[-1].name == "run-4" and runs[-2].name == "run-3"
    assert [r.name for r in runs[1:4]] == ["run-1", "run-2", "run-3"]
    assert [r.name for r in runs[::-2]] == ["run-4", "run-2", "run-0"]
    assert [r.name for r in runs] == [f"run-{i}" for i in range(5)]
    assert [r.name for r in reversed(runs)] == [f"run-{i}" for i in reversed(range(5))]
    assert [r.name for r in runs.newest(2)] == ["run-4", "run-3"]
    assert "run-2" in runs and "nope" not in runs
    with pytest.raises(IndexError, match="has 5 runs"):
        runs[5]
    with pytest.raises(IndexError):
        runs[-6]


def test_new_runs_appear_on_next_access(history: Repository) -> None:
    pipeline_view = history.get_pipeline("training_pipeline")
    runs = pipeline_view.runs
    assert len(runs) == 5
    t.make_training(epochs=99).run(run_name="late", repository=history)
    assert len(runs) == 6 and runs[-1].name == "late"
    assert pipeline_view.get_run_names()[-1] == "late"


def test_nothing_is_queried_until_a_property_is_read(
    history: Repository, count_queries: Callable[[Repository], list[str]]
) -> None:
    pipeline_view = history.get_pipeline("training_pipeline")
    queries = count_queries(history)
    runs = pipeline_view.runs
    assert queries == []
    latest = runs[-1]
    assert len(queries) == 1 and "LIMIT" in queries[0].upper()
    assert "count(" not in queries[0].lower()
    assert latest.name == "run-4"
    assert len(queries) == 1
    steps = latest.steps  # the run's graph: steps, outputs, inputs, read in one batch
    graph = queries[1:]
    assert graph and all(q.startswith("SELECT") for q in graph)
    step_view = steps[1]
    assert step_view.parameters == {"epochs": 5}
    assert step_view.outputs and step_view.inputs and step_view.parent_steps == [steps[0]]
    assert queries[1:] == graph  # read along: no query per step


def test_get_run_by_name_and_keyword(history: Repository) -> None:
    p = history.get_pipeline(pipeline_name="training_pipeline")
    assert p.get_run("run-2") == p.get_run(run_name="run-2")
    with pytest.raises(KeyError) as info:
        p.get_run("run-22")
    message = str(info.value)
    assert "No run 'run-22' in pipeline 'training_pipeline'" in message
    assert "It has 5 runs; the latest are: 'run-4'" in message
    assert "Did you mean 'run-2'?" in message
    assert isinstance(info.value, NotFoundError)


def test_unknown_pipeline_stack_and_step_list_what_exists(history: Repository) -> None:
    with pytest.raises(KeyError, match="Its pipelines are: 'training_pipeline'"):
        history.get_pipeline("training")
    with pytest.raises(KeyError, match="stacks are"):
        history.get_pipeline("training_pipeline", stack_key="nope")
    run = history.get_pipeline("training_pipeline").runs[-1]
    with pytest.raises(KeyError, match="Its steps are: 'importer', 'trainer', 'evaluator'"):
        run.get_step("train")
    assert run.get_step("trainer") == run.steps[1]
    assert run.get_step_names() == ["importer", "trainer", "evaluator"]


def test_output_and_input_shortcuts(history: Repository) -> None:
    importer, trainer, evaluator = history.get_pipeline("training_pipeline").runs[-1].steps
    assert trainer.output.name == "output"
    assert trainer.input.name == "train"
    with pytest.raises(ValueError, match=r"2 outputs \('train', 'test'\).*step.outputs\[name\]"):
        _ = importer.output
    with pytest.raises(ValueError, match="0 inputs"):
        _ = importer.input
    with pytest.raises(ValueError, match="2 inputs"):
        _ = evaluator.input


def test_views_are_hashable_equal_and_read_only(history: Repository) -> None:
    a = history.get_pipeline("training_pipeline").get_run("run-1")
    b = Repository(history.root).get_pipeline("training_pipeline").runs[1]
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != history.get_pipeline("training_pipeline").get_run("run-2")
    assert a.steps[0] in set(b.steps)
    with pytest.raises(AttributeError, match="read-only"):
        a.name = "x"  # type: ignore[misc]
    assert repr(a) == f"PipelineRunView(name='run-1', status='completed', id={a.id})"


def test_read_with_default_and_explicit_materializer(history: Repository) -> None:
    importer = history.get_pipeline("training_pipeline").runs[-1].steps[0]
    train = importer.outputs["train"]
    df = train.read()
    assert isinstance(df, pd.DataFrame) and df.shape == (40, 2)
    pd.testing.assert_frame_equal(df, train.read(materializer_class=PandasMaterializer))
    with pytest.raises(ArtifactReadError) as info:
        train.read(materializer_class=BuiltInMaterializer)
    assert "BuiltInMaterializer cannot read artifact 'train'" in str(info.value)
    assert train.uri in str(info.value) and "PandasMaterializer" in str(info.value)


def test_missing_and_corrupt_artifacts_name_their_uri(history: Repository) -> None:
    steps = history.get_pipeline("training_pipeline").runs[-1].steps
    train = steps[0].outputs["train"]
    shutil.rmtree(train.uri)
    with pytest.raises(ArtifactReadError, match="missing") as info:
        train.read()
    assert train.uri in str(info.value)
    score = steps[1].output
    (Path(score.uri) / "data.json").write_text("{not json")
    with pytest.raises(ArtifactReadError, match="corrupt") as info:
        score.read()
    assert score.uri in str(info.value)


def test_reading_never_changes_the_store(history: Repository) -> None:
    root = history.root / ".zen"
    history.get_pipeline("training_pipeline").runs[-1].steps[0].outputs["train"].read()

    def snapshot() -> dict[str, int]:
        return {
            str(p): p.stat().st_mtime_ns for p in (root / "artifacts").rglob("*") if p.is_file()
        }

    before = snapshot()
    steps = history.get_pipeline("training_pipeline").runs[-1].steps
    for s in steps:
        for o in s.outputs.values():
            o.read()
    assert snapshot() == before


def test_artifact_uris_cannot_escape_the_store(history: Repository, tmp_path: Path) -> None:
    from zenml_widgets.store import ArtifactRecord
    from zenml_widgets.views import ArtifactView

    real = history.get_pipeline("training_pipeline").runs[-1].steps[1].output
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "data.json").write_text("42")
    for bad in ("../../secret", "/etc", f"{outside}", "a/../../x"):
        record = ArtifactRecord(
            id=999, step_id=1, name="evil", uri=bad, data_type="builtins.int",
            materializer=real.materializer, producer_step_id=1, is_cached=False,
            size_bytes=None, created_at=real.created_at,
        )  # fmt: skip
        view = ArtifactView(history.active_stack, record)
        with pytest.raises(ArtifactReadError, match=r"outside|not a key|may not contain"):
            view.read()


def test_mimebundle_has_text_and_escaped_html(repo: Repository) -> None:
    evil = "<script>alert(1)</script>"

    @step
    def emit(tag: str = evil) -> Output(out=str):
        return evil

    @pipeline(name=evil)
    def evil_pipeline(emit):
        emit()

    run = evil_pipeline(emit=emit()).run(run_name=evil + "\"'", repository=repo)
    for view in (repo, run.pipeline, run, run.steps[0], run.steps[0].outputs["out"]):
        bundle = view._repr_mimebundle_()
        assert "text/plain" in bundle
        assert "<script>" not in bundle["text/html"]
        assert "&lt;script&gt;" in bundle["text/html"]


def test_step_inputs_and_stack_key(history: Repository) -> None:
    evaluator = history.get_pipeline("training_pipeline").runs[-1].steps[2]
    assert set(evaluator.inputs) == {"test", "score"}
    assert evaluator.stack_key == history.active_stack_key
    assert evaluator.run.pipeline.name == "training_pipeline"


def test_newest_pages_both_ways_by_keyset(
    repo: Repository, count_queries: Callable[[Repository], list[str]]
) -> None:
    t.bulk_runs(repo, "bulk", 300)
    runs = repo.get_pipeline("bulk").runs
    ids = [r.id for r in runs]  # oldest first

    def names(page: list[PipelineRunView]) -> list[str]:
        return [r.name for r in page]

    def bulk(*numbers: int) -> list[str]:
        return [f"bulk-{i:05d}" for i in numbers]

    statements = count_queries(repo)
    assert names(runs.newest(50, after_id=ids[100])) == bulk(*range(150, 100, -1))
    assert len(statements) == 1 and "LIMIT" in statements[0]  # one indexed keyset query
    assert names(runs.newest(50, before_id=ids[100])) == bulk(*range(99, 49, -1))
    assert names(runs.newest(50, after_id=ids[280])) == bulk(*range(299, 280, -1))
    assert runs.newest(50, after_id=ids[299]) == []
    assert names(runs.newest(3, after_id=ids[10], before_id=ids[12])) == bulk(11)
    assert names(runs.newest(4, name_contains="7", after_id=ids[170])) == bulk(174, 173, 172, 171)
    # walking newer from the oldest run meets every run once, in order
    seen: list[str] = []
    after = ids[0]
    while page := runs.newest(64, after_id=after):
        seen = names(page) + seen
        after = page[0].id
    assert seen == bulk(*range(299, 0, -1))


def test_run_name_filter_ignores_case_and_takes_wildcards_literally(repo: Repository) -> None:
    store = repo.active_stack.metadata_store
    pipeline_id = store.get_or_create_pipeline("filtered").id
    names = ["Nightly-A", "nightly-b", "NIGHTLY-c", "daily", "100%_done", "100x_done", "100%xdone"]
    for name in names:
        store.create_run(pipeline_id, name, pid=None, hostname=None)
    runs = repo.get_pipeline("filtered").runs

    def matching(text: str) -> list[str]:
        return [r.name for r in runs.newest(50, name_contains=text)]

    assert matching("nightly") == ["NIGHTLY-c", "nightly-b", "Nightly-A"]
    assert matching("NiGhTlY-B") == ["nightly-b"]
    assert matching("%_") == ["100%_done"]
    assert matching("%") == ["100%xdone", "100%_done"]
    assert matching("_DONE") == ["100x_done", "100%_done"]
    assert matching("0x") == ["100x_done"]
    assert matching("/") == []  # the escape character is literal too
    assert matching("ly-a") == ["Nightly-A"]


def test_metaflow_style_accessors_by_name(history: Repository) -> None:
    pipeline_view = history.get_pipeline("training_pipeline")
    run = pipeline_view["run-2"]
    assert run == pipeline_view.get_run("run-2")
    assert "run-2" in pipeline_view and "run-9" not in pipeline_view and 3 not in pipeline_view
    assert [r.name for r in pipeline_view] == [f"run-{i}" for i in range(5)]

    trainer = run["trainer"]  # what run["tr<TAB> completes to
    assert run._ipython_key_completions_() == ["importer", "trainer", "evaluator"]
    assert trainer == run.get_step("trainer")
    assert "trainer" in run and "nope" not in run
    assert [s.name for s in run] == ["importer", "trainer", "evaluator"]

    importer = run["importer"]
    assert importer._ipython_key_completions_() == ["train", "test"]
    assert importer["train"] == importer.outputs["train"]
    assert "test" in importer and "validation" not in importer
    assert [a.name for a in importer] == ["train", "test"]
    assert run["trainer"]["output"].read() == trainer.output.read()

    with pytest.raises(NotFoundError, match=r"No step 'trainr'.*Did you mean 'trainer'"):
        run["trainr"]
    with pytest.raises(KeyError, match=r"no output 'tran'.*'train', 'test'.*Did you mean"):
        importer["tran"]
    with pytest.raises(NotFoundError, match=r"No run 'run-22'"):
        pipeline_view["run-22"]
    with pytest.raises(TypeError, match=r"run.steps\[0\]"):
        run[0]  # type: ignore[index]


def test_the_newest_runs_by_slice_are_one_keyset_query(history: Repository) -> None:
    """``runs[-10:]`` reads the newest rows from the index: no rows are skipped (an OFFSET
    scan); SQLite renders ``OFFSET ?`` with every LIMIT, so the skipped count is checked."""
    runs = history.get_pipeline("training_pipeline").runs
    skipped: list[int] = []

    def record(statement: str, params: Any) -> None:
        if "FROM runs" in statement and "LIMIT" in statement.upper():
            written = re.search(r"OFFSET (\d+)", statement, re.IGNORECASE)  # sqlite3 path
            if written:
                skipped.append(int(written.group(1)))
                return
            values = list(params.values()) if isinstance(params, dict) else list(params)
            skipped.append(int(values[-1]) if "OFFSET" in statement.upper() else 0)

    stop = t.watch_sql(history, record)
    try:
        assert [r.name for r in runs[-3:]] == ["run-2", "run-3", "run-4"]
        assert skipped == [0]
        assert [r.name for r in runs[-10:]] == [f"run-{i}" for i in range(5)]
        assert [r.name for r in runs[-4:-1]] == ["run-1", "run-2", "run-3"]
        assert skipped == [0, 0, 1]  # one run skipped, counted from the newest end
    finally:
        stop()
    assert [r.name for r in runs[3:]] == ["run-3", "run-4"]
    assert [r.name for r in runs[-2:-1]] == ["run-3"]
