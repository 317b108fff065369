"""Histories for the widget tests: a few real runs, or hundreds written through the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zw_testing as t

from zenml_widgets.exceptions import StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores


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


@pytest.fixture
def big_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repository:
    """A pipeline 'bulk' with 300 runs (bulk-00000 oldest ... bulk-00299 newest)."""
    root = tmp_path / "big"
    repo = Repository.init(root)
    monkeypatch.chdir(root)
    t.bulk_runs(repo, "bulk", 300)
    return repo
