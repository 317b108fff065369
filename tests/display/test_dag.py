"""The run DAG as SVG (``display.dag``) and comparison displays: layout, escaping, determinism."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import zw_testing as t

from zenml_widgets import Output, pipeline, step
from zenml_widgets.display.dag import PipelineRunDagVisualizer, RunDag, dag_svg, layout
from zenml_widgets.repository import Repository
from zenml_widgets.views.compare import compare_runs

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script>&\"'"


def _groups(svg: str, cls: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if cls in g.get("class", "").split()]


def test_layers_follow_lineage(sqlite_repo: Repository) -> None:
    run = t.make_training().run(run_name="first", repository=sqlite_repo)
    dag = layout(run)
    assert dag.layers == {"importer": 0, "trainer": 1, "evaluator": 2}
    x = {k: n.x for k, n in dag.nodes.items()}
    assert x["s:importer"] < x["a:importer/train"] < x["s:trainer"] < x["a:trainer/output"]
    assert x["a:trainer/output"] < x["s:evaluator"]
    # evaluator reads 'test' from two columns back: that edge takes a lane below the nodes
    assert list(dag.lanes) == [("a:importer/test", "s:evaluator")]
    edges = {(a, b) for a, b, _ in dag.edges}
    assert ("a:trainer/output", "s:evaluator") in edges
    labels = {(a, b): label for a, b, label in dag.edges}
    assert labels[("a:trainer/output", "s:evaluator")] == "score"  # input name != output name


def test_nodes_show_status_durations_types_and_why(sqlite_repo: Repository) -> None:
    t.make_training(epochs=1).run(run_name="one", repository=sqlite_repo)
    run = t.make_training(epochs=2).run(run_name="two", repository=sqlite_repo)
    svg = dag_svg(run, selected="trainer")
    steps = {g.get("data-step"): g for g in _groups(svg, "zw-dag-step")}
    assert {k: g.get("data-status") for k, g in steps.items()} == {
        "importer": "cached",
        "trainer": "completed",
        "evaluator": "completed",
    }
    assert "zw-dag-selected" in steps["trainer"].get("class", "")
    texts = ["".join(g.itertext()) for g in steps.values()]
    assert "was cached from run 'one'" in texts[0]
    assert "parameters changed (epochs)" in texts[1]
    assert re.search(r"completed · \d+\.\d\d s", texts[1])
    artifacts = {
        g.get("data-artifact"): "".join(g.itertext()) for g in _groups(svg, "zw-dag-artifact")
    }
    assert "DataFrame" in artifacts["train"] and "pandas.DataFrame" in artifacts["train"]
    assert "#1565c0" in svg and "#2e7d32" in svg  # cached blue, completed green


def test_failed_step(sqlite_repo: Repository) -> None:
    with pytest.raises(Exception, match="boom"):
        t.failing_pipeline(importer=t.importer(), exploding=t.exploding()).run(
            run_name="bad", repository=sqlite_repo
        )
    run = sqlite_repo.get_pipeline("failing_pipeline").get_run("bad")
    steps = {g.get("data-step"): g.get("data-status") for g in _groups(dag_svg(run), "zw-dag-step")}
    assert steps == {"importer": "completed", "exploding": "failed"}


def test_svg_is_deterministic(sqlite_repo: Repository) -> None:
    t.make_training(epochs=1).run(run_name="one", repository=sqlite_repo)
    run = t.make_training(epochs=2).run(run_name="two", repository=sqlite_repo)
    again = sqlite_repo.get_pipeline("training_pipeline").get_run("two")
    assert dag_svg(run) == dag_svg(again)
    assert PipelineRunDagVisualizer().visualize(run).svg == dag_svg(again)
    assert RunDag(run).text == RunDag(again).text


def test_hostile_names_are_escaped(sqlite_repo: Repository) -> None:
    @step(name=HOSTILE)
    def evil(label: str = HOSTILE) -> Output(**{HOSTILE: int, "ok": str}):  # type: ignore[misc]
        return 1, label

    @step
    def consumer(data: int) -> int:
        return data

    @pipeline(name=f"p{HOSTILE}")
    def hostile_pipeline(evil, consumer):
        out, _ok = evil()
        consumer(data=out)

    hostile_pipeline(evil=evil(), consumer=consumer()).run(run_name="r1", repository=sqlite_repo)
    run = hostile_pipeline(evil=evil(label="<b>x</b>"), consumer=consumer()).run(
        run_name=f"r{HOSTILE}", repository=sqlite_repo
    )
    shown = PipelineRunDagVisualizer().visualize(run)
    for markup in (shown.svg, shown.html):
        assert "<script" not in markup and "<b>" not in markup
        ET.fromstring(markup)  # well-formed: every name is escaped text
    assert HOSTILE in "".join(ET.fromstring(shown.svg).itertext())
    comparison = compare_runs(run.pipeline.runs[0], run)
    for bundle in (
        comparison._repr_mimebundle_(),
        comparison.output("evil", "ok")._repr_mimebundle_(),
    ):
        assert "<script" not in bundle["text/html"] and "<b>" not in bundle["text/html"]
    assert "label" in comparison._repr_mimebundle_()["text/plain"]


def test_visualize_refuses_other_objects(sqlite_repo: Repository) -> None:
    run = t.make_training().run(repository=sqlite_repo)
    with pytest.raises(TypeError, match="draws runs"):
        PipelineRunDagVisualizer().visualize(run.steps[0])
    bundle = RunDag(run)._repr_mimebundle_()
    assert bundle["text/plain"].startswith("DAG of run")
    assert bundle["text/html"].count("<svg") == 1


def test_svg_scales_down_to_the_cell(sqlite_repo: Repository) -> None:
    run = t.make_training().run(run_name="first", repository=sqlite_repo)
    svg = dag_svg(run)
    root = ET.fromstring(svg)
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    assert root.get("viewBox") == f"0 0 {width:.0f} {height:.0f}"
    style = dict(part.split(":", 1) for part in root.get("style", "").split(";"))
    assert style["width"] == "100%" and style["height"] == "auto"
    assert style["max-width"] == f"{width:.0f}px" and "min-width" not in style
    html = RunDag(run).html
    assert html.startswith('<div class="zw-dag-container"') and "overflow" not in html
    assert "contain:inline-size" in html  # its natural width does not widen the cell
