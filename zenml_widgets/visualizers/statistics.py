"""Facets-overview statistics of pandas DataFrames, computed column-wise with numpy and pyarrow.

The result is facets-overview's ``DatasetFeatureStatisticsList`` proto, filled field by field the
way facets-overview's own generator fills it, so that both the official ``<facets-overview>`` web
component and :mod:`zenml_widgets.visualizers.statistics_html` show the same numbers. Differences
from that generator, on purpose:

* it is vectorized (about two orders of magnitude faster on a million rows) and works on pandas 3;
* NaT, ``pd.NA`` and ``None`` count as missing everywhere (the generator counts NaT as a number);
* booleans, categoricals, nullable and pyarrow-backed dtypes and pandas 3 strings are supported;
* datetimes are nanoseconds since the epoch (UTC for tz-aware columns), as in the generator;
* the literal string ``"nan"`` is a value, not a missing one;
* the rank histogram keeps the ``max_rank_buckets`` most frequent values (the generator keeps all
  unless told otherwise), ties broken by value in descending order as the generator does;
* each feature carries a custom statistic ``dtype`` with the pandas dtype it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from zenml_widgets.visualizers._columns import (
    FloatArray,
    NumericColumn,
    StringColumn,
    summarise_column,
)

if TYPE_CHECKING:
    from tqdm.auto import tqdm as Tqdm

__all__ = [
    "DEFAULT_MAX_RANK_BUCKETS",
    "DTYPE_STAT",
    "HISTOGRAM_BUCKETS",
    "PROGRESS_MIN_CELLS",
    "combine_statistics",
    "compute_statistics",
    "dataset_statistics",
    "feature_dtype",
    "feature_stats",
    "statistics_from_bytes",
    "statistics_to_bytes",
]

#: Number of equal-width buckets of a numeric histogram (numpy's default, as in facets).
HISTOGRAM_BUCKETS = 10
#: Number of buckets of the quantiles histograms (deciles).
QUANTILE_BUCKETS = 10
#: Default number of most frequent values kept per string feature.
DEFAULT_MAX_RANK_BUCKETS = 1000
#: Frames with more cells than this show a progress bar over their columns.
PROGRESS_MIN_CELLS = 200_000
#: Name of the custom statistic holding the pandas dtype of a feature.
DTYPE_STAT = "dtype"

_QUANTILES = np.linspace(0.0, 100.0, QUANTILE_BUCKETS + 1)

DataFrames = pd.DataFrame | Mapping[str, pd.DataFrame] | Iterable[tuple[str, pd.DataFrame]]


def _fs() -> Any:
    from facets_overview import feature_statistics_pb2

    return feature_statistics_pb2


def compute_statistics(
    data: DataFrames,
    *,
    max_rank_buckets: int | None = DEFAULT_MAX_RANK_BUCKETS,
    progress: bool | None = None,
) -> Any:
    """Compute the facets-overview statistics of one or several named DataFrames.

    Args:
        data: a DataFrame (named ``"data"``), a mapping ``{name: DataFrame}`` or an iterable of
            ``(name, DataFrame)`` pairs; several datasets are shown side by side.
        max_rank_buckets: most frequent values kept per string feature (``None``: all).
        progress: show a progress bar over columns; default: only for more than
            ``PROGRESS_MIN_CELLS`` cells in all.

    Returns:
        A ``facets_overview.feature_statistics_pb2.DatasetFeatureStatisticsList``.
    """
    named = _named_frames(data)
    cells = sum(frame.size for _, frame in named)
    columns = sum(frame.shape[1] for _, frame in named)
    with _progress_bar(columns, cells, progress) as tick:
        datasets = [
            _dataset(frame, name, max_rank_buckets=max_rank_buckets, tick=tick)
            for name, frame in named
        ]
    return combine_statistics(datasets)


def dataset_statistics(
    frame: pd.DataFrame,
    name: str,
    *,
    max_rank_buckets: int | None = DEFAULT_MAX_RANK_BUCKETS,
    progress: bool | None = None,
) -> Any:
    """Compute the statistics of one DataFrame.

    Args:
        frame: the data; every column becomes a feature.
        name: the dataset's name shown in legends.
        max_rank_buckets: most frequent values kept per string feature (``None``: all).
        progress: show a progress bar; default: only for more than ``PROGRESS_MIN_CELLS`` cells.

    Returns:
        A ``DatasetFeatureStatisticsList`` holding this single dataset; combine several with
        :func:`combine_statistics`.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"Expected a pandas DataFrame for dataset {name!r}, got {type(frame)!r}.")
    with _progress_bar(frame.shape[1], frame.size, progress) as tick:
        return combine_statistics(
            [_dataset(frame, name, max_rank_buckets=max_rank_buckets, tick=tick)]
        )


def combine_statistics(parts: Sequence[Any]) -> Any:
    """Put datasets side by side, aligning their features by name.

    A feature missing from a dataset is added to it as entirely missing, as facets-overview's
    generator does; a feature that is ``INT`` in one dataset and ``FLOAT`` in another becomes
    ``FLOAT`` in all.

    Args:
        parts: ``DatasetFeatureStatisticsList`` or ``DatasetFeatureStatistics`` messages; the
            datasets of each, in order.

    Returns:
        A new ``DatasetFeatureStatisticsList``.
    """
    fs = _fs()
    datasets: list[Any] = []
    for part in parts:
        datasets.extend(part.datasets if hasattr(part, "datasets") else [part])
    order: dict[str, Any] = {}
    for dataset in datasets:
        for feature in dataset.features:
            order.setdefault(feature.name, feature)
    numeric = (fs.FeatureNameStatistics.INT, fs.FeatureNameStatistics.FLOAT)
    seen: dict[str, set[int]] = {}
    for dataset in datasets:
        for feature in dataset.features:
            seen.setdefault(feature.name, set()).add(feature.type)
    types = {
        name: fs.FeatureNameStatistics.FLOAT if seen[name] == set(numeric) else first.type
        for name, first in order.items()
    }

    result = fs.DatasetFeatureStatisticsList()
    for dataset in datasets:
        out = result.datasets.add(name=dataset.name, num_examples=dataset.num_examples)
        by_name = {feature.name: feature for feature in dataset.features}
        for name, first in order.items():
            feature = out.features.add()
            if name in by_name:
                feature.CopyFrom(by_name[name])
                if feature.type in numeric:
                    feature.type = types[name]
            else:
                _absent_feature(feature, first, types[name], dataset.num_examples)
    return result


def statistics_to_bytes(statistics: Any) -> bytes:
    """Serialize statistics deterministically (same statistics, same bytes)."""
    data: bytes = statistics.SerializeToString(deterministic=True)
    return data


def statistics_from_bytes(data: bytes) -> Any:
    """Parse bytes written by :func:`statistics_to_bytes`."""
    result = _fs().DatasetFeatureStatisticsList()
    result.ParseFromString(data)
    return result


def feature_stats(feature: Any) -> tuple[Any, Any]:
    """The ``(num_stats or string_stats, common_stats)`` of a ``FeatureNameStatistics``."""
    which = feature.WhichOneof("stats")
    stats = getattr(feature, which) if which else feature.num_stats
    return stats, stats.common_stats


def feature_dtype(feature: Any) -> str:
    """The pandas dtype a feature was computed from (``""`` if not recorded)."""
    for custom in feature.custom_stats:
        if custom.name == DTYPE_STAT:
            return str(custom.str)
    return ""


# --- one dataset -------------------------------------------------------------------------------


def _dataset(
    frame: pd.DataFrame,
    name: str,
    *,
    max_rank_buckets: int | None,
    tick: Callable[[], None],
) -> Any:
    fs = _fs()
    dataset = fs.DatasetFeatureStatistics(name=str(name), num_examples=len(frame))
    for position, feature_name in enumerate(_feature_names(frame.columns)):
        series = frame.iloc[:, position]
        feature = dataset.features.add(name=feature_name)
        _fill_feature(feature, series, len(frame), max_rank_buckets)
        tick()
    return dataset


def _fill_feature(
    feature: Any, series: pd.Series[Any], num_examples: int, max_rank_buckets: int | None
) -> None:
    column = summarise_column(series)
    if isinstance(column, NumericColumn):
        stats = _typed_stats(feature, "int" if column.is_integer else "float")
        count = int(column.values.size)
        if count:
            _fill_numeric(stats, column.values)
    else:
        stats = _typed_stats(feature, "string")
        count = column.num_non_missing
        if count:
            _fill_string(stats, column, max_rank_buckets)
    _fill_common(stats.common_stats, count, num_examples)
    feature.custom_stats.add(name=DTYPE_STAT, str=str(series.dtype))


def _typed_stats(feature: Any, kind: str) -> Any:
    """Set ``feature``'s type (``"int"``, ``"float"`` or ``"string"``) and return its (now
    present) numeric or string statistics message, to be filled."""
    fs = _fs().FeatureNameStatistics
    feature.type = {"int": fs.INT, "float": fs.FLOAT, "string": fs.STRING}[kind]
    stats = feature.string_stats if kind == "string" else feature.num_stats
    stats.SetInParent()
    return stats


def _fill_common(common: Any, count: int, num_examples: int) -> None:
    common.SetInParent()
    common.num_non_missing = count
    common.num_missing = num_examples - count
    if not count:
        return
    # Every value of a DataFrame cell is one value: one per non-missing example.
    common.min_num_values = 1
    common.max_num_values = 1
    common.avg_num_values = 1.0
    _fill_quantiles(common.num_values_histogram, np.ones(QUANTILE_BUCKETS + 1), count)


def _fill_numeric(stats: Any, values: FloatArray) -> None:
    finite_mask = np.isfinite(values)
    all_finite = bool(finite_mask.all())
    finite = values if all_finite else values[finite_mask]
    with np.errstate(invalid="ignore", over="ignore"):
        stats.mean = float(values.mean())
        stats.std_dev = float(values.std())
    stats.num_zeros = int(values.size - np.count_nonzero(values))
    quantiles = np.percentile(finite, _QUANTILES) if finite.size else None
    if all_finite and quantiles is not None:
        stats.min, stats.median, stats.max = (float(quantiles[i]) for i in (0, 5, -1))
    else:
        stats.min = float(values.min())
        stats.max = float(values.max())
        stats.median = float(np.median(values))
    _fill_histogram(stats.histograms.add(), values, finite, quantiles)
    quantiles_hist = stats.histograms.add()  # added even when empty, as the generator does
    if quantiles is not None:
        _fill_quantiles(quantiles_hist, quantiles, finite.size)


def _fill_histogram(
    hist: Any, values: FloatArray, finite: FloatArray, quantiles: FloatArray | None
) -> None:
    fs = _fs()
    hist.type = fs.Histogram.STANDARD
    num_neginf = int(np.count_nonzero(values == -np.inf)) if finite.size < values.size else 0
    num_posinf = int(values.size - finite.size - num_neginf)
    # Like np.histogram with no range: (0, 1) when there is no finite value.
    span = (quantiles[0], quantiles[-1]) if quantiles is not None else (0.0, 1.0)
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BUCKETS, range=span)
    last = len(counts) - 1
    for i, count in enumerate(counts.tolist()):
        low, high = float(edges[i]), float(edges[i + 1])
        # Infinities go to the first and last buckets.
        if i == 0 and num_neginf:
            low, count = -np.inf, count + num_neginf
        elif i == last and num_posinf:
            high, count = np.inf, count + num_posinf
        hist.buckets.add(low_value=low, high_value=high, sample_count=count)


def _fill_quantiles(hist: Any, quantiles: FloatArray, count: int) -> None:
    hist.type = _fs().Histogram.QUANTILES
    per_bucket = count / QUANTILE_BUCKETS
    for low, high in zip(quantiles[:-1].tolist(), quantiles[1:].tolist(), strict=True):
        hist.buckets.add(low_value=low, high_value=high, sample_count=per_bucket)


def _fill_string(stats: Any, column: StringColumn, max_rank_buckets: int | None) -> None:
    counts = column.counts
    total = int(counts.sum())
    lengths = np.asarray(
        pc.utf8_length(column.values).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    stats.unique = len(column.values)
    stats.avg_length = float((lengths * counts).sum() / total)
    table = pa.table({"value": column.values, "count": pa.array(counts, type=pa.int64())})
    keys = [("count", "descending"), ("value", "descending")]
    if max_rank_buckets is None or max_rank_buckets >= len(table):
        order = pc.sort_indices(table, sort_keys=keys)
    else:
        order = pc.select_k_unstable(table, k=max(max_rank_buckets, 0), sort_keys=keys)
    top = table.take(order)
    labels = top.column("value").to_pylist()
    frequencies = top.column("count").to_pylist()
    for rank, (label, frequency) in enumerate(zip(labels, frequencies, strict=True)):
        stats.rank_histogram.buckets.add(
            low_rank=rank, high_rank=rank, label=label, sample_count=frequency
        )
        if rank < 2:
            stats.top_values.add(value=label, frequency=frequency)


def _absent_feature(feature: Any, like: Any, feature_type: int, num_examples: int) -> None:
    feature.name = like.name
    feature.type = feature_type
    stats = (
        feature.string_stats if like.WhichOneof("stats") == "string_stats" else feature.num_stats
    )
    stats.SetInParent()
    stats.common_stats.SetInParent()
    stats.common_stats.num_missing = num_examples
    feature.custom_stats.add(name=DTYPE_STAT, str="(absent)")


# --- helpers -----------------------------------------------------------------------------------


def _named_frames(data: DataFrames) -> list[tuple[str, pd.DataFrame]]:
    if isinstance(data, pd.DataFrame):
        return [("data", data)]
    pairs = list(data.items()) if isinstance(data, Mapping) else list(data)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], pd.DataFrame)):
            raise TypeError(
                "Expected a DataFrame, a {name: DataFrame} mapping or (name, DataFrame) pairs; "
                f"got an item of type {type(pair).__name__}."
            )
    return [(str(name), frame) for name, frame in pairs]


def _feature_names(columns: pd.Index[Any]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for column in columns:
        base = "/".join(map(str, column)) if isinstance(column, tuple) else str(column)
        name = base
        while name in seen:
            seen[base] += 1
            name = f"{base}.{seen[base]}"
        seen.setdefault(base, 0)
        seen[name] = seen.get(name, 0)
        names.append(name)
    return names


class _progress_bar:
    """A context manager yielding a ``tick()`` that advances a tqdm bar when one is shown."""

    def __init__(self, total: int, cells: int, progress: bool | None) -> None:
        self._show = cells > PROGRESS_MIN_CELLS if progress is None else progress
        self._total = total
        self._bar: Tqdm | None = None

    def __enter__(self) -> Callable[[], None]:
        if not self._show:
            return _nothing
        from tqdm.auto import tqdm

        self._bar = tqdm(total=self._total, desc="Facets statistics", unit="column", leave=False)
        return self._tick

    def _tick(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _nothing() -> None:
    return None
