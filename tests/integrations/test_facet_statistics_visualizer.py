"""FacetStatisticsVisualizer: inputs, names, errors, cache, notebook and file output."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("facets_overview")

from zenml_widgets.integrations.facets.visualizers import (
    facet_statistics_visualizer as fsv,
)
from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (
    CACHE_FILENAME,
    FacetStatisticsDisplay,
    FacetStatisticsVisualizer,
)

# --- fakes shaped like the views -----------------------------------------------------------------


@dataclass
class FakeRun:
    name: str


@dataclass
class FakeStep:
    name: str
    run: FakeRun
    outputs: dict[str, FakeArtifact] = field(default_factory=dict)


@dataclass
class FakeArtifact:
    name: str
    value: Any
    cache_root: Path | None
    producer_step: FakeStep | None = None
    id: int = 1
    reads: int = 0

    @property
    def data_type(self) -> str:
        kind = type(self.value)
        return f"{kind.__module__}.{kind.__qualname__}"

    @property
    def materializer(self) -> str:
        if isinstance(self.value, pd.DataFrame):
            return "zenml_widgets.materializers.pandas_materializer.PandasMaterializer"
        return "zenml_widgets.materializers.builtin.BuiltInMaterializer"

    @property
    def uri(self) -> str:
        return f"/nowhere/{self.name}"

    @property
    def cache_dir(self) -> Path:
        if self.cache_root is None:
            raise AttributeError("cache_dir")
        folder = self.cache_root / f"artifact-{self.id}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def read(self) -> Any:
        self.reads += 1
        return self.value


def frame(seed: int, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"x": rng.normal(seed, 1, n), "label": pd.Series(rng.choice(["a", "b"], n), dtype="str")}
    )


def make_step(tmp_path: Path, run: str, seed: int) -> FakeStep:
    step = FakeStep("importer", FakeRun(run))
    for i, name in enumerate(("train", "test")):
        artifact = FakeArtifact(name, frame(seed + i), tmp_path, step, id=seed * 10 + i)
        step.outputs[name] = artifact
    step.outputs["n_rows"] = FakeArtifact("n_rows", 200, tmp_path, step, id=seed * 10 + 9)
    return step


def names(statistics: Any) -> list[str]:
    return [d.name for d in statistics.datasets]


# --- inputs and names ----------------------------------------------------------------------------


def test_artifact(tmp_path: Path) -> None:
    artifact = FakeArtifact("train", frame(0), tmp_path)
    stats = FacetStatisticsVisualizer().statistics(artifact)
    assert names(stats) == ["train"]
    assert stats.datasets[0].num_examples == 200


def test_step_shows_its_dataframe_outputs_only(tmp_path: Path) -> None:
    stats = FacetStatisticsVisualizer().statistics(make_step(tmp_path, "run-1", 1))
    assert names(stats) == ["train", "test"]


def test_dict_and_dataframes(tmp_path: Path) -> None:
    a = FakeArtifact("train", frame(0), tmp_path, id=1)
    stats = FacetStatisticsVisualizer().statistics({"train": a, "raw": frame(5)})
    assert names(stats) == ["train", "raw"]
    assert names(FacetStatisticsVisualizer().statistics(frame(1))) == ["data"]


def test_same_output_of_two_runs_is_named_by_run_and_step(tmp_path: Path) -> None:
    one, two = make_step(tmp_path, "run-1", 1), make_step(tmp_path, "run-2", 2)
    stats = FacetStatisticsVisualizer().statistics([one.outputs["train"], two.outputs["train"]])
    assert names(stats) == ["run-1/importer/train", "run-2/importer/train"]
    stats = FacetStatisticsVisualizer().statistics([one.outputs["train"], one.outputs["test"]])
    assert names(stats) == ["train", "test"]


def test_same_artifact_twice_gets_distinct_names(tmp_path: Path) -> None:
    a = FakeArtifact("train", frame(0), tmp_path)
    assert names(FacetStatisticsVisualizer().statistics([a, a])) == ["train", "train (2)"]


def test_non_dataframe_artifact_is_a_clear_error(tmp_path: Path) -> None:
    good = FakeArtifact("train", frame(0), tmp_path, id=1)
    bad = FakeArtifact("model", {"weights": [1, 2]}, tmp_path, id=7)
    with pytest.raises(TypeError) as info:
        FacetStatisticsVisualizer().statistics([good, bad])
    message = str(info.value)
    assert "'model'" in message and "builtins.dict" in message and "id 7" in message
    assert "'train'" not in message


def test_artifact_claiming_dataframe_but_reading_otherwise(tmp_path: Path) -> None:
    liar_type = type("Liar", (FakeArtifact,), {"data_type": "pandas.DataFrame"})
    liar = liar_type("train", [1, 2, 3], tmp_path)
    with pytest.raises(TypeError, match=r"'train'.*pandas\.DataFrame"):
        FacetStatisticsVisualizer().statistics(liar)


def test_step_without_dataframes(tmp_path: Path) -> None:
    step = FakeStep("trainer", FakeRun("r"))
    step.outputs["output"] = FakeArtifact("output", 0.5, tmp_path)
    with pytest.raises(ValueError, match=r"no DataFrame output.*'output' \(builtins\.float\)"):
        FacetStatisticsVisualizer().statistics(step)


def test_unsupported_input() -> None:
    with pytest.raises(TypeError, match="int"):
        FacetStatisticsVisualizer().statistics(3)
    with pytest.raises(ValueError, match="empty"):
        FacetStatisticsVisualizer().statistics([])


# --- cache ---------------------------------------------------------------------------------------


def test_statistics_are_cached_per_artifact(tmp_path: Path) -> None:
    artifact = FakeArtifact("train", frame(0), tmp_path)
    first = FacetStatisticsVisualizer().statistics(artifact)
    cache = artifact.cache_dir / CACHE_FILENAME
    assert cache.is_file()
    assert cache.read_bytes().startswith(b"zenml-widgets facets-statistics v1")
    again = FacetStatisticsVisualizer().statistics(artifact)
    assert artifact.reads == 1
    assert again == first
    # Renamed in a comparison, but the cached statistics are reused.
    FacetStatisticsVisualizer().statistics({"other name": artifact})
    assert artifact.reads == 1


def test_cache_with_other_settings_or_corrupt_is_recomputed(tmp_path: Path) -> None:
    artifact = FakeArtifact("train", frame(0), tmp_path)
    FacetStatisticsVisualizer().statistics(artifact)
    FacetStatisticsVisualizer(max_rank_buckets=1).statistics(artifact)
    assert artifact.reads == 2
    (artifact.cache_dir / CACHE_FILENAME).write_bytes(b"garbage")
    stats = FacetStatisticsVisualizer().statistics(artifact)
    assert artifact.reads == 3 and stats.datasets[0].num_examples == 200


def test_no_cache_dir_means_no_cache(tmp_path: Path) -> None:
    artifact = FakeArtifact("train", frame(0), None)
    FacetStatisticsVisualizer().statistics(artifact)
    FacetStatisticsVisualizer().statistics(artifact)
    assert artifact.reads == 2


# --- outside a notebook: a file ----------------------------------------------------------------


def test_outside_notebook_writes_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "stats.html"
    result = FacetStatisticsVisualizer().visualize(frame(0), output_path=target)
    assert result == target
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert str(target) in capsys.readouterr().out


def test_outside_notebook_temp_file_and_browser(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(fsv.webbrowser, "open", opened.append)
    path = FacetStatisticsVisualizer().visualize(frame(0))
    assert isinstance(path, Path) and path.suffix == ".html"
    try:
        assert opened == []
        assert str(path) in capsys.readouterr().out
        path2 = FacetStatisticsVisualizer().visualize(frame(0), open_browser=True)
        assert isinstance(path2, Path)
        assert opened == [path2.resolve().as_uri()]
        path2.unlink()
    finally:
        path.unlink()


def test_facets_js_file(tmp_path: Path) -> None:
    target = tmp_path / "js.html"
    FacetStatisticsVisualizer().visualize(frame(0), use_facets_js=True, output_path=target)
    assert "<facets-overview" in target.read_text(encoding="utf-8")


# --- in a notebook ---------------------------------------------------------------------------


class ZMQInteractiveShell:  # named like ipykernel's shell; the visualizer checks the name
    def __init__(self) -> None:
        from IPython.core.events import EventManager, available_events

        self.events = EventManager(self, available_events)


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> tuple[ZMQInteractiveShell, list[Any]]:
    import IPython
    import IPython.display

    shell = ZMQInteractiveShell()
    shown: list[Any] = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    return shell, shown


def test_notebook_displays_inline_and_returns_displayable(
    kernel: tuple[ZMQInteractiveShell, list[Any]], tmp_path: Path
) -> None:
    shell, shown = kernel
    result = FacetStatisticsVisualizer().visualize({"train": frame(0), "test": frame(1)})
    assert isinstance(result, FacetStatisticsDisplay)
    assert len(shown) == 1 and shown[0].data == result.html
    assert "<script" not in result.html and "Numeric features" in result.html
    # Its own cell result does not show the tables a second time...
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and "shown above" in bundle["text/plain"]
    assert result._repr_html_() is None
    # ...but from the next cell on it does.
    shell.events.trigger("pre_run_cell", None)
    bundle = result._repr_mimebundle_()
    assert bundle["text/html"] == result.html and "'train', 'test'" in bundle["text/plain"]
    assert result._repr_mimebundle_(include={"text/plain"}).keys() == {"text/plain"}
    saved = result.save(tmp_path / "saved.html")
    assert saved.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_plain_ipython_is_not_a_notebook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import IPython

    class TerminalInteractiveShell:
        pass

    monkeypatch.setattr(IPython, "get_ipython", lambda: TerminalInteractiveShell())
    out = tmp_path / "x.html"
    assert FacetStatisticsVisualizer().visualize(frame(0), output_path=out) == out


def test_module_does_not_import_ipython() -> None:
    import subprocess

    code = (
        "import sys; import zenml_widgets.integrations.facets.visualizers."
        "facet_statistics_visualizer; print('IPython' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- real views ----------------------------------------------------------------------------------


def test_with_real_views(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("zenml_widgets.views")
    from zw_testing import make_repo, make_training

    make_repo(tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    run1 = make_training(n_rows=60, seed=1).run(run_name="r1")
    run2 = make_training(n_rows=80, seed=2).run(run_name="r2")
    visualizer = FacetStatisticsVisualizer()

    train1, train2 = run1.steps[0].outputs["train"], run2.steps[0].outputs["train"]
    stats = visualizer.statistics([train1, train2])
    assert names(stats) == ["r1/importer/train", "r2/importer/train"]
    assert [d.num_examples for d in stats.datasets] == [48, 64]
    assert (train1.cache_dir / CACHE_FILENAME).is_file()

    assert names(visualizer.statistics(run1.steps[0])) == ["train", "test"]
    with pytest.raises(TypeError, match=r"'output' \(data_type 'builtins.float'"):
        visualizer.statistics(run1.steps[1].output)

    # The page's snippet, outside a notebook: a file, and where it is.
    page = visualizer.visualize(train1, output_path=tmp_path / "train.html")
    assert isinstance(page, Path) and "Numeric features" in page.read_text(encoding="utf-8")
    assert "train.html" in capsys.readouterr().out
