"""The worked example "How to add a store backend" of docs/ARCHITECTURE.md runs as written."""

from __future__ import annotations

import sys
import types

import pytest
import zw_testing as t

from zenml_widgets.exceptions import StoreError
from zenml_widgets.repository import Repository
from zenml_widgets.store import MetadataStore
from zenml_widgets.store.backends import BACKENDS


def example(heading: str) -> str:
    (code,) = t.doc_blocks(heading)
    return code


def test_the_read_only_backend_of_the_docs(
    sqlite_repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    t.bulk_runs(sqlite_repo, "bulk", 3)
    module = types.ModuleType("my_backends")
    monkeypatch.setitem(sys.modules, "my_backends", module)
    monkeypatch.setitem(BACKENDS, "sqlite-ro", "")
    exec(compile(example("How to add a store backend"), "my_backends", "exec"), module.__dict__)
    assert BACKENDS["sqlite-ro"] == "my_backends:ReadOnlySqliteBackend"
    path = sqlite_repo.active_stack.metadata_url.removeprefix("sqlite:///")
    store = MetadataStore(f"sqlite-ro:///{path}")
    (pipeline,) = store.list_pipelines()
    assert store.count_runs(pipeline.id) == 3
    assert repr(store) == f"MetadataStore('sqlite-ro:///{path}')"
    with pytest.raises(StoreError, match="readonly"):
        store.get_or_create_pipeline("new")
