"""A stack: one metadata store plus one artifact store, opened lazily."""

from __future__ import annotations

import json
import sys
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from zenml_widgets.artifacts import ArtifactStore, is_remote_location, open_artifact_store
from zenml_widgets.config import (
    REPO_DIR,
    STATEMENT_TIMEOUT,
    RepositoryConfig,
    StackConfig,
    find_repository_root,
)
from zenml_widgets.store import MetadataStore

_stores: dict[tuple[str, float], MetadataStore] = {}
_stores_lock = threading.Lock()


def open_metadata_store(
    url: str, *, create: bool = True, statement_timeout: float = STATEMENT_TIMEOUT
) -> MetadataStore:
    """The process-wide ``MetadataStore`` for ``url`` (schema checked once per process).

    ``create=False``: a missing SQLite file is a ``StoreError``, not a new empty store.
    """
    key = (url, statement_timeout)
    with _stores_lock:
        store = _stores.get(key)
    if store is None:
        store = MetadataStore(url, create=create, statement_timeout=statement_timeout)
        with _stores_lock:
            store = _stores.setdefault(key, store)
    return store


def forget_metadata_stores() -> None:
    """Drop the process-wide stores (tests; after a database was deleted)."""
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        store.close()
    engine = sys.modules.get("zenml_widgets.store.engine")
    if engine is not None:  # SQLAlchemy engines exist only where a schema was migrated
        engine.dispose_engines()


def open_stack(path: str | Path | None = None, stack_key: str | None = None) -> Stack:
    """The stack ``stack_key`` (default: the active one) of the repository found from
    ``path`` (as ``Repository(path)`` finds it)."""
    config = RepositoryConfig.load(find_repository_root(path))
    return Stack(config.stack(stack_key if stack_key is not None else config.active), config)


class Stack:
    """A named pair of stores of a repository."""

    def __init__(self, config: StackConfig, repo_config: RepositoryConfig) -> None:
        self.key = config.name
        self.config = config
        self.metadata_url = repo_config.resolve_metadata_url(config)
        self.artifact_root = repo_config.resolve_artifact_root(config)
        self.cache_root = repo_config.root / REPO_DIR / "cache" / config.name

    def __repr__(self) -> str:
        return f"Stack({self.key!r})"

    @property
    def _statement_timeout(self) -> float:
        return float(self.config.metadata_store_options.get("statement_timeout", STATEMENT_TIMEOUT))

    def __reduce__(self) -> tuple[Any, ...]:
        # A stack travels to other processes (Dask workers) as its resolved settings: the
        # worker may not see the repository folder, and opens both stores itself.
        return (
            _rebuild_stack,
            (self.config, self.metadata_url, str(self.artifact_root), str(self.cache_root)),
        )

    @property
    def orchestrator(self) -> str:
        """The name of what runs this stack's pipelines (see ``zenml_widgets.orchestration``)."""
        return self.config.orchestrator

    @cached_property
    def metadata_store(self) -> MetadataStore:
        """The stack's metadata store (opened on first use; it must exist)."""
        return open_metadata_store(
            self.metadata_url, create=False, statement_timeout=self._statement_timeout
        )

    def create_metadata_store(self) -> MetadataStore:
        """The stack's metadata store, created if it does not exist yet (init, runs)."""
        store = open_metadata_store(
            self.metadata_url, create=True, statement_timeout=self._statement_timeout
        )
        self.__dict__["metadata_store"] = store
        return store

    @cached_property
    def artifact_store(self) -> ArtifactStore:
        """The stack's artifact store: a local folder, or object storage (``s3://...``)."""
        return open_artifact_store(self.artifact_root, self.config.artifact_store_options)

    def artifact_cache_dir(self, key: str) -> Path:
        """A local folder for derived data of artifact ``key`` (e.g. statistics)."""
        import hashlib

        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        return self.cache_root / "artifacts" / digest


_rebuilt: dict[str, Stack] = {}


def _rebuild_stack(
    config: StackConfig, metadata_url: str, artifact_root: str, cache_root: str
) -> Stack:
    """A stack unpickled in another process; one instance per stack and process, so its
    stores are opened once per worker, not once per task."""
    token = json.dumps([config.name, config.to_json(), metadata_url, artifact_root, cache_root])
    with _stores_lock:
        stack = _rebuilt.get(token)
        if stack is None:
            stack = Stack.__new__(Stack)
            stack.key = config.name
            stack.config = config
            stack.metadata_url = metadata_url
            remote = is_remote_location(artifact_root)
            stack.artifact_root = artifact_root if remote else Path(artifact_root)
            stack.cache_root = Path(cache_root)
            _rebuilt[token] = stack
        return stack
