"""Runs tables and charts as rich displays: escaped, offline, with text/plain."""

from __future__ import annotations

import re
from pathlib import Path

from zw_testing import PANDAS, make_repo

from zenml_widgets.store import NewArtifact

EVIL = "<img src=x onerror=alert(1)>"


def test_table_and_charts_render_escaped_and_offline(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    store = repo.active_stack.metadata_store
    pipeline = store.get_or_create_pipeline(EVIL)
    for i in range(6):
        run = store.create_run(pipeline.id, f"{EVIL}-{i}", pid=None, hostname="h")
        step = store.create_step(
            run.id, position=0, name="train", entrypoint_name="train",
            parameters={EVIL: i, "lr": 0.1 * i}, cache_key=None, code_hash=None,
        )  # fmt: skip
        out = NewArtifact("output", f"u/{i}", "builtins.dict", PANDAS, values={"acc": i / 10})
        store.finish_step(step.id, "completed", outputs=[out])
        store.finish_run(run.id, "completed")
    runs = repo.get_pipeline(EVIL).runs
    table = runs.table(sort="train.output.acc", count=True)
    bundle = table._repr_mimebundle_()
    assert "text/plain" in bundle and "train.output.acc ▼" in bundle["text/plain"]
    html = bundle["text/html"]
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "6 of 6 runs" in html
    assert 'style="white-space:nowrap"' in html  # one line per run; the box scrolls sideways
    for chart in (
        table.chart("train.output.acc"),
        table.scatter(f"train.{EVIL}", "train.output.acc"),
    ):
        bundle = chart._repr_mimebundle_()
        assert "max 0.5" in bundle["text/plain"]
        svg = bundle["text/html"]
        assert EVIL not in svg and "<script" not in svg
        assert svg.count("<circle") == 6 and svg.count("<title>") == 6
        assert f"<title>{EVIL.replace('<', '&lt;').replace('>', '&gt;')}-5" in svg
    line = table.chart("train.output.acc")._repr_mimebundle_()["text/html"]
    assert "<polyline" in line
    # The value axis is labelled with the data's extremes (0 and 0.5), not the padded bounds.
    labels = re.findall(r'text-anchor="end" font-size="10" style="[^"]*">([^<]*)</text>', line)
    assert labels == ["0.5", "0"]
    empty = runs.table(where="train.output.acc > 5")._repr_mimebundle_()["text/html"]
    assert "No runs match" in empty
