"""pandas DataFrames and Series as parquet, written and read in place with pyarrow."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pandas as pd

from zenml_widgets.materializers.base import BaseMaterializer
from zenml_widgets.materializers.builtin import decode_json, decode_key, encode_json
from zenml_widgets.materializers.parquet_access import ParquetArtifact, row_group_rows

_FILENAME = "df.parquet"
_SERIES_MARKER = "series.json"
_COLUMNS_FILE = "columns.json"


class PandasMaterializer(BaseMaterializer):
    """Stores a ``DataFrame`` (or ``Series``) as ``df.parquet`` with pyarrow's default codec.

    pandas' own metadata in the parquet file carries the index, column names and dtypes
    (pandas 3 strings, categoricals, nullable integers, tz-aware datetimes), so they come back
    exactly. Reading a local artifact is a single ``pandas.read_parquet`` of the file where it
    lies: no copy. Remote artifacts (object storage) are streamed through a file object.
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (pd.DataFrame, pd.Series)

    def parquet(self) -> ParquetArtifact:
        """Random access to the artifact's parquet file: schema, row count, head, subsets
        (see :class:`~zenml_widgets.materializers.parquet_access.ParquetArtifact`)."""
        return ParquetArtifact(self)

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
