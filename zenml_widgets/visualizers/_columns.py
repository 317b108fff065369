"""Turn one pandas column into the plain arrays that the statistics are computed from.

Every pandas dtype ends up as one of two shapes:

* :class:`NumericColumn`: the non-missing values as a float64 array. Booleans become 0/1,
  datetimes (naive or tz-aware, any unit) and timedeltas become nanoseconds since the epoch,
  as facets-overview's generator does. Missing values (NaN, NA, NaT, None) are counted, not kept.
* :class:`StringColumn`: the distinct non-missing values as a pyarrow string array and how often
  each occurs. Categoricals are counted from their codes, strings with pyarrow's hash kernel.

Nothing here loops over rows in Python, except for object columns holding non-string values
(which must be converted with ``str`` one by one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

_NS_PER_UNIT = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}
_NUMERIC_OBJECT_KINDS = frozenset(
    {"integer", "floating", "mixed-integer-float", "decimal", "boolean"}
)
BYTES_PLACEHOLDER = "__BYTES_VALUE__"


@dataclass(frozen=True)
class NumericColumn:
    """A column summarised as numbers.

    Attributes:
        values: the non-missing values (may contain +/-inf, never NaN).
        num_missing: how many rows were missing.
        is_integer: whether the proto type is ``INT`` (ints, bools, datetimes) or ``FLOAT``.
        temporal: ``"datetime"`` or ``"timedelta"`` when values are nanoseconds, else ``None``.
    """

    values: FloatArray
    num_missing: int
    is_integer: bool
    temporal: str | None = None


@dataclass(frozen=True)
class StringColumn:
    """A column summarised by its distinct values.

    Attributes:
        values: distinct non-missing values, as strings (no nulls).
        counts: how often each of ``values`` occurs (all > 0).
        num_missing: how many rows were missing.
    """

    values: pa.Array
    counts: IntArray
    num_missing: int

    @property
    def num_non_missing(self) -> int:
        """Number of non-missing rows."""
        return int(self.counts.sum())


Column = NumericColumn | StringColumn


def summarise_column(series: pd.Series[Any]) -> Column:
    """Reduce ``series`` to the arrays its statistics are computed from.

    Args:
        series: one column of a DataFrame, any dtype.

    Returns:
        A :class:`NumericColumn` for numbers, booleans, datetimes and timedeltas;
        a :class:`StringColumn` for everything else (strings, categoricals, objects).
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(series)
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow_backed(series, dtype)
    if pd.api.types.is_bool_dtype(dtype):
        return _as_float(series, is_integer=True)
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return _temporal(series, "datetime")
    if pd.api.types.is_timedelta64_dtype(dtype):
        return _temporal(series, "timedelta")
    if pd.api.types.is_complex_dtype(dtype):
        return _objects(series)
    if pd.api.types.is_integer_dtype(dtype):
        return _as_float(series, is_integer=True)
    if pd.api.types.is_float_dtype(dtype):
        return _as_float(series, is_integer=False)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return _arrow_strings(pa.array(series.array))
    return _objects(series)


def _as_float(series: pd.Series[Any], *, is_integer: bool) -> NumericColumn:
    array = series.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(array)
    num_missing = int(missing.sum())
    values = array[~missing] if num_missing else array
    return NumericColumn(values, num_missing, is_integer)


def _temporal(series: pd.Series[Any], temporal: str) -> NumericColumn:
    array = series.array
    unit = str(getattr(array, "unit", "ns"))
    ticks = np.asarray(array.asi8, dtype=np.int64)
    missing = ticks == np.iinfo(np.int64).min
    num_missing = int(missing.sum())
    kept = ticks[~missing] if num_missing else ticks
    # Scale in float64: converting out-of-range units to int64 nanoseconds would overflow.
    values = kept.astype(np.float64) * _NS_PER_UNIT.get(unit, 1.0)
    return NumericColumn(values, num_missing, True, temporal)


def _arrow_backed(series: pd.Series[Any], dtype: pd.ArrowDtype) -> Column:
    kind = dtype.pyarrow_dtype
    if pa.types.is_timestamp(kind) or pa.types.is_duration(kind):
        native = series.astype(kind.to_pandas_dtype())
        return _temporal(native, "datetime" if pa.types.is_timestamp(kind) else "timedelta")
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        return _as_float(series, is_integer=True)
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _as_float(series, is_integer=False)
    if pa.types.is_dictionary(kind):
        return _arrow_strings(
            pc.cast(pa.array(series.array).dictionary_decode(), pa.large_string())
        )
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _arrow_strings(pa.array(series.array))
    return _objects(series)


def _categorical(series: pd.Series[Any]) -> StringColumn:
    codes = np.asarray(series.cat.codes.to_numpy(), dtype=np.int64)
    present = codes >= 0
    num_missing = int(codes.size - present.sum())
    categories = series.cat.categories
    counts = np.bincount(codes[present], minlength=len(categories)).astype(np.int64)
    used = counts > 0
    labels = [_label(value) for value in categories[used]]
    return _merge_equal_labels(labels, counts[used], num_missing)


def _objects(series: pd.Series[Any]) -> Column:
    missing = series.isna().to_numpy()
    num_missing = int(missing.sum())
    present = series[~missing] if num_missing else series
    kind = pd.api.types.infer_dtype(present, skipna=False) if len(present) else "empty"
    if kind in _NUMERIC_OBJECT_KINDS:
        numbers = pd.to_numeric(present.astype(object).map(_plain_number), errors="coerce")
        return (
            _as_float(numbers, is_integer=kind in ("integer", "boolean"))
            if numbers.notna().all()
            else _objects_as_text(present, kind, num_missing)
        )
    return _objects_as_text(present, kind, num_missing)


def _objects_as_text(present: pd.Series[Any], kind: str, num_missing: int) -> StringColumn:
    if kind == "string":
        strings = present.to_numpy(dtype=object)
    else:
        strings = np.array([_label(value) for value in present], dtype=object)
    column = _arrow_strings(pa.array(strings, type=pa.large_string()))
    return StringColumn(column.values, column.counts, num_missing)


def _plain_number(value: Any) -> Any:
    # pd.to_numeric does not accept Python bools mixed with None; 0/1 is what Facets shows.
    return int(value) if isinstance(value, bool | np.bool_) else value


def _arrow_strings(array: pa.Array | pa.ChunkedArray) -> StringColumn:
    num_missing = array.null_count
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.large_string())
    counted = pc.value_counts(pc.drop_null(array) if num_missing else array)
    values = counted.field("values")
    counts = np.asarray(counted.field("counts").to_numpy(zero_copy_only=False), dtype=np.int64)
    return StringColumn(values, counts, num_missing)


def _merge_equal_labels(labels: list[str], counts: IntArray, num_missing: int) -> StringColumn:
    # Distinct categories can print the same (1 and "1"); count them as one label.
    if len(set(labels)) != len(labels):
        merged = pd.Series(counts).groupby(np.array(labels, dtype=object), sort=False).sum()
        labels = [str(label) for label in merged.index]
        counts = np.asarray(merged.to_numpy(), dtype=np.int64)
    return StringColumn(pa.array(labels, type=pa.large_string()), counts, num_missing)


def _label(value: Any) -> str:
    """How a non-string value is shown as a category label."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return BYTES_PLACEHOLDER
    return str(value)
