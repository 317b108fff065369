"""Metrics logged by steps running on Dask workers: each worker writes them to the store itself
(the client never does), on a LocalCluster and on an external ``dask scheduler`` + workers."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from infra.dask_cluster import ExternalCluster, local_cluster
from infra.metric_steps import two_trainers, worker_curves

from zenml_widgets.repository import Repository

pytestmark = pytest.mark.slow


def _run(repo: Repository, name: str) -> Any:
    return two_trainers(a=worker_curves(epochs=5), b=worker_curves(epochs=3, factor=2.0)).run(
        run_name=name, repository=repo
    )


def _on_dask(root: Path, url: str, address: str) -> Repository:
    repo = Repository.init(root)
    repo.register_stack(
        "cluster", url, str(root / "artifacts"), orchestrator="dask",
        orchestrator_options={"address": address}, activate=True,
    )  # fmt: skip
    return Repository(root)


def _check(repo: Repository, run_name: str) -> None:
    statements: list[str] = []
    store = repo.active_stack.metadata_store
    store.trace_statements(lambda sql, _params: statements.append(sql))
    try:
        run = _run(repo, run_name)
    finally:
        store.trace_statements(None)
    # the client wrote none of the points: the workers did
    assert not [s for s in statements if "metric_points" in s or "metric_series" in s]
    a, b = run.get_step("a"), run.get_step("b")
    assert a.output.read() != os.getpid() and b.output.read() != os.getpid()
    assert a.metric_history("loss").tolist() == [1.0, 1 / 2, 1 / 3, 1 / 4, 1 / 5]
    assert b.metric_history("loss").index.tolist() == [0, 1, 2]
    assert set(a.metric_history("epoch_pid")) == {float(a.output.read())}
    odd = a.metric_history("odd").tolist()
    assert math.isnan(odd[0]) and odd[1] == -math.inf
    assert b.metric_history("from_thread").tolist() == [7.0]
    frame = Repository(repo.root).get_pipeline("two_trainers").runs.to_dataframe()
    assert frame["a.metrics.loss"].tolist() == [1 / 5]
    assert frame["b.metrics.loss"].tolist() == [2 / 3]


@pytest.fixture(scope="module")
def cluster_address() -> Iterator[str]:
    """A LocalCluster of 2 worker processes for the module."""
    with local_cluster() as address:
        yield address


def test_metrics_from_local_cluster_workers(
    tmp_path: Path, store_url: str, cluster_address: str
) -> None:
    _check(_on_dask(tmp_path / "repo", store_url, cluster_address), "local-cluster")


def test_metrics_from_an_external_cluster(tmp_path: Path, postgres_url: str) -> None:
    with ExternalCluster(workers=2) as cluster:
        _check(_on_dask(tmp_path / "repo", postgres_url, cluster.address), "external")
