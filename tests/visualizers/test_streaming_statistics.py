"""Streaming statistics agree with the exact ones: exactly where promised, within the stated
bound elsewhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zenml_widgets.visualizers import streaming_statistics as ss
from zenml_widgets.visualizers.statistics import dataset_statistics, feature_stats

N = 400_000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(size=N)
    x[::97] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "n": rng.integers(0, 100, N),
            "zipf": pd.Series(rng.zipf(1.5, N) % 50_000).astype(str),
            "few": pd.Categorical(rng.choice(["a", "b", "c"], N)),
            "when": pd.date_range("2021-01-01", periods=N, freq="min", tz="UTC"),
            "flag": rng.random(N) < 0.3,
            "inf": np.where(rng.random(N) < 0.01, np.inf, rng.exponential(size=N)),
        }
    )


def _chunks(frame: pd.DataFrame, size: int = 30_000) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size] for i in range(0, len(frame), size)]


def _by_name(statistics: object) -> dict[str, object]:
    return {f.name: f for f in statistics.datasets[0].features}  # type: ignore[attr-defined]


def test_exact_figures_are_exact(frame: pd.DataFrame) -> None:
    exact = _by_name(dataset_statistics(frame, "d"))
    streamed_stats = ss.streaming_statistics(_chunks(frame), "d")
    assert streamed_stats.datasets[0].num_examples == N
    streamed = _by_name(streamed_stats)
    assert list(streamed) == list(exact)
    for name, feature in exact.items():
        other = streamed[name]
        assert other.type == feature.type, name  # type: ignore[attr-defined]
        a, ca = feature_stats(feature)
        b, cb = feature_stats(other)
        assert (ca.num_non_missing, ca.num_missing) == (cb.num_non_missing, cb.num_missing)
        if feature.WhichOneof("stats") == "num_stats":  # type: ignore[attr-defined]
            assert (a.min, a.max, a.num_zeros) == (b.min, b.max, b.num_zeros), name
            assert b.mean == pytest.approx(a.mean, rel=1e-9), name
            if np.isfinite(a.std_dev):
                assert b.std_dev == pytest.approx(a.std_dev, rel=1e-9), name
            assert sum(x.sample_count for x in b.histograms[0].buckets) == ca.num_non_missing
        else:
            assert b.avg_length == pytest.approx(a.avg_length, rel=1e-12)


def test_quantiles_and_histograms_within_the_stated_rank_error(frame: pd.DataFrame) -> None:
    streamed = _by_name(ss.streaming_statistics(_chunks(frame), "d"))
    x = frame["x"].dropna().to_numpy()
    stats, _ = feature_stats(streamed["x"])
    bound = ss.QUANTILE_RANK_ERROR * len(x)
    deciles = [b.low_value for b in stats.histograms[1].buckets] + [
        stats.histograms[1].buckets[-1].high_value
    ]
    for q, value in zip(np.linspace(0, 1, 11), deciles, strict=True):
        rank = np.searchsorted(np.sort(x), value)
        assert abs(rank - q * len(x)) <= bound + 1, (q, rank)
    exact_counts, _ = np.histogram(x, bins=10, range=(x.min(), x.max()))
    got = [b.sample_count for b in stats.histograms[0].buckets]
    assert np.all(np.abs(np.array(got) - exact_counts) <= 2 * bound + 1), (got, exact_counts)
    notes = {c.name: c.str for c in streamed["x"].custom_stats}  # type: ignore[attr-defined]
    assert "0.10% of the rows" in notes[ss.APPROXIMATION_STAT]


def test_top_values_within_the_stated_bound(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ss, "TOP_VALUES_CAPACITY", 500)  # force Misra-Gries reductions
    streamed = _by_name(ss.streaming_statistics(_chunks(frame), "d"))
    stats, _ = feature_stats(streamed["zipf"])
    exact = frame["zipf"].value_counts()
    for bucket in list(stats.rank_histogram.buckets)[:20]:
        true = exact[bucket.label]
        assert true - N / 501 <= bucket.sample_count <= true, bucket.label
    assert [b.label for b in list(stats.rank_histogram.buckets)[:3]] == list(exact.index[:3])
    distinct = frame["zipf"].nunique()
    assert abs(stats.unique - distinct) <= 0.06 * distinct  # KMV: ~1.6% standard error
    few, _ = feature_stats(streamed["few"])
    assert few.unique == 3
    assert {b.label: b.sample_count for b in few.rank_histogram.buckets} == dict(
        frame["few"].value_counts()
    )


def test_progress_advances_by_rows(frame: pd.DataFrame) -> None:
    class Bar:
        total = 0

        def update(self, n: int) -> None:
            self.total += n

    bar = Bar()
    ss.streaming_statistics(_chunks(frame), "d", progress=bar)
    assert bar.total == N


def test_chunk_percentiles_are_numpys_bit_for_bit() -> None:
    from zenml_widgets.visualizers.streaming_statistics import _GRID, _percentiles

    rng = np.random.default_rng(7)
    samples = [
        rng.normal(size=65_536),
        rng.integers(-5, 5, size=10_001).astype(np.float64),  # many ties
        rng.lognormal(0, 5, size=777),
        np.array([3.0]),
        np.array([1.0, -1.0]),
        np.array([2.0, 2.0, 2.0]),
        np.arange(1_000_003, dtype=np.float64)[::-1],
    ]
    for values in samples:
        assert np.array_equal(_percentiles(values), np.percentile(values, _GRID))
