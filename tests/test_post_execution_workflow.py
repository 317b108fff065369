"""The reference page, snippet by snippet: one process runs pipelines, a fresh one reads them."""

from __future__ import annotations

from pathlib import Path

from zw_testing import make_repo, reference_page_head, run_python

WRITER = """
import zw_testing as t
t.make_training(n_rows=50, epochs=5).run(run_name="custom_pipeline_run_name")
t.make_training(n_rows=60, epochs=2).run()
print("ran")
"""

# Every snippet of ../shared/spec/post-execution-workflow.md with zenml -> zenml_widgets,
# in order, filling the page's `...` with real names.
READER = (
    reference_page_head("training_pipeline", "STACK", one_output="steps[1]")
    + """
# will get you the value from the original materializer used in the pipeline
print("value", output.read())

from zenml_widgets.materializers import PandasMaterializer

df = outputs.read(materializer_class=PandasMaterializer)
df.head()

print("pipelines", [p.name for p in pipelines])
print("runs", len(runs), runs[-1].name != run.name)
print("df", type(df).__name__, df.shape, str(df["label"].dtype))
print("steps", [(s.name, s.entrypoint_name, s.status) for s in steps])
"""
)


def test_reference_page_runs_in_a_fresh_process(tmp_path: Path, store_url: str) -> None:
    repo = make_repo(tmp_path / "repo", store_url)
    stack = repo.active_stack_key
    assert "ran" in run_python(WRITER, cwd=repo.root)
    out = run_python(READER.replace("STACK", repr(stack)), cwd=repo.root)
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines()[1:])
    assert out.splitlines()[0] == "importer"
    expected = 5 * float(__import__("zw_testing").importer.ENTRYPOINT(50)[0]["x"].mean())
    assert abs(float(lines["value"]) - expected) < 1e-12
    assert lines["pipelines"] == "['training_pipeline']"
    assert lines["runs"] == "2 True"
    assert lines["df"] == "DataFrame (40, 2) string"
    assert lines["steps"] == (
        "[('importer', 'importer', 'completed'), ('trainer', 'trainer', 'completed'), "
        "('evaluator', 'evaluate_model', 'completed')]"
    )
