"""Statistics of DataFrames: checked against facets-overview's generator where it is right,
else against pandas."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

from zenml_widgets.visualizers.statistics import (
    DTYPE_STAT,
    combine_statistics,
    compute_statistics,
    dataset_statistics,
    feature_dtype,
    feature_stats,
    statistics_from_bytes,
    statistics_to_bytes,
)

fs = pytest.importorskip("facets_overview.feature_statistics_pb2")
from facets_overview.generic_feature_statistics_generator import (  # noqa: E402
    GenericFeatureStatisticsGenerator,
)


def reference(frames: dict[str, pd.DataFrame], levels: int | None = None) -> Any:
    """facets-overview's generator on numpy arrays (it calls ``Series.ravel``, gone in pandas 3)."""
    gen = GenericFeatureStatisticsGenerator()
    datasets = []
    for name, frame in frames.items():
        entries = {col: gen.NdarrayToEntry(frame[col].to_numpy()) for col in frame.columns}
        datasets.append({"entries": entries, "size": len(frame), "name": name})
    return gen.GetDatasetsProto(datasets, histogram_categorical_levels_count=levels)


def without_custom(proto: Any) -> Any:
    """A copy without our ``dtype`` custom statistic."""
    copy = fs.DatasetFeatureStatisticsList()
    copy.CopyFrom(proto)
    for dataset in copy.datasets:
        for feature in dataset.features:
            del feature.custom_stats[:]
    return copy


def assert_protos_close(ours: Any, theirs: Any) -> None:
    """Same messages field by field; floats within a relative 1e-9."""
    ours_d, theirs_d = _as_dict(ours), _as_dict(theirs)
    _compare(ours_d, theirs_d, "")


def _as_dict(proto: Any) -> Any:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(proto, preserving_proto_field_name=True)


def _compare(a: Any, b: Any, path: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            _compare(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _compare(x, y, f"{path}[{i}]")
    elif isinstance(a, float | int) and isinstance(b, float | int):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def feature(proto: Any, name: str, dataset: int = 0) -> Any:
    """The feature called ``name`` in a dataset of ``proto``."""
    matches = [f for f in proto.datasets[dataset].features if f.name == name]
    assert len(matches) == 1, [f.name for f in proto.datasets[dataset].features]
    return matches[0]


@pytest.fixture
def mixed() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 2_000
    floats = rng.normal(10, 3, n)
    floats[rng.random(n) < 0.1] = np.nan
    floats[:5] = 0.0
    return pd.DataFrame(
        {
            "ints": rng.integers(-50, 50, n),
            "floats": floats,
            "strings": rng.choice(["red", "green", "blue", "yellowish"], n).astype(object),
            "naive_dates": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        }
    )


# --- against facets-overview's generator ---------------------------------------------------------


def test_generator_runs_on_numpy_arrays_and_protobuf_7(mixed: pd.DataFrame) -> None:
    proto = reference({"train": mixed})
    assert [f.name for f in proto.datasets[0].features] == list(mixed.columns)


def test_same_numbers_as_facets_generator(mixed: pd.DataFrame) -> None:
    ours = without_custom(compute_statistics({"train": mixed}, max_rank_buckets=None))
    assert_protos_close(ours, reference({"train": mixed}))


def test_same_numbers_as_generator_when_comparing_datasets(mixed: pd.DataFrame) -> None:
    frames = {"train": mixed.iloc[:1500], "test": mixed.iloc[1500:].drop(columns=["ints"])}
    ours = without_custom(compute_statistics(frames, max_rank_buckets=None))
    assert_protos_close(ours, reference(frames))


def test_rank_histogram_truncated_like_generator_levels(mixed: pd.DataFrame) -> None:
    ours = without_custom(compute_statistics({"d": mixed[["strings"]]}, max_rank_buckets=2))
    assert_protos_close(ours, reference({"d": mixed[["strings"]]}, levels=2))


def test_ties_broken_by_value_descending_like_generator() -> None:
    df = pd.DataFrame({"s": np.array(["b", "a", "c", "a", "c", "b", "d"], dtype=object)})
    ours = without_custom(compute_statistics({"d": df}, max_rank_buckets=None))
    assert_protos_close(ours, reference({"d": df}))
    labels = [b.label for b in feature(ours, "s").string_stats.rank_histogram.buckets]
    assert labels == ["c", "b", "a", "d"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy, inside the generator
def test_infinities_like_generator() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, np.inf, -np.inf, 3.0, np.nan, 4.0]})
    ours = without_custom(compute_statistics({"d": df}))
    assert_protos_close(ours, reference({"d": df}))
    buckets = feature(ours, "x").num_stats.histograms[0].buckets
    assert buckets[0].low_value == -np.inf and buckets[-1].high_value == np.inf


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_only_infinities_like_generator() -> None:
    df = pd.DataFrame({"x": [np.inf, np.inf, -np.inf]})
    ours = without_custom(compute_statistics({"d": df}))
    assert_protos_close(ours, reference({"d": df}))


def test_constant_column_like_generator() -> None:
    df = pd.DataFrame({"x": [5, 5, 5], "y": [0.0, 0.0, 0.0]})
    ours = without_custom(compute_statistics({"d": df}))
    assert_protos_close(ours, reference({"d": df}))


# --- what the generator gets wrong or cannot do: checked against pandas ---------------------------


def test_bool_is_int_zero_one() -> None:
    s = pd.Series([True, False, True, True])
    f = feature(compute_statistics(pd.DataFrame({"b": s})), "b")
    assert f.type == fs.FeatureNameStatistics.INT
    assert f.num_stats.mean == pytest.approx(0.75)
    assert f.num_stats.num_zeros == 1
    assert (f.num_stats.min, f.num_stats.max) == (0.0, 1.0)


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean", "int32[pyarrow]"])
def test_nullable_dtypes_count_na_as_missing(dtype: str) -> None:
    values = [1, None, 0, 1, None] if dtype != "boolean" else [True, None, False, True, None]
    s = pd.Series(values, dtype=dtype)
    f = feature(compute_statistics(pd.DataFrame({"x": s})), "x")
    stats, common = feature_stats(f)
    assert (common.num_non_missing, common.num_missing) == (3, 2)
    assert stats.mean == pytest.approx(float(s.astype("Float64").mean()))
    assert stats.std_dev == pytest.approx(float(s.astype("Float64").std(ddof=0)))
    assert stats.num_zeros == 1
    assert feature_dtype(f) == str(s.dtype)


@pytest.mark.parametrize("tz", [None, "UTC", "America/New_York"])
def test_datetimes_nat_is_missing_and_values_are_epoch_nanoseconds(tz: str | None) -> None:
    s = pd.Series(pd.to_datetime(["2020-01-01", None, "2020-01-03", "2020-01-02"]))
    s = s.dt.tz_localize(tz) if tz else s
    f = feature(compute_statistics(pd.DataFrame({"t": s})), "t")
    common = f.num_stats.common_stats
    assert (common.num_non_missing, common.num_missing) == (3, 1)
    assert f.type == fs.FeatureNameStatistics.INT
    utc = s.dt.tz_convert("UTC") if tz else s
    assert f.num_stats.min == pd.Timestamp(utc.min()).value
    assert f.num_stats.max == pd.Timestamp(utc.max()).value
    assert f.num_stats.median == pd.Timestamp(utc.median()).value
    assert feature_dtype(f).startswith("datetime64")


def test_datetime_seconds_unit_far_future_does_not_overflow() -> None:
    s = pd.Series(np.array(["2500-01-01", "2600-01-01"], dtype="datetime64[s]"))
    f = feature(compute_statistics(pd.DataFrame({"t": s})), "t")
    assert f.num_stats.max == pytest.approx(np.datetime64("2600-01-01", "s").astype(float) * 1e9)


def test_timedelta_in_nanoseconds() -> None:
    s = pd.Series(pd.to_timedelta([1, 2, None], unit="s"))
    f = feature(compute_statistics(pd.DataFrame({"d": s})), "d")
    assert f.num_stats.mean == pytest.approx(1.5e9)
    assert f.num_stats.common_stats.num_missing == 1


@pytest.mark.parametrize("dtype", ["str", "string", "object", "category", "string[pyarrow]"])
def test_string_dtypes(dtype: str) -> None:
    values = ["apple", "kiwi", None, "apple", "fig", "apple", "kiwi"]
    s = pd.Series(values, dtype=dtype)
    f = feature(compute_statistics(pd.DataFrame({"s": s})), "s")
    stats = f.string_stats
    assert f.type == fs.FeatureNameStatistics.STRING
    assert stats.common_stats.num_missing == 1
    assert stats.common_stats.num_non_missing == 6
    assert stats.unique == s.nunique()
    assert stats.avg_length == pytest.approx(s.dropna().str.len().mean())
    counts = s.value_counts()
    assert [(t.value, t.frequency) for t in stats.top_values] == [("apple", 3), ("kiwi", 2)]
    ranks = [(b.label, b.sample_count) for b in stats.rank_histogram.buckets]
    assert dict(ranks) == {str(k): v for k, v in counts.items()}


def test_categorical_with_unused_and_numeric_categories() -> None:
    s = pd.Series(pd.Categorical([1, 2, 2, None], categories=[1, 2, 3]))
    f = feature(compute_statistics(pd.DataFrame({"c": s})), "c")
    assert f.string_stats.unique == 2
    assert [b.label for b in f.string_stats.rank_histogram.buckets] == ["2", "1"]


def test_object_column_of_numbers_is_numeric() -> None:
    s = pd.Series([1, None, 2.5, 4], dtype=object)
    f = feature(compute_statistics(pd.DataFrame({"o": s})), "o")
    assert f.type == fs.FeatureNameStatistics.FLOAT
    assert f.num_stats.mean == pytest.approx(2.5)
    assert f.num_stats.common_stats.num_missing == 1


def test_mixed_objects_are_strings_and_nan_text_is_a_value() -> None:
    s = pd.Series(["nan", 3, b"bytes", b"\xff", None], dtype=object)
    f = feature(compute_statistics(pd.DataFrame({"o": s})), "o")
    labels = {b.label for b in f.string_stats.rank_histogram.buckets}
    assert labels == {"nan", "3", "bytes", "__BYTES_VALUE__"}
    assert f.string_stats.common_stats.num_missing == 1


def test_unicode_length_in_code_points() -> None:
    s = pd.Series(["é", "日本語", "😀"])
    f = feature(compute_statistics(pd.DataFrame({"u": s})), "u")
    assert f.string_stats.avg_length == pytest.approx(5 / 3)


def test_numbers_match_pandas_on_a_random_frame() -> None:
    rng = np.random.default_rng(1)
    x = pd.Series(rng.exponential(2.0, 10_001))
    num = feature(compute_statistics(pd.DataFrame({"x": x})), "x").num_stats
    assert num.mean == pytest.approx(x.mean(), rel=1e-12)
    assert num.std_dev == pytest.approx(x.std(ddof=0), rel=1e-12)
    assert num.median == pytest.approx(x.median(), rel=1e-12)
    assert (num.min, num.max) == (x.min(), x.max())
    hist, quantiles = num.histograms
    expected, edges = np.histogram(x, bins=10)
    assert [b.sample_count for b in hist.buckets] == expected.tolist()
    assert [b.low_value for b in hist.buckets] == pytest.approx(edges[:-1].tolist())
    assert quantiles.type == fs.Histogram.QUANTILES
    assert [b.high_value for b in quantiles.buckets] == pytest.approx(
        x.quantile(np.linspace(0.1, 1, 10)).tolist()
    )


# --- shapes: empty, all-missing, wide, names ---------------------------------------------------


def test_empty_frame_and_no_columns() -> None:
    empty = pd.DataFrame({"a": pd.Series([], dtype=float), "s": pd.Series([], dtype="str")})
    proto = compute_statistics({"empty": empty, "nothing": pd.DataFrame()})
    assert proto.datasets[0].num_examples == 0
    for f in proto.datasets[0].features:
        _, common = feature_stats(f)
        assert (common.num_non_missing, common.num_missing) == (0, 0)
    assert len(proto.datasets[1].features) == 2  # aligned: absent features are added


def test_all_missing_columns() -> None:
    df = pd.DataFrame(
        {
            "f": [np.nan] * 3,
            "o": [None] * 3,
            "t": pd.Series([pd.NaT] * 3, dtype="datetime64[ns, UTC]"),
            "c": pd.Categorical([None] * 3, categories=["a"]),
            "i": pd.array([None] * 3, dtype="Int64"),
        }
    )
    proto = compute_statistics(df)
    for f in proto.datasets[0].features:
        _stats, common = feature_stats(f)
        assert (common.num_non_missing, common.num_missing) == (0, 3), f.name
        assert common.num_values_histogram.buckets == []


def test_wide_frame_is_fast_enough() -> None:
    import time

    wide = pd.DataFrame(np.arange(20 * 3000, dtype=float).reshape(20, 3000))
    start = time.perf_counter()
    proto = compute_statistics(wide)
    elapsed = time.perf_counter() - start
    assert len(proto.datasets[0].features) == 3000
    assert elapsed < 15, elapsed


def test_duplicate_and_non_string_column_names() -> None:
    df = pd.DataFrame([[1, 2, 3, 4]], columns=["a", "a", 0, ("x", "y")])
    names = [f.name for f in compute_statistics(df).datasets[0].features]
    assert names == ["a", "a.1", "0", "x/y"]


def test_int_and_float_across_datasets_become_float() -> None:
    proto = compute_statistics({"a": pd.DataFrame({"x": [1, 2]}), "b": pd.DataFrame({"x": [0.5]})})
    assert {feature(proto, "x", i).type for i in (0, 1)} == {fs.FeatureNameStatistics.FLOAT}


def test_absent_feature_is_all_missing_in_that_dataset() -> None:
    proto = compute_statistics(
        [("a", pd.DataFrame({"x": [1, 2], "s": ["p", "q"]})), ("b", pd.DataFrame({"x": [3]}))]
    )
    s_in_b = feature(proto, "s", 1)
    assert s_in_b.type == fs.FeatureNameStatistics.STRING
    assert s_in_b.string_stats.common_stats.num_missing == 1
    assert feature_dtype(s_in_b) == "(absent)"


def test_combine_matches_computing_together(mixed: pd.DataFrame) -> None:
    a, b = mixed.iloc[:100], mixed.iloc[100:]
    together = compute_statistics({"a": a, "b": b})
    apart = combine_statistics([dataset_statistics(a, "a"), dataset_statistics(b, "b")])
    assert statistics_to_bytes(together) == statistics_to_bytes(apart)


def test_serialization_is_deterministic_and_round_trips(mixed: pd.DataFrame) -> None:
    first = statistics_to_bytes(compute_statistics(mixed))
    assert first == statistics_to_bytes(compute_statistics(mixed.copy()))
    assert statistics_to_bytes(statistics_from_bytes(first)) == first


def test_dtype_custom_stat() -> None:
    f = feature(compute_statistics(pd.DataFrame({"x": pd.Series([1], dtype="int8")})), "x")
    assert [(c.name, c.str) for c in f.custom_stats] == [(DTYPE_STAT, "int8")]


def test_bad_input_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        compute_statistics([("a", [1, 2])])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="'x'"):
        dataset_statistics([1], "x")  # type: ignore[arg-type]


# --- progress and imports -------------------------------------------------------------------------


def test_progress_bar_only_for_large_frames(capsys: pytest.CaptureFixture[str]) -> None:
    compute_statistics(pd.DataFrame({"x": range(10)}))
    assert "Facets statistics" not in capsys.readouterr().err
    compute_statistics(pd.DataFrame({"x": range(10)}), progress=True)
    assert "Facets statistics" in capsys.readouterr().err


def test_large_frame_shows_progress(capsys: pytest.CaptureFixture[str]) -> None:
    compute_statistics(pd.DataFrame(np.zeros((25_000, 10))))
    assert "Facets statistics" in capsys.readouterr().err


def test_import_is_light() -> None:
    import subprocess

    code = (
        "import sys, zenml_widgets.visualizers, zenml_widgets.visualizers.html;"
        "heavy = [m for m in ('IPython', 'ipywidgets', 'tqdm', 'facets_overview')"
        " if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
