"""Facets statistics of data larger than memory, computed one chunk (row group) at a time.

:func:`streaming_statistics` takes an iterable of DataFrame chunks with the same columns and
holds, per column, only a small mergeable summary:

* exact: row count, missing and non-missing counts, zeros, min, max, mean and standard deviation
  (merged with Chan's parallel formula), average string length, counts of infinities;
* approximate, with the bound recorded in each feature's custom statistic
  ``approximation`` (and :data:`QUANTILE_RANK_ERROR` / :data:`TOP_VALUES_CAPACITY`):

  - quantiles (deciles and median): each chunk keeps its exact ``SKETCH_POINTS``-quantiles;
    merging them estimates any rank within ``rows / (SKETCH_POINTS - 1)`` per compaction level
    (a compaction happens every ``MAX_SKETCHES`` chunks), i.e. 0.1 % of the rows for files of
    up to 256 row groups. The equal-width histogram's counts come from the same estimate;
  - top values and rank histogram of string columns: a Misra-Gries summary of
    ``TOP_VALUES_CAPACITY`` values; each count is low by at most ``rows / (capacity + 1)``
    (exact when the column has fewer distinct values);
  - distinct values: exact below ``KMV_SIZE`` distinct values, else a k-minimum-values
    estimate with a relative standard error of about ``1 / sqrt(KMV_SIZE)`` (1.6 %).

Memory is bounded by the largest chunk plus ``O(columns x (SKETCH_POINTS x MAX_SKETCHES +
TOP_VALUES_CAPACITY + KMV_SIZE))`` numbers, whatever the number of rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from zenml_widgets.visualizers._columns import (
    NumericColumn,
    StringColumn,
    summarise_column,
)
from zenml_widgets.visualizers.statistics import (
    DEFAULT_MAX_RANK_BUCKETS,
    DTYPE_STAT,
    HISTOGRAM_BUCKETS,
    _feature_names,
    _fill_common,
    _fill_quantiles,
    _fs,
    _typed_stats,
    combine_statistics,
)

__all__ = [
    "APPROXIMATION_STAT",
    "KMV_SIZE",
    "MAX_SKETCHES",
    "QUANTILE_RANK_ERROR",
    "SKETCH_POINTS",
    "TOP_VALUES_CAPACITY",
    "streaming_statistics",
]

#: Exact quantiles kept per chunk and column.
SKETCH_POINTS = 1001
#: Chunk summaries kept per column before they are compacted into one.
MAX_SKETCHES = 256
#: Rank error of quantiles per compaction level, as a fraction of the rows.
QUANTILE_RANK_ERROR = 1.0 / (SKETCH_POINTS - 1)
#: Values counted per string column (Misra-Gries summary).
TOP_VALUES_CAPACITY = 20_000
#: Hashes kept per string column for the distinct-value estimate.
KMV_SIZE = 4096
#: Name of the custom statistic stating how a feature's figures were approximated.
APPROXIMATION_STAT = "approximation"

_GRID = np.linspace(0.0, 100.0, SKETCH_POINTS)
_DECILES = np.linspace(0.0, 1.0, 11)


@dataclass
class _Numeric:
    is_integer: bool
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    zeros: int = 0
    neginf: int = 0
    posinf: int = 0
    lo: float = np.inf  # finite min / max
    hi: float = -np.inf
    sketches: list[tuple[np.ndarray[Any, Any], int]] = field(default_factory=list)
    compactions: int = 0
    moments_count: int = 0  # finite values in mean and m2

    def add(self, values: np.ndarray[Any, Any]) -> None:
        n = int(values.size)
        if not n:
            return
        finite = np.isfinite(values)
        all_finite = bool(finite.all())
        kept = values if all_finite else values[finite]
        if not all_finite:
            self.neginf += int(np.count_nonzero(values == -np.inf))
            self.posinf += int(values.size - kept.size - np.count_nonzero(values == -np.inf))
        self.zeros += int(n - np.count_nonzero(values))
        self.count += n - kept.size  # infinities: counted, left out of the moments
        n = int(kept.size)
        if n:
            mean = float(kept.mean())
            m2 = float(((kept - mean) ** 2).sum())
            total = self.moments_count + n
            delta = mean - self.mean
            self.mean += delta * n / total
            self.m2 += m2 + delta * delta * self.moments_count * n / total
            self.moments_count = total
        total = self.count + n
        self.count = total
        if kept.size:
            points = _percentiles(kept)
            self.lo, self.hi = min(self.lo, float(points[0])), max(self.hi, float(points[-1]))
            self.sketches.append((points, int(kept.size)))
            if len(self.sketches) > MAX_SKETCHES:
                merged = self.quantiles(_GRID / 100.0)
                self.sketches = [(merged, sum(c for _, c in self.sketches))]
                self.compactions += 1

    @property
    def finite_count(self) -> int:
        return sum(c for _, c in self.sketches)

    def cdf(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Estimated number of finite values <= each of ``x``."""
        total = np.zeros(len(x))
        for points, count in self.sketches:
            ranks = np.linspace(0.0, 1.0, len(points))
            total += count * np.interp(x, points, ranks, left=0.0, right=1.0)
        return total

    def quantiles(self, qs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Estimated quantiles of the finite values (exact at 0 and 1)."""
        if len(self.sketches) == 1:
            points, _ = self.sketches[0]
            return np.asarray(np.interp(qs, np.linspace(0.0, 1.0, len(points)), points))
        grid = np.unique(np.concatenate([p for p, _ in self.sketches]))
        cdf = self.cdf(grid) / self.finite_count
        out = np.interp(qs, cdf, grid)
        out[qs <= 0.0] = self.lo
        out[qs >= 1.0] = self.hi
        return np.asarray(out, dtype=np.float64)


def _percentiles(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``np.percentile(values, _GRID)``, bit for bit, from one sort: ``np.percentile`` with
    1,001 points partitions around each of them and takes almost twice as long. The sort
    releases the GIL, so the numeric columns of a chunk are sketched in parallel threads."""
    ordered = np.sort(values)
    virtual = (ordered.size - 1) * (_GRID / 100.0)  # numpy's 'linear' method
    below = np.floor(virtual).astype(np.intp)
    above = np.minimum(below + 1, ordered.size - 1)
    gamma = virtual - below
    a, b = ordered[below], ordered[above]
    diff = b - a
    out: np.ndarray[Any, Any] = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


@dataclass
class _Strings:
    counts: pd.Series[Any] = field(default_factory=lambda: pd.Series(dtype=np.int64))
    total: int = 0
    length_sum: int = 0
    hashes: np.ndarray[Any, Any] = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    reduced: int = 0  # total decrement applied by Misra-Gries reductions

    def add(self, column: StringColumn) -> None:
        counts = np.asarray(column.counts, dtype=np.int64)
        if not len(counts):
            return
        values = column.values.to_numpy(zero_copy_only=False)
        lengths = np.asarray(
            pc.utf8_length(column.values).to_numpy(zero_copy_only=False), dtype=np.int64
        )
        self.total += int(counts.sum())
        self.length_sum += int((lengths * counts).sum())
        hashed = pd.util.hash_array(values.astype(object), categorize=False)
        self.hashes = np.unique(np.concatenate([self.hashes, hashed]))[:KMV_SIZE]
        new = pd.Series(counts, index=pd.Index(values, dtype=object))
        merged = pd.concat([self.counts, new]).groupby(level=0, sort=False).sum()
        if len(merged) > TOP_VALUES_CAPACITY:
            cut = int(
                np.partition(merged.to_numpy(), -(TOP_VALUES_CAPACITY + 1))[
                    -(TOP_VALUES_CAPACITY + 1)
                ]
            )
            merged = merged - cut
            merged = merged[merged > 0]
            self.reduced += cut
        self.counts = merged

    def distinct(self) -> int:
        if len(self.hashes) < KMV_SIZE:
            return len(self.hashes)
        kth = float(self.hashes[KMV_SIZE - 1]) / float(2**64)
        return round((KMV_SIZE - 1) / kth)


class _Dataset:
    """The running summary of every column of the chunks seen so far."""

    def __init__(self) -> None:
        self.rows = 0
        self.names: list[str] | None = None
        self.dtypes: list[str] = []
        self.states: list[_Numeric | _Strings | None] = []
        self.missing: list[int] = []

    def add(self, chunk: pd.DataFrame, pool: ThreadPoolExecutor) -> None:
        """Fold one chunk in; numeric columns are sketched side by side in ``pool``."""
        if self.names is None:
            self.names = _feature_names(chunk.columns)
            self.dtypes = [str(t) for t in chunk.dtypes]
            self.states = [None] * len(self.names)
            self.missing = [0] * len(self.names)
        elif chunk.shape[1] != len(self.names):
            raise ValueError(
                f"Chunk with {chunk.shape[1]} columns; the first one had {len(self.names)}."
            )
        self.rows += len(chunk)
        sketch_jobs: list[tuple[_Numeric, np.ndarray[Any, Any]]] = []
        for i in range(len(self.names)):
            column = summarise_column(chunk.iloc[:, i])
            self.missing[i] += column.num_missing
            job = self._add_column(i, self.names[i], column)
            if job is not None:
                sketch_jobs.append(job)
        # Each column's summary is its own: numeric columns are sketched side by side.
        for _ in pool.map(lambda job: job[0].add(job[1]), sketch_jobs):
            pass

    def _add_column(self, i: int, name: str, column: Any) -> tuple[_Numeric, Any] | None:
        state = self.states[i]
        if isinstance(column, NumericColumn) and not isinstance(state, _Strings):
            if state is None:
                state = self.states[i] = _Numeric(column.is_integer)
            return (state, column.values)
        if isinstance(column, StringColumn):
            if isinstance(state, _Numeric):
                raise ValueError(
                    f"Column {name!r} holds numbers in its first chunks and "
                    "strings later; compute its statistics from the whole frame instead."
                )
            if state is None:
                state = self.states[i] = _Strings()
            state.add(column)
            return None
        # numbers after strings (object columns): count them as labels
        assert isinstance(column, NumericColumn) and isinstance(state, _Strings)
        labels = pd.Series(column.values).astype(str)
        state.add(summarise_column(labels.astype(object)))  # type: ignore[arg-type]
        return None


def streaming_statistics(
    chunks: Iterable[pd.DataFrame],
    name: str,
    *,
    max_rank_buckets: int | None = DEFAULT_MAX_RANK_BUCKETS,
    progress: Any = None,
) -> Any:
    """Facets statistics of the rows of all ``chunks``, with bounded memory.

    Args:
        chunks: DataFrames with the same columns (e.g. the row groups of a parquet file).
        name: the dataset's name.
        max_rank_buckets: most frequent values kept per string feature (``None``: all kept by
            the summary, at most ``TOP_VALUES_CAPACITY``).
        progress: a tqdm-like bar advanced by each chunk's row count (``update(n)``), or None.

    Returns:
        A ``DatasetFeatureStatisticsList`` holding one dataset.
    """
    seen = _Dataset()
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for chunk in chunks:
            seen.add(chunk, pool)
            if progress is not None:
                progress.update(len(chunk))
    dataset = _fs().DatasetFeatureStatistics(name=str(name), num_examples=seen.rows)
    for i, feature_name in enumerate(seen.names or []):
        feature = dataset.features.add(name=feature_name)
        _fill_feature(feature, seen.states[i], seen.rows, seen.dtypes[i], max_rank_buckets)
    return combine_statistics([dataset])


def _fill_feature(
    feature: Any,
    state: _Numeric | _Strings | None,
    rows: int,
    dtype: str,
    max_rank_buckets: int | None,
) -> None:
    """One feature's statistics, and how exact they are."""
    if isinstance(state, _Strings):
        stats = _typed_stats(feature, "string")
        count = state.total
        if count:
            _fill_strings(stats, state, max_rank_buckets)
        note = (
            "exact"
            if not state.reduced and len(state.hashes) < KMV_SIZE
            else f"top-value counts low by at most {state.reduced:,} "
            f"(<= rows/{TOP_VALUES_CAPACITY + 1:,}); distinct values estimated "
            f"(KMV, k={KMV_SIZE}, ~{100 / np.sqrt(KMV_SIZE):.1f}% error)"
        )
    else:
        numeric = state if state is not None else _Numeric(False)
        stats = _typed_stats(feature, "int" if numeric.is_integer else "float")
        count = numeric.count
        if count:
            _fill_numeric(stats, numeric)
        rank_error = QUANTILE_RANK_ERROR * (1 + numeric.compactions)
        note = (
            "exact"
            if len(numeric.sketches) <= 1 and numeric.finite_count <= SKETCH_POINTS
            else f"quantiles and histogram within {rank_error:.2%} of the rows in rank; "
            "count, min, max, mean, std exact"
        )
    _fill_common(stats.common_stats, count, rows)
    feature.custom_stats.add(name=DTYPE_STAT, str=dtype)
    feature.custom_stats.add(name=APPROXIMATION_STAT, str=note)


def _fill_numeric(stats: Any, state: _Numeric) -> None:
    fs = _fs()
    has_inf = bool(state.neginf or state.posinf)
    if state.neginf and state.posinf:
        stats.mean = float("nan")
    elif has_inf:
        stats.mean = np.inf if state.posinf else -np.inf
    else:
        stats.mean = state.mean
    stats.std_dev = float("nan") if has_inf else float(np.sqrt(max(state.m2, 0.0) / state.count))
    stats.num_zeros = state.zeros
    finite = state.finite_count
    deciles = state.quantiles(_DECILES) if finite else None
    stats.min = -np.inf if state.neginf else (state.lo if finite else np.inf)
    stats.max = np.inf if state.posinf else (state.hi if finite else -np.inf)
    stats.median = float(deciles[5]) if deciles is not None else float("nan")
    hist = stats.histograms.add()
    hist.type = fs.Histogram.STANDARD
    low, high = (state.lo, state.hi) if finite else (0.0, 1.0)
    if low == high:
        low, high = low - 0.5, high + 0.5  # as numpy's histogram does for a single value
    edges = np.linspace(low, high, HISTOGRAM_BUCKETS + 1)
    cum = state.cdf(edges) if finite else np.zeros(len(edges))
    cum[0], cum[-1] = 0.0, float(finite)
    counts = np.maximum(np.round(np.diff(cum)), 0.0)
    if finite:
        counts[-1] += finite - counts.sum()  # keep the total exact
    last = HISTOGRAM_BUCKETS - 1
    for i, c in enumerate(counts.tolist()):
        lo, hi = float(edges[i]), float(edges[i + 1])
        if i == 0 and state.neginf:
            lo, c = -np.inf, c + state.neginf
        elif i == last and state.posinf:
            hi, c = np.inf, c + state.posinf
        hist.buckets.add(low_value=lo, high_value=hi, sample_count=c)
    quantiles = stats.histograms.add()
    if deciles is not None:
        _fill_quantiles(quantiles, deciles, finite)


def _fill_strings(stats: Any, state: _Strings, max_rank_buckets: int | None) -> None:
    stats.unique = state.distinct()
    stats.avg_length = state.length_sum / state.total
    counts = state.counts
    frame = pd.DataFrame({"value": counts.index.astype(str), "count": counts.to_numpy()})
    frame = frame.sort_values(["count", "value"], ascending=False, kind="stable")
    if max_rank_buckets is not None:
        frame = frame.head(max(max_rank_buckets, 0))
    for rank, (label, frequency) in enumerate(
        zip(frame["value"].tolist(), frame["count"].tolist(), strict=True)
    ):
        stats.rank_histogram.buckets.add(
            low_rank=rank, high_rank=rank, label=label, sample_count=int(frequency)
        )
        if rank < 2:
            stats.top_values.add(value=label, frequency=int(frequency))
