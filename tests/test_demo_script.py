"""``scripts/demo.sh`` never edits tracked files: JupyterLab opens copies in an untracked place.

The script runs for real, with a stand-in virtualenv whose ``python`` and ``jupyter`` only record
how they were called (nothing is installed or started). The stand-in ``jupyter`` then does what
JupyterLab's autosave does after "Run All": it writes outputs into the notebook it was given.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FAKE_PYTHON = """#!/bin/sh
echo "python $*" >> "$LOG"
case "$*" in
  *zenml_widgets.examples.demo*) mkdir -p "$DEMO/.zen" && echo {} > "$DEMO/.zen/config.json" ;;
esac
"""

# Records its folder and arguments, then "autosaves" the opened notebook with an output.
FAKE_JUPYTER = """#!/bin/sh
echo "jupyter $PWD $* repo=$ZENML_WIDGETS_REPOSITORY" >> "$LOG"
printf '%s' '{"autosaved": true}' > "$2"
"""


def _digests() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((ROOT / "notebooks").iterdir())
    }


def _fake_venv(folder: Path) -> Path:
    for name, text in (("python", FAKE_PYTHON), ("jupyter", FAKE_JUPYTER)):
        path = folder / "bin" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return folder


def _run_demo(tmp_path: Path, demo: Path) -> list[str]:
    log = tmp_path / "calls.log"
    env = {
        **os.environ,
        "VENV": str(_fake_venv(tmp_path / "venv")),
        "DEMO": str(demo),
        "LOG": str(log),
    }
    subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh"), "--no-browser"], env=env, check=True)
    return log.read_text().splitlines()


def test_the_demo_opens_an_untracked_copy_of_the_notebook(tmp_path: Path) -> None:
    before = _digests()
    demo = tmp_path / "demo"
    calls = _run_demo(tmp_path, demo)

    assert _digests() == before  # the "autosave" went to the copy
    copies = demo / "notebooks"
    assert json.loads((copies / "history_explorer.ipynb").read_text()) == {"autosaved": True}
    assert {p.name for p in copies.iterdir()} == {
        p.name for p in (ROOT / "notebooks").glob("*.ipynb")
    }
    (jupyter,) = [c for c in calls if c.startswith("jupyter ")]
    assert jupyter.startswith(f"jupyter {copies} lab history_explorer.ipynb --no-browser")
    assert jupyter.endswith(f"repo={demo}")
    assert not any("autoload" in c for c in calls)  # an editable install autoloads by itself

    # A second start keeps the copy that was changed.
    _run_demo(tmp_path, demo)
    assert json.loads((copies / "history_explorer.ipynb").read_text()) == {"autosaved": True}


def test_the_default_demo_folder_is_untracked() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "demo/notebooks/history_explorer.ipynb"], cwd=ROOT
    )
    assert ignored.returncode == 0
