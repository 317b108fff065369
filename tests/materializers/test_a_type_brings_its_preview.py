"""Adding a type with a preview is one materializer module: this one. The explorer, notebook
cells (through the IPython extension) and ``object_preview`` show the new type through its
materializer, with no change anywhere else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from IPython.core.interactiveshell import InteractiveShell

from zenml_widgets import pipeline, step
from zenml_widgets.materializers import BaseMaterializer
from zenml_widgets.materializers.capabilities import capabilities_of
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores
from zenml_widgets.visualizers.html import block, esc
from zenml_widgets.widgets import HistoryExplorer
from zenml_widgets.widgets.object_preview import describe, is_model, object_preview_html


class Interval:
    """The new type."""

    def __init__(self, low: float, high: float, label: str = "") -> None:
        self.low, self.high, self.label = low, high, label

    def __repr__(self) -> str:
        return f"Interval({self.low}, {self.high})"


class IntervalMaterializer(BaseMaterializer):
    """Its materializer: how it is stored, and what it shows."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (Interval,)
    NOTEBOOK_PREVIEW: ClassVar[bool] = True  # its repr is all a notebook cell would show

    def handle_return(self, data: Interval) -> None:
        with self.open("interval.json", "w") as f:
            json.dump([data.low, data.high, data.label], f)

    def handle_input(self, data_type: type[Any]) -> Interval:
        with self.open("interval.json", "r") as f:
            return Interval(*json.load(f))

    @classmethod
    def preview_html(cls, obj: Interval) -> str:
        return block(
            esc(f"Interval {obj.label}"),
            f"<div class='interval'>from {esc(obj.low)} to {esc(obj.high)}</div>",
        )

    @classmethod
    def describe(cls, obj: Interval) -> str:
        return f"Interval of width {obj.high - obj.low:g}"


@step
def measure(label: str = "<b>daily</b>") -> Interval:
    return Interval(1.0, 3.5, label)


@pipeline
def intervals(measure):  # type: ignore[no-untyped-def]
    measure()


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repository]:
    repo = Repository.init(tmp_path / "repo")
    monkeypatch.chdir(repo.root)
    intervals(measure=measure()).run(run_name="first", repository=repo)
    yield repo
    forget_metadata_stores()


def test_object_preview_and_describe_use_the_materializer() -> None:
    shown = object_preview_html(Interval(1, 2, "<i>x</i>"))
    assert "<div class='interval'>from 1 to 2</div>" in shown
    assert "&lt;i&gt;x&lt;/i&gt;" in shown and "<i>" not in shown
    assert describe(Interval(1, 2.5)) == "Interval of width 1.5"
    assert capabilities_of(Interval(1, 2)) == frozenset() and not is_model(Interval(1, 2))


def test_the_explorer_previews_and_describes_it(history: Repository) -> None:
    explorer = HistoryExplorer().select("intervals", "first", "measure", "output")
    data = explorer.ui.data.value
    assert "from 1.0 to 3.5" in data and "&lt;b&gt;daily&lt;/b&gt;" in data and "<b>" not in data
    assert explorer.ui.statistics.layout.display == "none"  # not a table
    explorer.load_into("window")
    assert "Interval of width 2.5" in explorer.ui.message.value


def test_notebook_cells_show_it_once_the_extension_is_loaded() -> None:
    shell = InteractiveShell.instance()
    html = shell.display_formatter.formatters["text/html"]
    shell.run_line_magic("load_ext", "zenml_widgets")
    try:
        assert "from 1 to 2" in html(Interval(1, 2))

        class Later:  # a type whose materializer is defined after the extension was loaded
            pass

        class LaterMaterializer(BaseMaterializer):
            ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (Later,)
            NOTEBOOK_PREVIEW: ClassVar[bool] = True

            @classmethod
            def preview_html(cls, obj: Any) -> str:
                return "<b>later</b>"

        assert html(Later()) == "<b>later</b>"
        assert html({"a": 1}) is None  # builtins keep their own display
    finally:
        shell.run_line_magic("unload_ext", "zenml_widgets")
    assert html(Interval(1, 2)) is None
