"""The README's "Filters, several sort keys and tags" block, run as written on runs of the
Quickstart's pipeline, and what each of its expressions gives."""

from __future__ import annotations

import ast
import re
import runpy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from zenml_widgets.repository import Repository

README = Path(__file__).resolve().parents[2] / "README.md"


def _block(heading: str) -> str:
    """The first Python block under ``heading``."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[0]


def _values(code: str, names: dict[str, Any]) -> list[Any]:
    """Run ``code`` statement by statement; the values of its expression statements."""
    found = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Expr):
            found.append(eval(compile(ast.Expression(node.value), "README", "eval"), names))
        else:
            exec(compile(ast.Module([node], []), "README", "exec"), names)
    return [v for v in found if v is not None]


def test_the_filters_and_tags_block_of_the_readme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ZENML_WIDGETS_REPOSITORY", raising=False)
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "quickstart.py"
    script.write_text(_block("## Quickstart"))
    made = runpy.run_path(str(script), run_name="__main__")  # epochs=5, then 1, 2 and 8
    for epochs in (1, 2, 8):
        made["training_pipeline"](
            importer=made["importer"](n_rows=50), trainer=made["trainer"](epochs=epochs)
        ).run(run_name=f"nightly-{epochs}")
    capsys.readouterr()

    first, some, tagged, both = _values(
        _block("#### Filters, several sort keys and tags"), {"repo": Repository()}
    )
    assert capsys.readouterr().out == "{'stage': 'prod'}\n"
    quickstart = Repository().get_pipeline("training_pipeline").runs[0]
    assert list(first.columns) == [
        "name", "run_id", "trainer.epochs", "trainer.output", "tags.stage",
    ]  # fmt: skip
    expected = pd.DataFrame(
        {
            "name": ["nightly-8", quickstart.name],
            "run_id": [quickstart.id + 3, quickstart.id],
            "trainer.epochs": [8, 5],
            "trainer.output": [156.0, 97.5],
            "tags.stage": pd.Series(["prod", None], dtype=object),
        }
    )
    pd.testing.assert_frame_equal(first, expected, check_dtype=False)
    assert list(some["name"]) == ["nightly-8", "nightly-2", "nightly-1"]
    assert list(tagged["name"]) == list(both["name"]) == ["nightly-8"]
