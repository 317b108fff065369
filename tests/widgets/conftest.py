"""Histories for the widget tests: a few real runs, or hundreds written through the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zw_testing as t

from zenml_widgets.exceptions import StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores
from zenml_widgets.store import NewArtifact

PANDAS = "zenml_widgets.materializers.pandas_materializer.PandasMaterializer"


@pytest.fixture(autouse=True)
def _forget_stores() -> Iterator[None]:
    yield
    forget_metadata_stores()


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repository:
    """training_pipeline runs 'first' and 'second', and a failed run of failing_pipeline.

    The current folder is the repository, so ``Repository()`` finds it.
    """
    root = tmp_path / "repo"
    repo = Repository.init(root)
    monkeypatch.chdir(root)
    t.make_training(epochs=1).run(run_name="first", repository=repo)
    t.make_training(epochs=2, seed=1).run(run_name="second", repository=repo)
    with pytest.raises(StepFailedError):
        t.failing_pipeline(importer=t.importer(), exploding=t.exploding()).run(
            run_name="broken", repository=repo
        )
    return repo


def bulk_runs(repo: Repository, pipeline: str, count: int, *, prefix: str = "bulk") -> None:
    """``count`` finished runs of one step each, written through the store in one transaction."""
    store = repo.active_stack.metadata_store
    record = store.get_or_create_pipeline(pipeline)
    with store.transaction():
        for i in range(count):
            run = store.create_run(record.id, f"{prefix}-{i:05d}", pid=None, hostname="elsewhere")
            step = store.create_step(
                run.id, position=0, name="loader", entrypoint_name="load",
                parameters={"i": i}, cache_key=None, code_hash=None,
            )  # fmt: skip
            out = NewArtifact("data", f"bulk/{run.id}", "pandas.DataFrame", PANDAS, size_bytes=10)
            store.finish_step(step.id, "completed", outputs=[out])
            store.finish_run(run.id, "completed")


@pytest.fixture
def big_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repository:
    """A pipeline 'bulk' with 300 runs (bulk-00000 oldest ... bulk-00299 newest)."""
    root = tmp_path / "big"
    repo = Repository.init(root)
    monkeypatch.chdir(root)
    bulk_runs(repo, "bulk", 300)
    return repo
