"""Hostile names and parameters (property-based): stored and shown safely, or refused clearly."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zenml_widgets import Output, pipeline, step
from zenml_widgets.exceptions import PipelineDefinitionError
from zenml_widgets.repository import Repository

NASTY = [
    "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    "../../etc/passwd",
    "..",
    "a/b\\c",
    "C:\\windows",
    "名前 ✓ 🚀",
    "&amp; &lt;",
    "x" * 255,
    " leading space",
]
names = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=300),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _valid(name: str) -> bool:
    return (
        bool(name.strip())
        and len(name) <= 255
        and not any(ord(c) < 32 or ord(c) == 127 for c in name)
    )


def _html_widgets(widget: Any) -> list[str]:
    import ipywidgets

    found = [widget.value] if isinstance(widget, ipywidgets.HTML) else []
    for child in getattr(widget, "children", ()):
        found += _html_widgets(child)
    return found


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]


def _assert_escaped(html: str, *hostile: str) -> None:
    """No hostile text reaches the markup: no raw ``<``/``>`` from it, no script tags, no
    event-handler attributes (a quote breaking out of an attribute would create one). A bare
    ``&`` is not looked for as a substring: every escaped entity contains one."""
    for text in hostile:
        # A text made (almost) only of markup characters, such as "<", is in every page's own
        # tags; the tag and attribute checks below cover it.
        distinctive = len(text.strip("<>&\"' /=")) >= 3
        if distinctive and any(c in text for c in "<>"):
            assert text not in html, f"{text!r} reached HTML unescaped"
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags
    assert not [a for a in parser.attributes if a.startswith("on")], parser.attributes


def _make(pipeline_name: str, entrypoint: str, output: str) -> Any:
    def producer(value: Any = None) -> Any:
        return {"value": value}

    # a real Output object (this module's annotations are strings, evaluated in module scope)
    producer.__annotations__ = {"value": Any, "return": Output(**{output: dict})}
    producer = step(name=entrypoint)(producer)

    def body(producer: Any) -> None:
        producer()

    return pipeline(name=pipeline_name)(body), producer


def _same_json(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same_json, a, b))
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
        )
    return type(a) is type(b) and a == b


_counter = iter(range(10**9))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pname=names, rname=names, ename=names, oname=names, value=json_values)
def test_hostile_names_and_parameters(
    sqlite_repo: Repository, pname: str, rname: str, ename: str, oname: str, value: Any
) -> None:
    n = next(_counter)
    rname = f"{rname[:250]}#{n}" if _valid(rname) else rname  # unique per example
    pname = pname if not _valid(pname) else f"{pname[:250]}#{n}"
    valid = all(_valid(x) for x in (pname, rname, ename, oname))
    try:
        pipeline_class, producer = _make(pname, ename, oname)
        pipeline_class(producer=producer(value=value)).run(
            run_name=rname, repository=sqlite_repo.root
        )
    except PipelineDefinitionError as e:
        assert not valid, f"refused a valid input: {e}"
        return
    assert valid
    stored = Repository(sqlite_repo.root).get_pipeline(pname).get_run(rname)
    assert stored.name == rname and stored.status == "completed"
    (step_view,) = stored.steps
    assert step_view.entrypoint_name == ename
    assert _same_json(step_view.parameters, {"value": value})
    artifact = step_view.outputs[oname]
    assert _same_json(artifact.read(), {"value": value})
    root = Path(sqlite_repo.active_stack.artifact_root).resolve()
    assert Path(artifact.uri).resolve().is_relative_to(root)
    for view in (
        stored.pipeline if hasattr(stored, "pipeline") else None,
        stored,
        step_view,
        artifact,
    ):
        if view is None or isinstance(view, str):
            continue
        bundle = view._repr_mimebundle_()
        assert "text/plain" in bundle
        _assert_escaped(bundle["text/html"], pname, rname, ename, oname)


def test_hostile_names_in_the_explorer(sqlite_repo: Repository) -> None:
    from zenml_widgets.widgets import HistoryExplorer

    nasty = "<script>alert('x')</script>\"&"
    pipeline_class, producer = _make(nasty, nasty + "e", nasty + "o")
    pipeline_class(producer=producer(value={nasty: [nasty]})).run(
        run_name=nasty + "r", repository=sqlite_repo.root
    )
    explorer = HistoryExplorer(sqlite_repo.root)
    views = []
    for selection in (
        {"pipeline": nasty},
        {"pipeline": nasty, "run": nasty + "r"},
        {"pipeline": nasty, "run": nasty + "r", "step": "producer"},
        {"pipeline": nasty, "run": nasty + "r", "step": "producer", "output": nasty + "o"},
    ):
        explorer.select(**selection)
        views.append(explorer.current)
        for html in _html_widgets(explorer):
            _assert_escaped(html, nasty)
    assert views[-1].read() == {"value": {nasty: [nasty]}}
    labels = explorer.ui.pipeline.get_state()["_options_labels"]
    assert nasty in labels  # dropdown labels are plain text, shown as given


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "a", "b": 2}, "keys"),  # mixed key types cannot be sorted, so cannot be recorded
        ({"x": object()}, "JSON"),
    ],
)
def test_unrecordable_parameters_are_refused_before_running(
    sqlite_repo: Repository, value: Any, message: str
) -> None:
    pipeline_class, producer = _make("p", "e", "o")
    with pytest.raises(PipelineDefinitionError, match=message):
        pipeline_class(producer=producer(value=value)).run(repository=sqlite_repo.root)
    assert Repository(sqlite_repo.root).get_pipelines() == []


def test_nan_and_huge_ints_are_stored_faithfully(repo: Repository) -> None:
    value = {"nan": float("nan"), "inf": -math.inf, "big": 10**60, "ключ": [1.5e308]}
    pipeline_class, producer = _make("numbers", "e", "o")
    run = pipeline_class(producer=producer(value=value)).run(repository=repo.root)
    params = Repository(repo.root).get_pipeline("numbers").get_run(run.name).steps[0].parameters
    assert _same_json(params, {"value": value})
    assert json.dumps(params, allow_nan=True)  # and it still renders
    assert "NaN" in run.steps[0]._repr_mimebundle_()["text/html"]
