"""A fresh process that only looks at history stays light: ``zenml-widgets runs`` and
``Repository(...).get_pipeline(p).runs[-1]`` import neither SQLAlchemy nor anything heavier.

(benchmarks/bench_startup.py times these processes; no test asserts on wall time.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zw_testing as t

import zenml_widgets
from zenml_widgets.repository import Repository

# Imported by writes, the runs table, notebooks or artifact reads, never to list runs.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "pandas",
    "numpy",
    "pyarrow",
    "tqdm",
    "IPython",
    "ipywidgets",
    "tensorflow",
    "keras",
    "fsspec",
    "s3fs",
    "dask",
    "psycopg",
)
PACKAGE_ROOT = Path(zenml_widgets.__file__).resolve().parents[1]

REPORT = "; import sys, json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"


def fresh(code: str, cwd: Path) -> tuple[list[str], list[str]]:
    """Run ``code`` in a new interpreter; its output lines before the last one, and the
    top-level modules it had imported when it finished."""
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", code + REPORT],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    *lines, modules = proc.stdout.strip().splitlines()
    return lines, json.loads(modules)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    repo = t.make_repo(tmp_path / "repo")
    t.bulk_runs(repo, "bulk", 30)
    t.make_training(epochs=1).run(run_name="trained", repository=repo)
    return repo.root


def light(code: str, cwd: Path) -> list[str]:
    """``fresh(code, cwd)``'s output lines, once it is checked that zenml_widgets was imported
    and none of the ``HEAVY`` modules was."""
    lines, modules = fresh(code, cwd)
    assert "zenml_widgets" in modules
    assert [m for m in HEAVY if m in modules] == []
    return lines


def test_latest_run_in_a_fresh_process_imports_nothing_heavy(history: Path) -> None:
    code = (
        "from zenml_widgets import Repository; "
        f"run = Repository({str(history)!r}).get_pipeline('bulk').runs[-1]; "
        "print(run.name, run.status, len(run.steps), list(run.steps[0].outputs))"
    )
    assert light(code, history) == ["bulk-00029 completed 1 ['data']"]


def test_cli_runs_in_a_fresh_process_imports_nothing_heavy(history: Path) -> None:
    argv = ["-R", str(history), "runs", "--limit", "2"]
    lines = light(f"from zenml_widgets.cli import main; print('exit', main({argv!r}))", history)
    assert lines[0] == "bulk (stack default): 30 runs"
    assert lines[1].split()[:2] == ["bulk-00029", "completed"]
    assert lines[3] == "training_pipeline (stack default): 1 run"
    assert lines[-1] == "exit 0"


def test_a_store_that_needs_an_upgrade_still_opens_through_sqlalchemy(tmp_path: Path) -> None:
    """The light path is only for stores at the newest schema; any other goes through Alembic
    as before (here: a store one revision behind is upgraded by a process that only reads)."""
    from sqlalchemy import text

    from zenml_widgets.stack import forget_metadata_stores
    from zenml_widgets.store.engine import get_engine, sqlite_file
    from zenml_widgets.store.schema import HEAD, REVISIONS, upgrade_to

    repo = t.make_repo(tmp_path / "repo")
    url = repo.active_stack.metadata_url
    forget_metadata_stores()
    path = sqlite_file(url)
    assert path is not None
    path.unlink()
    engine = get_engine(url)
    upgrade_to(engine, url, REVISIONS[-2])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO pipelines (id, name, created_at) VALUES (1, 'old', :t)"),
                     {"t": "2026-01-01 00:00:00.000000"})  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO runs (id, pipeline_id, name, status, start_time) "
                "VALUES (1, 1, 'first', 'completed', '2026-01-01 00:00:01.000000')"
            )
        )
    forget_metadata_stores()
    lines, modules = fresh(
        "from zenml_widgets import Repository; "
        f"print(Repository({str(repo.root)!r}).get_pipeline('old').runs[-1].name)",
        tmp_path,
    )
    assert lines == ["first"]
    assert "sqlalchemy" in modules and "alembic" in modules
    with get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    assert Repository(repo.root).get_pipeline("old").runs[-1].name == "first"
