"""Parts of a DataFrame artifact's parquet file without reading the whole file.

The parquet footer holds the schema, the row count and where each row group lies, so the
schema, the row count and the first rows cost a footer read plus the first row group(s); a few
columns or a row range cost only their column chunks and row groups. On object storage the file
is opened without read-ahead, so only the byte ranges pyarrow asks for are fetched.

Column labels are the DataFrame's own: the pandas materializer's sidecar of non-string labels is
applied, and the index, categoricals, time zones and nullable dtypes come back as pandas' own
metadata in the file describes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from zenml_widgets.materializers.builtin import decode_json, decode_key

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zenml_widgets.materializers.base import BaseMaterializer

FILENAME = "df.parquet"
SERIES_MARKER = "series.json"
COLUMNS_FILE = "columns.json"
#: Target in-memory size of one row group when writing (see :func:`row_group_rows`).
ROW_GROUP_BYTES = 64 * 2**20
#: Most rows in one row group (pyarrow's own default).
ROW_GROUP_MAX_ROWS = 1024 * 1024
#: Rows per chunk when streaming a file (statistics).
STREAM_BATCH_ROWS = 65_536
#: Fewest rows in one row group, however wide the frame.
ROW_GROUP_MIN_ROWS = 1024

Filters = Sequence[tuple[Any, str, Any]] | Sequence[Sequence[tuple[Any, str, Any]]]


def row_group_rows(num_rows: int, nbytes: int) -> int:
    """Rows per row group: about ``ROW_GROUP_BYTES`` of in-memory data, between
    ``ROW_GROUP_MIN_ROWS`` and ``ROW_GROUP_MAX_ROWS`` rows."""
    if num_rows <= 0:
        return ROW_GROUP_MAX_ROWS
    per_row = max(1.0, nbytes / num_rows)
    return int(min(ROW_GROUP_MAX_ROWS, max(ROW_GROUP_MIN_ROWS, ROW_GROUP_BYTES // per_row)))


class ParquetArtifact:
    """Random access to the parquet file of a DataFrame (or Series) artifact.

    Args:
        materializer: the pandas materializer bound to the artifact's folder.
    """

    def __init__(self, materializer: BaseMaterializer) -> None:
        self._m = materializer
        self._labels: list[Any] | None = None
        self._labels_name: Any = None
        self._series: dict[str, Any] | None = None
        if materializer.exists(COLUMNS_FILE):
            with materializer.open(COLUMNS_FILE, "r") as f:
                meta = json.loads(f.read())
            self._labels = [decode_json(label) for label in meta["labels"]]
            self._labels_name = decode_json(meta["name"])
        if materializer.exists(SERIES_MARKER):
            with materializer.open(SERIES_MARKER, "r") as f:
                self._series = json.loads(f.read())

    @contextmanager
    def parquet_file(self) -> Iterator[pq.ParquetFile]:
        """The open ``pyarrow.parquet.ParquetFile`` (random access, no read-ahead)."""
        import pyarrow.parquet as pq

        with self._open() as source, pq.ParquetFile(source) as pf:
            yield pf

    @contextmanager
    def _open(self) -> Iterator[Any]:
        if self._m.is_local:
            yield str(self._m.path / FILENAME)
            return
        opener = getattr(self._m.artifact, "open_random_access", None)
        handle: IO[Any] = opener(FILENAME) if opener else self._m.open(FILENAME, "rb")
        with handle:
            yield handle

    # --- names -----------------------------------------------------------------------------

    def _stored_columns(self, pf: pq.ParquetFile) -> list[str]:
        """Stored names of the data columns (index columns left out), in order."""
        names = list(pf.schema_arrow.names)
        index = set(_index_columns(pf.schema_arrow))
        return [n for n in names if n not in index]

    def labels(self, pf: pq.ParquetFile) -> list[Any]:
        """The DataFrame's column labels."""
        stored = self._stored_columns(pf)
        if self._labels is not None:
            return list(self._labels)
        if self._series is not None:
            return [decode_key(self._series["name"])]
        return stored

    def _to_stored(self, pf: pq.ParquetFile, columns: Sequence[Any]) -> list[str]:
        labels = self.labels(pf)
        stored = self._stored_columns(pf)
        missing = [c for c in columns if not any(_same(c, label) for label in labels)]
        if missing:
            shown = ", ".join(repr(label) for label in labels[:50])
            more = f" and {len(labels) - 50} more" if len(labels) > 50 else ""
            raise KeyError(
                f"No column {', '.join(map(repr, missing))} in this DataFrame artifact; "
                f"its {len(labels)} columns are: {shown}{more}."
            )
        return [stored[next(i for i, lb in enumerate(labels) if _same(c, lb))] for c in columns]

    # --- cheap facts -----------------------------------------------------------------------

    def num_rows(self) -> int:
        """Rows, from the footer."""
        with self.parquet_file() as pf:
            return int(pf.metadata.num_rows)

    def schema(self) -> pd.Series[Any]:
        """Column labels and dtypes as the DataFrame would have them (like ``df.dtypes``)."""
        with self.parquet_file() as pf:
            frame = self._to_pandas(pf, pf.schema_arrow.empty_table())
        if self._series is not None:
            import pandas as pd

            return pd.Series([frame.dtype], index=[frame.name], dtype=object)
        dtypes: pd.Series[Any] = frame.dtypes
        return dtypes

    def facts(self) -> tuple[int, int]:
        """``(rows, columns)`` from the footer."""
        with self.parquet_file() as pf:
            return int(pf.metadata.num_rows), len(self._stored_columns(pf))

    # --- subsets ---------------------------------------------------------------------------

    def read(
        self,
        columns: Sequence[Any] | None = None,
        rows: slice | None = None,
        filters: Filters | None = None,
    ) -> Any:
        """The DataFrame (or Series) restricted to ``columns``, the row positions ``rows`` and
        the rows matching ``filters`` (pyarrow's DNF filters, applied after ``rows``)."""
        import pyarrow.parquet as pq

        with self.parquet_file() as pf:
            wanted = None if columns is None else self._to_stored(pf, list(columns))
            expression = None
            extra: list[str] = []
            if filters:
                expression = pq.filters_to_expression(self._stored_filters(pf, filters))
                if wanted is not None:
                    used = [name for f in _flat(filters) for name in self._to_stored(pf, [f[0]])]
                    extra = [n for n in dict.fromkeys(used) if n not in wanted]
            read_columns = None if wanted is None else wanted + extra
            if rows is None:
                # pyarrow's dataset reader, as pandas.read_parquet uses: column chunks of all
                # row groups fetched ahead and decoded in parallel, and with filters, row
                # groups pruned by their statistics.
                with self._open() as source:
                    table = pq.read_table(
                        source,
                        columns=read_columns,
                        filters=expression,
                        use_pandas_metadata=True,
                    )
                start = 0
            else:
                table, start = self._row_range(pf, rows, read_columns)
                if expression is not None:
                    table = table.filter(expression)
            if extra:
                table = table.drop_columns(extra)
            if wanted is not None:
                index = [c for c in _index_columns(pf.schema_arrow) if c in table.column_names]
                table = table.select(wanted + [c for c in index if c not in wanted])
            frame = self._to_pandas(pf, table, start if expression is None else None)
        return frame

    def head(self, n: int = 5) -> Any:
        """The first ``n`` rows, reading only the row groups that hold them."""
        return self.read(rows=slice(0, max(0, n)))

    def iter_frames(
        self, columns: Sequence[Any] | None = None, batch_rows: int = STREAM_BATCH_ROWS
    ) -> Iterator[Any]:
        """The DataFrame in chunks of at most ``batch_rows`` rows, reading the file page by page
        (no pre-buffering of whole row groups), so memory stays bounded by one chunk."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        with self.parquet_file() as whole:
            wanted = None if columns is None else self._to_stored(whole, list(columns))
            schema = whole.schema_arrow
        with self._open() as source:
            pf = pq.ParquetFile(source, pre_buffer=False, buffer_size=2**20)
            start = 0
            for batch in pf.iter_batches(
                batch_size=batch_rows, columns=wanted, use_pandas_metadata=True
            ):
                table = pa.Table.from_batches([batch]).replace_schema_metadata(schema.metadata)
                frame = self._to_pandas(pf, table, start)
                start += batch.num_rows
                yield frame.to_frame() if self._series is not None else frame

    def _row_range(
        self, pf: pq.ParquetFile, rows: slice, columns: list[str] | None
    ) -> tuple[pa.Table, int]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        total = pf.metadata.num_rows
        start, stop, step = rows.indices(total)
        if step != 1:
            raise ValueError(f"rows={rows!r}: only contiguous row ranges (step 1) can be read.")
        stop = max(start, stop)
        groups, offset, first = [], 0, None
        for i in range(pf.metadata.num_row_groups):
            size = pf.metadata.row_group(i).num_rows
            if offset + size > start and offset < stop:
                groups.append(i)
                first = offset if first is None else first
            offset += size
        if not groups:
            empty = pf.schema_arrow.empty_table()
            if columns is not None:
                keep = columns + [c for c in _index_columns(pf.schema_arrow) if c not in columns]
                empty = empty.select([c for c in empty.column_names if c in keep])
            return empty, start
        if stop - start <= 65536 and len(groups) == 1:
            # a few rows: decode only the batches that hold them
            with self._open() as source:
                # buffered: only the first pages of each column chunk are read
                paged = pq.ParquetFile(
                    source, metadata=pf.metadata, pre_buffer=False, buffer_size=2**16
                )
                batches, lead = _batches_over(paged, groups, columns, start, stop, first or 0)
            table = pa.Table.from_batches(batches, schema=batches[0].schema)
            return table.slice(lead, stop - start), start
        table = pf.read_row_groups(groups, columns=columns, use_pandas_metadata=True)
        return table.slice(start - (first or 0), stop - start), start

    def _stored_filters(self, pf: pq.ParquetFile, filters: Filters) -> Any:
        def one(f: Sequence[Any]) -> tuple[Any, str, Any]:
            if len(f) != 3:
                raise ValueError(f"A filter is (column, op, value); got {f!r}.")
            return (self._to_stored(pf, [f[0]])[0], f[1], f[2])

        first = filters[0]
        if isinstance(first, tuple) and len(first) == 3 and isinstance(first[1], str):
            return [one(f) for f in filters]
        return [[one(f) for f in group] for group in filters]

    def _to_pandas(self, pf: pq.ParquetFile, table: pa.Table, start: int | None = None) -> Any:
        """``table`` as the DataFrame (or Series) the step returned: labels from the sidecar,
        and a range index that continues from row ``start`` (None: rows were filtered)."""
        import pandas as pd

        frame = table.to_pandas()
        if start is not None:
            rng = _range_index(pf.schema_arrow)
            if rng is not None and len(frame):
                begin, step, name = rng
                frame.index = pd.RangeIndex(
                    begin + start * step, begin + (start + len(frame)) * step, step, name=name
                )
        if self._labels is not None:
            by_stored = dict(zip(self._stored_columns(pf), self._labels, strict=True))
            columns = pd.Index([by_stored[c] for c in frame.columns], tupleize_cols=False)
            columns.name = self._labels_name
            frame.columns = columns
        if self._series is not None:
            series = frame["__series__"]
            series.name = decode_key(self._series["name"])
            return series
        return frame


def _batches_over(
    pf: pq.ParquetFile,
    groups: list[int],
    columns: list[str] | None,
    start: int,
    stop: int,
    offset: int,
) -> tuple[list[pa.RecordBatch], int]:
    """The record batches of ``groups`` (which begin at row ``offset``) that hold rows
    ``start:stop``, and the position of ``start`` in the first of them."""
    batches: list[pa.RecordBatch] = []
    lead = None
    for batch in pf.iter_batches(
        batch_size=max(1024, stop - start),
        row_groups=groups,
        columns=columns,
        use_pandas_metadata=True,
    ):
        if offset + batch.num_rows > start:
            lead = start - offset if lead is None else lead
            batches.append(batch)
        offset += batch.num_rows
        if offset >= stop:
            break
    return batches, lead or 0


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _flat(filters: Filters) -> list[Sequence[Any]]:
    first = filters[0]
    if isinstance(first, tuple) and len(first) == 3 and isinstance(first[1], str):
        return list(filters)
    return [f for group in filters for f in group]


def _pandas_meta(schema: pa.Schema) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(b"pandas")
    return json.loads(raw) if raw else {}


def _index_columns(schema: pa.Schema) -> list[str]:
    return [c for c in _pandas_meta(schema).get("index_columns", []) if isinstance(c, str)]


def _range_index(schema: pa.Schema) -> tuple[int, int, Any] | None:
    for c in _pandas_meta(schema).get("index_columns", []):
        if isinstance(c, dict) and c.get("kind") == "range":
            return int(c["start"]), int(c["step"]), c.get("name")
    return None
