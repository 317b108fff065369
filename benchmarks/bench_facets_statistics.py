"""Benchmark: facets statistics of a 1,000,000 x 10 mixed DataFrame.

Compares, in the same run and on the same frame:

* ``zenml_widgets.visualizers.compute_statistics`` (ours);
* facets-overview 1.1.1's own generator. It cannot read pandas 3 frames (``Series.ravel`` is gone)
  nor bools, categoricals, tz-aware datetimes or nullable dtypes, so here (and only here) it gets
  a copy of the frame as plain numpy arrays it handles: bools as ints, categoricals and strings as
  object arrays, datetimes and nullable ints as float64 with NaN;
* ``df.describe(include="all")`` plus a 10-bucket ``np.histogram`` of every numeric column
  (what pandas alone gives, without quantile histograms, top-value ranks or string lengths).

Run: ``.venv/bin/python benchmarks/bench_facets_statistics.py [--rows N] [--skip-facets]``.
Targets: >= 20x faster than the generator; within 3x of describe + histograms.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from zenml_widgets.visualizers import compute_statistics


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Ten columns of the kinds pipelines produce, with missing values where pandas allows."""
    rng = np.random.default_rng(seed)
    floats = rng.normal(50, 12, rows)
    floats[rng.random(rows) < 0.05] = np.nan
    words = np.array([f"user_{i:04d}" for i in range(2000)], dtype=object)
    objects = rng.choice(words, rows)
    objects[rng.random(rows) < 0.02] = None
    stamps = pd.Series(
        pd.Timestamp("2024-01-01", tz="Europe/Berlin")
        + pd.to_timedelta(rng.integers(0, 365 * 86400, rows), unit="s")
    )
    stamps[rng.random(rows) < 0.03] = pd.NaT
    nullable = pd.array(rng.integers(0, 100, rows), dtype="Int64")
    nullable[rng.random(rows) < 0.1] = pd.NA
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "amount": floats,
            "ratio": rng.random(rows).astype(np.float32),
            "user": pd.Series(rng.choice(words, rows), dtype="str"),
            "comment": pd.Series(objects, dtype=object),
            "country": pd.Categorical(rng.choice(["DE", "FR", "NL", "IT", "ES"], rows)),
            "active": rng.random(rows) < 0.7,
            "signup": stamps,
            "visits": nullable,
            "age": rng.integers(18, 90, rows).astype(np.uint8),
        }
    )


def facets_compatible(frame: pd.DataFrame) -> dict[str, np.ndarray[Any, Any]]:
    """The frame as numpy arrays facets-overview's generator can process."""
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype | pd.StringDtype) or column.dtype == object:
            arrays[name] = column.astype(object).where(column.notna(), np.nan).to_numpy()
        elif isinstance(column.dtype, pd.DatetimeTZDtype):
            ticks = column.array.asi8.astype(np.float64)
            ticks[column.isna().to_numpy()] = np.nan
            arrays[name] = ticks
        elif pd.api.types.is_bool_dtype(column):
            arrays[name] = column.to_numpy().astype(np.int64)
        else:
            arrays[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return arrays


def facets_generator(arrays: dict[str, np.ndarray[Any, Any]], rows: int) -> Any:
    """``ProtoFromDataFrames`` without the pandas call that pandas 3 removed."""
    from facets_overview.generic_feature_statistics_generator import (
        GenericFeatureStatisticsGenerator,
    )

    generator = GenericFeatureStatisticsGenerator()
    entries = {name: generator.NdarrayToEntry(values) for name, values in arrays.items()}
    return generator.GetDatasetsProto([{"entries": entries, "size": rows, "name": "data"}])


def describe_and_histograms(frame: pd.DataFrame) -> Any:
    """What pandas alone gives: ``describe(include="all")`` and a histogram per numeric column."""
    summary = frame.describe(include="all")
    histograms = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            histograms[name] = np.histogram(values[~np.isnan(values)], bins=10)
    return summary, histograms


def best_of(repeats: int, function: Callable[[], Any]) -> float:
    """Fastest wall time of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Measure and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-facets", action="store_true", help="skip the slow generator")
    args = parser.parse_args()

    frame = make_frame(args.rows)
    print(f"frame: {args.rows:,} rows x {frame.shape[1]} columns")
    print("dtypes: " + ", ".join(f"{k}={v}" for k, v in frame.dtypes.astype(str).items()))

    ours = best_of(args.repeats, lambda: compute_statistics(frame, progress=False))
    pandas_time = best_of(args.repeats, lambda: describe_and_histograms(frame))
    print(f"zenml_widgets compute_statistics:         {ours:8.3f} s (best of {args.repeats})")
    print(
        f"describe(include='all') + np.histogram:   {pandas_time:8.3f} s (best of {args.repeats})"
    )
    print(f"  ratio ours / pandas:                    {ours / pandas_time:8.2f}x  (target <= 3x)")

    if not args.skip_facets:
        start = time.perf_counter()
        arrays = facets_compatible(frame)
        convert = time.perf_counter() - start
        facets = best_of(1, lambda: facets_generator(arrays, len(frame)))
        print(
            f"facets-overview generator (numpy copy):   {facets:8.3f} s (once; copy took "
            f"{convert:.2f} s, not counted)"
        )
        print(f"  speed-up ours vs generator:             {facets / ours:8.1f}x  (target >= 20x)")


if __name__ == "__main__":
    main()
