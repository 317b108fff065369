"""The sqlite3 read path answers every read exactly as the SQLAlchemy one does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zw_testing as t

from zenml_widgets.exceptions import StoreError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores
from zenml_widgets.store import MetadataStore, NewArtifact
from zenml_widgets.store.engine import describe_url, sqlite_file
from zenml_widgets.store.sql_store import SqlStore
from zenml_widgets.store.sqlite_reader import SqliteReader, plain_sqlite_path


@pytest.fixture
def both(tmp_path: Path) -> tuple[SqliteReader, SqlStore, Repository]:
    """A store with varied history, and its two read paths."""
    repo = t.make_repo(tmp_path / "repo")
    t.make_training(epochs=1).run(run_name="first", repository=repo)
    t.make_training(epochs=1).run(run_name="cached", repository=repo)  # cached steps
    t.bulk_runs(repo, "bulk", 40)
    store = repo.active_stack.metadata_store
    p = store.get_or_create_pipeline("odd names")
    for name in ("a%b", "a_b", "A/B", "ÄB", "plain", "x%_/y"):
        run = store.create_run(p.id, name, pid=42, hostname="h")
        step = store.create_step(
            run.id, position=0, name="s", entrypoint_name="s", parameters={"n": name},
            cache_key=None, code_hash=None, cache_enabled=name == "plain",
        )  # fmt: skip
        out = NewArtifact("o", f"x/{run.id}", "int", "m", size_bytes=3, shape=(2, 5))
        store.finish_step(step.id, "failed", outputs=[out], error="boom\nsecond line")
        store.finish_run(run.id, "failed", error="boom")
    store.create_run(p.id, "still running", pid=None, hostname=None)
    url = repo.active_stack.metadata_url
    path = plain_sqlite_path(url)
    assert path is not None
    return SqliteReader(path, url), SqlStore(url), repo


def test_every_read_gives_the_same_records(
    both: tuple[SqliteReader, SqlStore, Repository],
) -> None:
    reader, sql, _ = both
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [("list_pipelines", (), {})]
    for p in sql.list_pipelines():
        calls += [
            ("get_pipeline", (p.name,), {}),
            ("get_pipeline_by_id", (p.id,), {}),
            ("count_runs", (p.id,), {}),
            ("list_run_names", (p.id,), {}),
            ("list_run_names", (p.id, 3), {}),
            ("list_runs", (p.id,), {}),
        ]
        for options in (
            {"offset": 2},
            {"limit": 5},
            {"offset": 3, "limit": 4, "newest_first": True},
            {"name_contains": "a%"},
            {"name_contains": "a_"},
            {"name_contains": "/b"},
            {"name_contains": "%_/"},
            {"name_contains": "B"},
            {"name_contains": "0001", "before_id": 30, "after_id": 5, "newest_first": True},
        ):
            calls.append(("list_runs", (p.id,), options))
        for run in sql.list_runs(p.id):
            calls += [
                ("get_run", (run.id,), {}),
                ("get_run_by_name", (p.id, run.name), {}),
                ("list_steps", (run.id,), {}),
                ("get_step_at", (run.id, 1), {}),
                ("get_step_at", (run.id, 99), {}),
            ]
            for step in sql.list_steps(run.id):
                calls += [
                    ("get_step", (step.id,), {}),
                    ("list_outputs", (step.id,), {}),
                    ("list_inputs", (step.id,), {}),
                ]
                for output in sql.list_outputs(step.id):
                    calls.append(("get_artifact", (output.id,), {}))
    calls += [("get_pipeline", ("missing",), {}), ("get_run_by_name", (1, "missing"), {})]
    assert len(calls) > 400
    for name, args, kwargs in calls:
        expected = getattr(sql, name)(*args, **kwargs)
        assert getattr(reader, name)(*args, **kwargs) == expected, (name, args, kwargs)
    # the history above has what the comparison needs to mean something
    runs = [r for p in sql.list_pipelines() for r in sql.list_runs(p.id)]
    steps = [s for r in runs for s in sql.list_steps(r.id)]
    assert {s.cache_enabled for s in steps} == {None, True, False}
    assert any(s.source_step_id for s in steps) and any(s.error for s in steps)
    assert any(i for s in steps for i in sql.list_inputs(s.id))


def test_missing_rows_fail_as_on_the_sqlalchemy_path(
    both: tuple[SqliteReader, SqlStore, Repository],
) -> None:
    reader, sql, _ = both
    for name, arg in (("get_run", 9999), ("get_step", 9999), ("get_artifact", 9999)):
        with pytest.raises(StoreError) as light:
            getattr(reader, name)(arg)
        with pytest.raises(StoreError) as heavy:
            getattr(sql, name)(arg)
        assert str(light.value) == str(heavy.value)


def test_plain_urls_are_read_as_sqlalchemy_reads_them(tmp_path: Path) -> None:
    for url in (
        f"sqlite:///{tmp_path}/m.db",
        "sqlite:///relative/m.db",
        f"sqlite+pysqlite:///{tmp_path}/a b+c.db",
    ):
        assert plain_sqlite_path(url) == sqlite_file(url)
        assert describe_url(url) == url
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:m.db?mode=ro&uri=true",
        f"sqlite:///{tmp_path}/m.db?timeout=3",
        f"sqlite:///{tmp_path}/a%20b.db",
        "postgresql+psycopg://u:p@h/db",
    ):
        assert plain_sqlite_path(url) is None


def test_reads_inside_a_transaction_see_its_writes(sqlite_repo: Repository) -> None:
    store = sqlite_repo.active_stack.metadata_store
    p = store.get_or_create_pipeline("p")
    with store.transaction():
        run = store.create_run(p.id, "r", pid=None, hostname=None)
        assert store.get_run(run.id).name == "r"
        assert store.count_runs(p.id) == 1


def test_a_reading_process_leaves_the_store_to_sqlalchemy_once_it_writes(
    sqlite_repo: Repository,
) -> None:
    t.bulk_runs(sqlite_repo, "bulk", 2)
    forget_metadata_stores()
    store = MetadataStore(sqlite_repo.active_stack.metadata_url, create=False)
    assert store._sql_store is None  # reading needs no SQLAlchemy store
    assert store.count_runs(store.get_pipeline("bulk").id) == 2  # type: ignore[union-attr]
    assert store._sql_store is None
    store.get_or_create_pipeline("new")
    assert store._sql_store is not None
    assert [p.name for p in store.list_pipelines()] == ["bulk", "new"]


def test_a_deleted_store_is_still_reported_as_missing(sqlite_repo: Repository) -> None:
    url = sqlite_repo.active_stack.metadata_url
    forget_metadata_stores()
    path = sqlite_file(url)
    assert path is not None
    path.unlink()
    with pytest.raises(StoreError, match="does not exist: it was deleted or moved"):
        MetadataStore(url, create=False)


def test_a_file_that_is_not_a_database_fails_as_before(tmp_path: Path) -> None:
    (tmp_path / "m.db").write_text("not a database " * 100)
    with pytest.raises(StoreError, match="failed while opening the store"):
        MetadataStore(f"sqlite:///{tmp_path}/m.db")
