"""A live refresh of a running run costs at most 2 round trips a tick (issue 22's budget),
against a real PostgreSQL server behind a latency proxy that counts them. The run is written
by another repository that reaches the server directly, so only the explorer's reads count."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from infra.latency_proxy import LatencyProxy
from infra.log_steps import HeldRun, dag_statuses
from zw_testing import wait_until

from zenml_widgets import HistoryExplorer
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

pytestmark = [pytest.mark.postgres]


def on(root: Path, url: str, artifacts: Path) -> Repository:
    repo = Repository.init(root)
    repo.register_stack("team", url, str(artifacts), activate=True)
    return Repository(root)


def tick_points(explorer: HistoryExplorer) -> int:
    """How many points of the held step's ``tick`` metric the explorer's curves show."""
    curves = explorer.curves.curves
    return 0 if curves is None or "tick" not in curves.points else len(curves.points["tick"].steps)


def test_a_tick_of_a_running_run_takes_two_round_trips(
    tmp_path: Path, postgres_url: str, latency_proxy: tuple[str, LatencyProxy]
) -> None:
    url, proxy = latency_proxy
    artifacts = tmp_path / "artifacts"
    writer = on(tmp_path / "writer", postgres_url, artifacts)
    held = HeldRun(writer, tmp_path)
    try:
        reader = on(tmp_path / "reader", url, artifacts)
        wait_until(lambda: reader.get_pipeline("held_chain").get_run("r")["held"].logs)
        explorer = HistoryExplorer(reader).select("held_chain", "r", "held")
        lines = len(explorer.logs.lines)
        points = tick_points(explorer)
        trips = []
        deadline = time.monotonic() + 60
        # till the log tail and the learning curve (flushed every 2 s) grew
        while (
            len(explorer.logs.lines) <= lines or tick_points(explorer) <= points or len(trips) < 3
        ):
            assert time.monotonic() < deadline, trips
            time.sleep(0.3)  # as the live refresh waits between ticks
            with proxy.counting() as counted:
                assert explorer.state.refresh_run()
            trips.append(counted.round_trips)
        assert max(trips) <= 2, trips
        print("round trips of the live ticks:", trips)
        assert ("held", "running") in dag_statuses(explorer)
        assert len(explorer.logs.lines) > lines  # the log tail grew (the artifact store)
        assert "<svg" in explorer.curves.chart.value  # the curve grew, read with the snapshot
        held.release()
        with proxy.counting() as counted:
            assert not explorer.state.refresh_run()  # ended: refreshed as refresh() does
        assert counted.round_trips <= 3, counted.round_trips
        assert ("after", "completed") in dag_statuses(explorer)
    finally:
        held.release()
        forget_metadata_stores()
