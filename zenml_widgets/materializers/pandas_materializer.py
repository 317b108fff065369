"""pandas DataFrames and Series as parquet, written and read in place with pyarrow.

A DataFrame is a *table* type: a stored one is read in parts (schema, head, column / row / filter
reads, chunks; see :mod:`~zenml_widgets.materializers.parquet_access`) and previewed from those
parts. Read objects preview as their shape, dtypes and head (DataFrames) or their first values
(Series).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from zenml_widgets.materializers.base import BaseMaterializer
from zenml_widgets.materializers.builtin import decode_json, decode_key, encode_json
from zenml_widgets.materializers.capabilities import TABLE
from zenml_widgets.materializers.parquet_access import ParquetArtifact, row_group_rows
from zenml_widgets.visualizers.html import block, esc, preformatted
from zenml_widgets.visualizers.html import table as html_table

if TYPE_CHECKING:
    from zenml_widgets.materializers.capabilities import TableFacts

_FILENAME = "df.parquet"
_SERIES_MARKER = "series.json"
_COLUMNS_FILE = "columns.json"
#: Rows and columns a preview shows.
HEAD_ROWS = 10
MAX_COLUMNS = 30


class PandasMaterializer(BaseMaterializer):
    """Stores a ``DataFrame`` (or ``Series``) as ``df.parquet`` with pyarrow's default codec.

    pandas' own metadata in the parquet file carries the index, column names and dtypes
    (pandas 3 strings, categoricals, nullable integers, tz-aware datetimes), so they come back
    exactly. Reading a local artifact is a single ``pandas.read_parquet`` of the file where it
    lies: no copy. Remote artifacts (object storage) are streamed through a file object.
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (pd.DataFrame, pd.Series)

    @classmethod
    def capabilities(cls, data_type: type[Any]) -> frozenset[str]:
        """DataFrames are tables."""
        return frozenset({TABLE}) if issubclass(data_type, pd.DataFrame) else frozenset()

    def table(self) -> ParquetArtifact:
        """Random access to the artifact's parquet file: schema, row count, head, subsets
        (see :class:`~zenml_widgets.materializers.parquet_access.ParquetArtifact`)."""
        return ParquetArtifact(self)

    def parquet(self) -> ParquetArtifact:
        """The same as :meth:`table`."""
        return self.table()

    @classmethod
    def preview_html(cls, obj: Any) -> str:
        """Shape, dtypes and head of a DataFrame; length, dtype and first values of a Series."""
        if isinstance(obj, pd.DataFrame):
            return _frame_html(obj.shape, obj.dtypes, obj.head(HEAD_ROWS), "")
        if isinstance(obj, pd.Series):
            return block(
                f"Series <span class='zw-muted'>{len(obj):,} values, dtype {esc(obj.dtype)}</span>",
                preformatted(repr(obj.head(HEAD_ROWS))),
            )
        return super().preview_html(obj)

    @classmethod
    def describe(cls, obj: Any) -> str:
        """``DataFrame (50 rows, 2 columns)``; the class name for a Series."""
        if isinstance(obj, pd.DataFrame):
            return f"DataFrame ({obj.shape[0]:,} rows, {obj.shape[1]:,} columns)"
        return super().describe(obj)

    @classmethod
    def table_preview_html(cls, table: TableFacts) -> str:
        """A stored DataFrame previewed without reading it whole: its recorded shape, its
        schema (column -> dtype) and its first rows (read alone from the first row group)."""
        shape = (table.num_rows, table.num_columns)
        return _frame_html(shape, table.schema, table.head(HEAD_ROWS), " (not read whole)")

    def handle_return(self, data: pd.DataFrame | pd.Series) -> None:
        if isinstance(data, pd.Series):
            name = data.name
            with self.open(_SERIES_MARKER, "w") as f:
                f.write(json.dumps({"name": encode_json(name), "has_name": name is not None}))
            data = data.to_frame(name="__series__")
        if not _plain_string_columns(data):
            # parquet only knows string column names: keep the real labels beside the file.
            labels = [encode_json(label) for label in data.columns]
            meta: dict[str, Any] = {"labels": labels, "name": encode_json(data.columns.name)}
            if isinstance(data.columns, pd.MultiIndex):
                meta["level_names"] = [encode_json(n) for n in data.columns.names]
            with self.open(_COLUMNS_FILE, "w") as f:
                f.write(json.dumps(meta))
            data = data.set_axis([f"__col{i}__" for i in range(data.shape[1])], axis=1)
        self.num_rows, self.num_columns = data.shape
        group = row_group_rows(len(data), int(data.memory_usage(index=True, deep=False).sum()))
        if self.is_local:
            data.to_parquet(self.path / _FILENAME, engine="pyarrow", row_group_size=group)
            return
        with self.open(_FILENAME, "wb") as f:
            data.to_parquet(f, engine="pyarrow", row_group_size=group)

    def handle_input(self, data_type: type[Any]) -> pd.DataFrame | pd.Series:
        if self.is_local:
            df = pd.read_parquet(self.path / _FILENAME, engine="pyarrow")
        else:
            with self.open(_FILENAME, "rb") as f:
                df = pd.read_parquet(f, engine="pyarrow")
        if self.exists(_COLUMNS_FILE):
            with self.open(_COLUMNS_FILE, "r") as f:
                meta = json.loads(f.read())
            labels = [decode_json(label) for label in meta["labels"]]
            if "level_names" in meta:  # MultiIndex columns: levels and their names
                df.columns = pd.MultiIndex.from_tuples(
                    labels, names=[decode_key(n) for n in meta["level_names"]]
                )
            else:
                columns = pd.Index(labels, tupleize_cols=False)
                columns.name = decode_json(meta["name"])
                df.columns = columns
        if self.exists(_SERIES_MARKER):
            with self.open(_SERIES_MARKER, "r") as f:
                meta = json.loads(f.read())
            series = df["__series__"]
            series.name = decode_key(meta["name"])
            return series
        if isinstance(data_type, type) and issubclass(data_type, pd.Series) and df.shape[1] == 1:
            return df.iloc[:, 0]
        return df


def _plain_string_columns(df: pd.DataFrame) -> bool:
    columns = df.columns
    return (
        not isinstance(columns, pd.MultiIndex)
        and columns.is_unique
        and columns.name is None
        and all(isinstance(c, str) for c in columns)
    )


def _frame_html(shape: tuple[int, int], dtypes: Any, head: pd.DataFrame, note: str) -> str:
    """Shape, dtypes (``column -> dtype``) and the first rows of a DataFrame, all escaped."""
    n_rows, n_cols = shape
    items = list(dtypes.items())
    dtype_rows = [(str(name), str(dtype)) for name, dtype in items[:MAX_COLUMNS]]
    more = f"<div class='zw-muted'>and {len(items) - MAX_COLUMNS} more columns</div>"
    html_head = head.head(HEAD_ROWS).to_html(max_cols=MAX_COLUMNS, border=0, escape=True)
    return block(
        f"DataFrame <span class='zw-muted'>{n_rows:,} rows, {n_cols:,} columns{note}</span>",
        "<div class='zw-title'>dtypes</div>",
        html_table(("column", "dtype"), dtype_rows),
        more if len(items) > MAX_COLUMNS else "",
        f"<div class='zw-title'>head({HEAD_ROWS})</div>",
        f"<div style='overflow:auto'>{html_head}</div>",
    )
