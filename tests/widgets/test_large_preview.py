"""The explorer previews a big DataFrame output without reading it whole: shape, schema and
head at once; statistics on request, streamed."""

from __future__ import annotations

from typing import Any

import pytest

from zenml_widgets import HistoryExplorer
from zenml_widgets.repository import Repository
from zenml_widgets.views import ArtifactView


def test_big_dataframe_shows_schema_rows_and_head_without_a_read(
    history: Repository, artifact_reads: list[str]
) -> None:
    reads = artifact_reads
    explorer = HistoryExplorer()
    explorer.auto_read_limit = 10
    explorer.select("training_pipeline", "first", "importer", "train")
    html = explorer.ui.data.value
    assert reads == []
    assert "40 rows, 2 columns (not read whole)" in html
    assert "label" in html and "float64" in html and "head(10)" in html
    assert "Data not read yet" in html  # and the button to read it whole
    train = history.get_pipeline(pipeline_name="training_pipeline").get_run("first")
    first_x = train.get_step("importer").outputs["train"].head(1)["x"].iloc[0]
    assert f"{first_x:.6f}"[:6] in html

    explorer.ui.statistics.click()  # streamed: bigger than the limit
    assert reads == []
    output = train.get_step("importer").outputs["train"]
    cached = (output.cache_dir / "facets_statistics.pb").read_bytes()
    assert cached.split(b"\n", 1)[0].endswith(b" streaming")


def test_preview_failure_of_a_big_output_is_a_message(
    history: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ArtifactView, n: int = 5) -> Any:
        raise OSError("disk on fire")

    monkeypatch.setattr(ArtifactView, "head", broken)
    explorer = HistoryExplorer()
    explorer.auto_read_limit = 10
    explorer.select("training_pipeline", "first", "importer", "train")
    assert "Preview not available" in explorer.ui.data.value
    assert "disk on fire" in explorer.ui.data.value
