"""Metric points packed for reading whole (``metric_chunks``): written with each batch, a small
last chunk grown by the next batches, whole histories read back exactly as logged."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

from zenml_widgets.store import MetadataStore
from zenml_widgets.store import metric_chunks as chunks_module
from zenml_widgets.store.engine import get_engine


def _step(store: MetadataStore) -> tuple[int, int]:
    pipeline = store.get_or_create_pipeline("p")
    run = store.create_run(pipeline.id, "r", pid=None, hostname=None)
    step = store.create_step(
        run.id, position=0, name="trainer", entrypoint_name="trainer", parameters={},
        cache_key=None, code_hash="c",
    )  # fmt: skip
    return run.id, step.id


def _chunks(url: str) -> list[tuple[int, int, int]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            text("SELECT series_id, seq, points FROM metric_chunks ORDER BY series_id, seq")
        ).all()
    return [(int(a), int(b), int(c)) for a, b, c in rows]


def test_batches_grow_a_small_last_chunk_then_start_a_new_one(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Points logged a few at a time (a batch every 2 s) end in a few chunks, not one per batch;
    interleaved names keep each series' order; NaN and infinities come back as logged."""
    monkeypatch.setattr(chunks_module, "GROW_BELOW", 5)
    store = MetadataStore(store_url)
    run_id, step_id = _step(store)
    series: dict[str, int] = {}
    logged: dict[str, list[tuple[int, float]]] = {"loss": [], "acc": []}
    specials = [math.nan, math.inf, -math.inf]
    for batch in range(6):  # two points of each name per batch, interleaved
        points = []
        for i in range(2):
            seq = batch * 2 + i
            for name in ("loss", "acc"):
                value = specials[seq % 3] if name == "acc" and seq % 4 == 0 else seq / 3
                points.append((name, seq, 100 - seq, value, 1e9 + seq))
                logged[name].append((100 - seq, value))
        store.record_metrics(
            run_id=run_id, step_id=step_id, step_name="trainer", attempt=1, points=points,
            series=series, fresh=batch == 0,
        )  # fmt: skip
    acc, loss = series["acc"], series["loss"]
    # a chunk grows while it holds fewer than 5 points: 2, 4, 6 | 2, 4, 6
    assert _chunks(store_url) == sorted(
        [(acc, 0, 6), (acc, 6, 6), (loss, 0, 6), (loss, 6, 6)]
    )  # fmt: skip
    for name, expected in logged.items():
        found = store.metric_column(step_id, name)
        assert found is not None
        assert list(found.steps) == [s for s, _ in expected]
        values = [(math.isnan(v), v if not math.isnan(v) else 0) for v in found.values]
        assert values == [(math.isnan(v), v if not math.isnan(v) else 0) for _, v in expected]
    table = dict(store.metric_table(step_id))
    assert list(table["loss"].times) == [1e9 + seq for seq in range(12)]
    assert store.metric_column(step_id, "nope") is None


def test_a_retry_writes_its_own_chunks(store_url: str) -> None:
    """A new attempt's points are a new series: the first attempt's chunks are not grown."""
    store = MetadataStore(store_url)
    run_id, step_id = _step(store)
    first: dict[str, int] = {}
    second: dict[str, int] = {}
    for attempt, series, value in ((1, first, 1.0), (2, second, 2.0)):
        store.record_metrics(
            run_id=run_id, step_id=step_id, step_name="trainer", attempt=attempt,
            points=[("loss", 0, 0, value, 1.0)], series=series, fresh=True,
        )  # fmt: skip
    assert first["loss"] != second["loss"]
    assert _chunks(store_url) == [(first["loss"], 0, 1), (second["loss"], 0, 1)]


def test_a_picture_samples_every_kth_point_and_the_last(store_url: str) -> None:
    """``step_curves``/``curve_histories`` with ``max_points``: every k-th point (k so that at
    most ``max_points`` remain) and the last, found by key, for series of many lengths."""
    store = MetadataStore(store_url)
    run_id, step_id = _step(store)
    lengths = {"a": 1, "b": 2, "c": 6, "d": 7, "e": 8, "f": 15, "g": 50, "h": 99}
    points = [(name, seq, seq * 10, seq / 2, float(seq)) for name, n in lengths.items()
              for seq in range(n)]  # fmt: skip
    store.record_metrics(
        run_id=run_id, step_id=step_id, step_name="trainer", attempt=1, points=points, series={},
        fresh=True,
    )  # fmt: skip
    series, sampled = store.step_curves(step_id, max_points=7)
    assert [(s.name, s.points) for s in series] == sorted(lengths.items())
    for name, n in lengths.items():
        k = -(-n // 7)
        expected = sorted({*range(0, n, k), n - 1})
        assert sampled[name].steps == [seq * 10 for seq in expected], name
        assert sampled[name].values == [seq / 2 for seq in expected], name
        assert len(expected) <= 8
    store.finish_step(step_id, "completed")
    found = store.curve_histories("trainer.metrics.h", run_ids=[run_id], max_points=7)
    assert found[run_id][1].steps == [seq * 10 for seq in sorted({*range(0, 99, 15), 98})]
    whole = store.curve_histories("trainer.metrics.h", run_ids=[run_id])
    assert whole[run_id][1].steps == [seq * 10 for seq in range(99)]
