"""The metadata store: schema management, indexes, errors, concurrency."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zw_testing as t
from sqlalchemy import create_engine, text

from zenml_widgets.exceptions import SchemaVersionError, StoreError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores
from zenml_widgets.store import MetadataStore
from zenml_widgets.store.schema import HEAD


def test_schema_is_created_at_head_by_alembic(store_url: str) -> None:
    MetadataStore(store_url)
    engine = create_engine(store_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    engine.dispose()


def test_a_store_newer_than_the_code_is_refused(store_url: str) -> None:
    MetadataStore(store_url)
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    forget_metadata_stores()
    with pytest.raises(SchemaVersionError, match=r"'9999', which is newer.*pip install -U"):
        MetadataStore(store_url)


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path}/m.db")
    store.get_or_create_pipeline("p")
    with sqlite3.connect(tmp_path / "m.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_hot_queries_use_indexes(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path}/m.db")
    p = store.get_or_create_pipeline("p")
    run = store.create_run(p.id, "r", pid=None, hostname=None)
    store.list_steps(run.id)
    conn = sqlite3.connect(tmp_path / "m.db")
    plans = {
        "latest run": "SELECT * FROM runs WHERE pipeline_id = 1 ORDER BY id DESC LIMIT 1",
        "run by name": "SELECT * FROM runs WHERE pipeline_id = 1 AND name = 'r'",
        "count": "SELECT count(*) FROM runs WHERE pipeline_id = 1",
        "steps of a run": "SELECT * FROM steps WHERE run_id = 1 ORDER BY position",
        "cache lookup": "SELECT * FROM steps WHERE cache_key = 'k' ORDER BY id DESC LIMIT 1",
    }
    for what, sql in plans.items():
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "USING" in plan and "SCAN runs" not in plan and "SCAN steps" not in plan, (
            what,
            plan,
        )
        assert "TEMP B-TREE" not in plan, (what, plan)
    conn.close()


def test_unreachable_database_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        MetadataStore(f"sqlite:///{tmp_path}/missing-folder/m.db")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1.*failed while opening"):
        MetadataStore("postgresql+psycopg://u:secret@127.0.0.1:1/db")
    try:
        MetadataStore("postgresql+psycopg://u:secret@127.0.0.1:1/db")
    except StoreError as e:
        assert "secret" not in str(e)


def test_reader_sees_a_run_while_another_process_writes_it(sqlite_repo: Repository) -> None:
    script = """
import time, zw_testing as t
from zenml_widgets import step, pipeline

@step
def slow() -> int:
    time.sleep(3)
    return 1

@pipeline
def slow_pipeline(importer, slow):
    importer()
    slow()

slow_pipeline(importer=t.importer(), slow=slow()).run(run_name="slow-run")
"""
    env = {**os.environ, "PYTHONPATH": str(Path(t.__file__).parent)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=sqlite_repo.root, env=env)
    try:
        deadline = time.monotonic() + 60
        run = None
        while time.monotonic() < deadline:
            try:
                run = Repository(sqlite_repo.root).get_pipeline("slow_pipeline").get_run("slow-run")
                # every step is recorded (pending) when the run starts; wait for the second
                if run.steps[1].status == "running":
                    break
            except KeyError:
                pass
            time.sleep(0.05)
        assert run is not None
        assert run.status == "running"
        assert run.steps[0].status == "completed"
        assert run.steps[0].outputs["train"].read().shape == (80, 2)
        assert run.steps[1].status == "running"
        assert proc.wait(timeout=60) == 0
        assert run.status == "completed"
        assert run.steps[1].status == "completed"
    finally:
        proc.kill()


def test_a_killed_run_is_reported_failed_not_running(sqlite_repo: Repository) -> None:
    script = """
import time, zw_testing as t
from zenml_widgets import step, pipeline

@step
def hang() -> int:
    print("started", flush=True)
    time.sleep(600)
    return 1

@pipeline
def hanging_pipeline(hang):
    hang()

hanging_pipeline(hang=hang()).run(run_name="killed")
"""
    env = {**os.environ, "PYTHONPATH": str(Path(t.__file__).parent)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=sqlite_repo.root, env=env, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"[hang] started"  # echoed, prefixed
    run = Repository(sqlite_repo.root).get_pipeline("hanging_pipeline").get_run("killed")
    assert run.status == "running"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert run.status == "failed"
    assert "interrupted" in (run.error or "")
    assert run.steps[0].status == "failed"
