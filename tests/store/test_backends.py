"""The store's backends: one text per read on SQLite and PostgreSQL, URLs, and what opening and
reading a store costs (no SQLAlchemy, no transactions of their own)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import zw_testing as t

from zenml_widgets.exceptions import StoreError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores
from zenml_widgets.store import MetadataStore, NewArtifact
from zenml_widgets.store.backends.sqlite import database_file

ODD_NAMES = ("a%b", "a_b", "A/B", "ÄB", "plain", "x%_/y")


def write_history(store: MetadataStore) -> None:
    """The same varied history, written the same way into any store."""
    p = store.get_or_create_pipeline("odd names")
    for name in ODD_NAMES:
        run = store.create_run(p.id, name, pid=42, hostname="h")
        first = store.create_step(
            run.id, position=0, name="s", entrypoint_name="s", parameters={"n": name, "x": 1.5},
            cache_key="k", code_hash=None, cache_enabled=name == "plain",
        )  # fmt: skip
        out = NewArtifact(
            "o", f"x/{run.id}", "int", "m", size_bytes=3, shape=(2, 5), values={"": 7}
        )
        (artifact,) = store.finish_step(first.id, "completed", outputs=[out])
        second = store.create_step(
            run.id, position=1, name="t", entrypoint_name="t", parameters={},
            cache_key=None, code_hash="c", cache_enabled=None,
        )  # fmt: skip
        store.add_inputs(second.id, {"data": artifact.id})
        store.finish_step(second.id, "failed", error="boom\nsecond line")
        store.finish_run(run.id, "failed", error="boom")
    store.create_run(p.id, "still running", pid=None, hostname=None)


def every_read(store: MetadataStore) -> list[tuple[str, Any]]:
    """Every read of the store over the history above, with its answer."""
    answers: list[tuple[str, Any]] = [("pipelines", store.list_pipelines())]
    (p,) = store.list_pipelines()
    answers.append(("count", store.count_runs(p.id)))
    answers.append(("names", store.list_run_names(p.id)))
    answers.append(("newest names", store.list_run_names(p.id, 3)))
    for options in (
        {},
        {"offset": 2},
        {"limit": 5},
        {"offset": 3, "limit": 4, "newest_first": True},
        {"name_contains": "a%"},
        {"name_contains": "a_"},
        {"name_contains": "/b"},
        {"name_contains": "%_/"},
        {"name_contains": "B"},
        {"name_contains": "a", "before_id": 6, "after_id": 1, "newest_first": True},
    ):
        answers.append((f"runs {options}", [r.name for r in store.list_runs(p.id, **options)]))
    for run in store.list_runs(p.id):
        answers += [
            ("run", store.get_run(run.id)),
            ("by name", store.get_run_by_name(p.id, run.name)),
        ]
        answers.append(("step at", store.get_step_at(run.id, 1)))
        for step in store.list_steps(run.id):
            answers += [("step", store.get_step(step.id)), ("outputs", store.list_outputs(step.id))]
            answers.append(("inputs", store.list_inputs(step.id)))
    answers.append(("cache", store.find_cached_step("k")))
    answers.append(("columns", store.list_value_columns(None)))
    answers.append(("missing", (store.get_pipeline("missing"), store.get_run_by_name(p.id, "x"))))
    return answers


def timeless(value: Any) -> Any:
    """``value`` with every datetime of its records blanked (two stores write at other times)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: timeless(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name.endswith(("_time", "_at", "artifact"))
        }
        return dataclasses.replace(
            value, **{k: v if k == "artifact" else None for k, v in changes.items()}
        )
    if isinstance(value, list | tuple):
        return type(value)(timeless(v) for v in value)
    return value


@pytest.mark.postgres
def test_every_read_answers_the_same_on_sqlite_and_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    answers = []
    for url in (f"sqlite:///{tmp_path}/m.db", postgres_url):
        store = MetadataStore(url)
        write_history(store)
        answers.append(timeless(every_read(store)))
        store.close()
    sqlite, postgres = answers
    assert len(sqlite) > 40
    for (what, a), (_, b) in zip(sqlite, postgres, strict=True):
        assert a == b, what
    names = dict(sqlite)
    assert names["runs {'name_contains': 'a%'}"] == ["a%b"]
    assert names["runs {'name_contains': 'a_'}"] == ["a_b"]
    assert names["runs {'name_contains': '%_/'}"] == ["x%_/y"]
    assert names["runs {'name_contains': '/b'}"] == ["A/B"]


def test_missing_rows_are_store_errors_naming_the_read(sqlite_repo: Repository) -> None:
    store = sqlite_repo.active_stack.metadata_store
    for name, action in (
        ("get_run", "a run"),
        ("get_step", "a step"),
        ("get_artifact", "an artifact"),
    ):
        with pytest.raises(StoreError, match=f"failed while reading {action}: no row was found"):
            getattr(store, name)(9999)


def test_urls_name_the_database_as_sqlalchemy_does(tmp_path: Path) -> None:
    assert database_file(f"sqlite:///{tmp_path}/m.db") == tmp_path / "m.db"
    assert database_file("sqlite:///relative/m.db") == Path("relative/m.db")
    assert database_file(f"sqlite+pysqlite:///{tmp_path}/a b+c.db") == tmp_path / "a b+c.db"
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:m.db?mode=ro&uri=true"):
        assert database_file(url) is None
    with pytest.raises(StoreError, match=r"Unsupported options.*bogus"):
        MetadataStore(f"sqlite:///{tmp_path}/m.db?bogus=1")
    with pytest.raises(StoreError, match="supports sqlite://, postgresql:// URLs"):
        MetadataStore("mysql://u:secret@h/db")


def test_a_memory_store_is_one_database_for_every_thread() -> None:
    store = MetadataStore("sqlite://")
    p = store.get_or_create_pipeline("p")
    seen: list[list[str]] = []
    thread = threading.Thread(target=lambda: seen.append([x.name for x in store.list_pipelines()]))
    thread.start()
    thread.join()
    assert seen == [["p"]] and store.get_pipeline("p") == p
    other = MetadataStore("sqlite:///:memory:")
    assert other.list_pipelines() == []  # another store, another database


def test_a_read_only_uri_store_reads(sqlite_repo: Repository) -> None:
    t.bulk_runs(sqlite_repo, "bulk", 3)
    db = database_file(sqlite_repo.active_stack.metadata_url)
    store = MetadataStore(f"sqlite:///file:{db}?mode=ro&uri=true")
    (p,) = store.list_pipelines()
    assert store.count_runs(p.id) == 3
    with pytest.raises(StoreError, match="readonly"):
        store.get_or_create_pipeline("new")


def test_reads_inside_a_transaction_see_its_writes(sqlite_repo: Repository) -> None:
    store = sqlite_repo.active_stack.metadata_store
    p = store.get_or_create_pipeline("p")
    with store.transaction():
        run = store.create_run(p.id, "r", pid=None, hostname=None)
        assert store.get_run(run.id).name == "r"
        assert store.count_runs(p.id) == 1
    with pytest.raises(RuntimeError), store.transaction():
        store.create_run(p.id, "gone", pid=None, hostname=None)
        raise RuntimeError
    assert [r.name for r in store.list_runs(p.id)] == ["r"]


def test_reads_send_one_statement_each(repo: Repository) -> None:
    """Reads are autocommitted single statements: no BEGIN / COMMIT of their own."""
    t.bulk_runs(repo, "bulk", 3)
    sent: list[str] = []
    stop = t.watch_sql(repo, lambda statement, _params: sent.append(statement))
    try:
        run = repo.get_pipeline("bulk").runs[-1]
        [s.outputs for s in run.steps]
    finally:
        stop()
    assert sent and all(s.startswith("SELECT") for s in sent), sent


def test_reading_and_writing_import_no_sqlalchemy(sqlite_repo: Repository) -> None:
    """A store already at the newest schema is read and written without SQLAlchemy."""
    t.bulk_runs(sqlite_repo, "bulk", 2)
    forget_metadata_stores()
    code = (
        "import sys; from zenml_widgets.store import MetadataStore; "
        f"s = MetadataStore({sqlite_repo.active_stack.metadata_url!r}, create=False); "
        "p = s.get_pipeline('bulk'); assert s.count_runs(p.id) == 2; "
        "r = s.create_run(p.id, 'new', pid=None, hostname=None); s.finish_run(r.id, 'completed'); "
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_deleted_store_is_still_reported_as_missing(sqlite_repo: Repository) -> None:
    url = sqlite_repo.active_stack.metadata_url
    forget_metadata_stores()
    path = database_file(url)
    assert path is not None
    path.unlink()
    with pytest.raises(StoreError, match="does not exist: it was deleted or moved"):
        MetadataStore(url, create=False)


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "m.db").write_text("not a database " * 100)
    with pytest.raises(StoreError, match="failed while opening the store"):
        MetadataStore(f"sqlite:///{tmp_path}/m.db")


def test_a_process_that_wrote_leaves_no_write_ahead_log(tmp_path: Path) -> None:
    """SQLite keeps recent writes in ``-wal`` until a checkpoint; the last connection's close
    does one, and the store closes its connections when the process ends."""
    code = (
        "import zw_testing as t; from zenml_widgets.repository import Repository; "
        "repo = Repository.init('.'); t.make_training(epochs=2).run(run_name='a', repository=repo)"
    )
    t.run_python(code, cwd=tmp_path)
    database = tmp_path / ".zen" / "metadata.db"
    wal = database.with_name("metadata.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert database.stat().st_size > 16_384  # the history is in the database file itself
    store = MetadataStore(f"sqlite:///{database}", create=False)
    assert [r.name for r in store.list_runs(store.list_pipelines()[0].id)] == ["a"]
