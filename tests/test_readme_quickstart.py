"""The README's Quickstart, run as written: twice (the second run's steps are cached), then the
"Later, in any process" block in a process of its own (issue 20, papercut)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import zw_testing as t

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_quickstart_runs_twice_as_written_and_the_second_run_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZENML_WIDGETS_REPOSITORY", raising=False)
    write, read = quickstart_blocks()[:2]
    script = tmp_path / "quickstart.py"
    script.write_text(write)
    code = f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')"

    first = t.run_python(code, cwd=tmp_path).strip().splitlines()[-1]
    second = t.run_python(code, cwd=tmp_path).strip().splitlines()[-1]
    assert first.endswith("['completed', 'completed']"), first
    assert second.endswith("['cached', 'cached']"), second
    assert re.match(r"training_pipeline-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d_\d{6} ", second)

    later = read + "\nprint(run.name == runs[0].name, list(train.columns), len(runs))\n"
    assert t.run_python(later, cwd=tmp_path).strip().splitlines()[-1] == "True ['x', 'y'] 2"
