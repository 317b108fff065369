"""docs/ARCHITECTURE.md stays true: its picture is the one tests/test_layers.py enforces,
and its worked example runs as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import test_layers
from zw_testing import ARCHITECTURE_DOC, doc_blocks

DOC = ARCHITECTURE_DOC


def blocks(language: str, section: str) -> list[str]:
    """The ``language`` code blocks of the doc's ``## section``."""
    return doc_blocks(section, language)


def test_the_picture_is_the_one_the_layer_test_enforces() -> None:
    (picture,) = blocks("text", "The layers")
    assert picture.strip() == test_layers.PICTURE.strip()
    prose = " ".join(DOC.read_text(encoding="utf-8").split())
    for source, target in test_layers.NEVER:
        assert f"{source} -> {target}" in prose
    for _, table in test_layers.PLUGIN_TABLES:
        assert table in prose


def test_the_worked_example_runs(tmp_path: Path) -> None:
    code = blocks("python", "How to add a materializer with a preview")
    assert len(code) == 2
    namespace: dict[str, Any] = {"__name__": "architecture_doc_example"}
    for block in code:
        exec(compile(block, str(DOC), "exec"), namespace)
    point, materializer = namespace["Point"], namespace["PointMaterializer"]
    folder = tmp_path / "artifact"
    folder.mkdir()
    artifact = type("Artifact", (), {"uri": str(folder)})()
    materializer(artifact).handle_return(point(3, 4))
    read = materializer(artifact).handle_input(point)
    assert (read.x, read.y) == (3, 4)
