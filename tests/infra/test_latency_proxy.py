"""The latency proxy counts round trips as the client sees them, and delays each way."""

from __future__ import annotations

import time

import psycopg
import pytest

from infra.latency_proxy import LatencyProxy

pytestmark = pytest.mark.postgres


def conninfo(url: str) -> str:
    return "postgresql://" + url.partition("://")[2]


def test_round_trips_are_counted(latency_proxy: tuple[str, LatencyProxy]) -> None:
    url, proxy = latency_proxy
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        with proxy.counting() as counted:
            conn.execute("SELECT 1").fetchall()
            conn.execute("SELECT 2").fetchall()
        assert counted.round_trips == 2
        with proxy.counting() as counted:
            with conn.pipeline():
                first = conn.execute("SELECT 1")
                second = conn.execute("SELECT 2")
            assert (first.fetchall(), second.fetchall()) == ([(1,)], [(2,)])
        assert counted.round_trips == 1  # a pipelined batch is one round trip
        with proxy.counting() as counted, conn.transaction():
            conn.execute("SELECT 3").fetchall()
        assert counted.round_trips == 3  # BEGIN, the statement, COMMIT


def test_each_way_is_delayed(latency_proxy: tuple[str, LatencyProxy]) -> None:
    url, proxy = latency_proxy
    proxy.delay = 0.05
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        started = time.perf_counter()
        for _ in range(3):
            conn.execute("SELECT 1").fetchall()
        assert 0.3 <= time.perf_counter() - started < 0.6  # three round trips of 2 x 50 ms


def test_cut_drops_every_connection(latency_proxy: tuple[str, LatencyProxy]) -> None:
    url, proxy = latency_proxy
    conn = psycopg.connect(conninfo(url), autocommit=True)
    conn.execute("SELECT 1").fetchall()
    proxy.cut()
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1").fetchall()
    conn.close()
