"""Cheap facts and subset reads of DataFrame artifacts (schema, rows, head, columns, rows,
filters), and what is recorded at write time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from zenml_widgets import Output, pipeline, step
from zenml_widgets.exceptions import ArtifactReadError
from zenml_widgets.materializers import PandasMaterializer, parquet_access
from zenml_widgets.repository import Repository
from zenml_widgets.views import ArtifactView

N = 5000


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "a": np.arange(N),
            "x": rng.normal(size=N),
            "country": pd.Categorical(rng.choice(["PT", "ES", "FR"], size=N)),
            "when": pd.date_range("2024-01-01", periods=N, freq="h", tz="Europe/Lisbon"),
            "maybe": pd.array([1, None, 3, 4] * (N // 4), dtype="Int64"),
            "label": pd.array(rng.choice(["p", "q"], size=N), dtype="string"),
        }
    )


@step
def make_tables() -> Output(table=pd.DataFrame, odd=pd.DataFrame, score=float):
    """A multi-row-group frame, one with non-string labels and a named index, and a float."""
    odd = pd.DataFrame({0: [1.5, 2.5, 3.5], "b": ["u", "v", "w"], (1, 2): [7, 8, 9]})
    odd.index = pd.Index([10, 20, 30], name="key")
    return _frame(), odd, 0.5


@pipeline
def tables_pipeline(make_tables):
    make_tables()


@pytest.fixture
def outputs(sqlite_repo: Repository, monkeypatch: pytest.MonkeyPatch) -> dict[str, ArtifactView]:
    # small row groups (1024 rows) so that row ranges span several of them
    monkeypatch.setattr(parquet_access, "ROW_GROUP_BYTES", 1)
    tables_pipeline(make_tables=make_tables()).run(run_name="r", repository=sqlite_repo.root)
    run = Repository(sqlite_repo.root).get_pipeline(pipeline_name="tables_pipeline").runs[-1]
    return dict(run.get_step("make_tables").outputs.items())


def test_written_with_row_groups_and_shape_recorded(outputs: dict[str, ArtifactView]) -> None:
    table = outputs["table"]
    meta = pq.ParquetFile(Path(table.uri) / "df.parquet").metadata
    assert meta.num_row_groups == -(-N // parquet_access.ROW_GROUP_MIN_ROWS)
    assert (table._record.num_rows, table._record.num_columns) == (N, 6)
    assert outputs["score"]._record.num_rows is None


def test_row_group_size_is_about_64_mb() -> None:
    assert parquet_access.row_group_rows(10**8, 80 * 10**8) == 838_860  # 80 B/row: 64 MiB
    assert parquet_access.row_group_rows(10**8, 8 * 10**8) == 1024 * 1024  # capped
    assert parquet_access.row_group_rows(10**4, 10**11) == 1024  # very wide rows: floor


def test_schema_rows_and_head_as_the_frame_has_them(outputs: dict[str, ArtifactView]) -> None:
    table, df = outputs["table"], _frame()
    assert (table.num_rows, table.num_columns) == (N, 6)
    assert list(table.schema.index) == list(df.columns)
    assert [str(t) for t in table.schema] == [str(t) for t in df.dtypes]
    pd.testing.assert_frame_equal(table.head(), df.head(5), check_categorical=False)
    pd.testing.assert_frame_equal(table.head(0), df.head(0), check_categorical=False)
    odd = outputs["odd"]
    assert list(odd.schema.index) == [0, "b", (1, 2)]
    assert odd.head(2).index.name == "key"


def test_facts_of_older_artifacts_come_from_the_footer(outputs: dict[str, ArtifactView]) -> None:
    table = outputs["table"]
    old = ArtifactView(
        table._stack, dataclasses.replace(table._record, num_rows=None, num_columns=None)
    )
    assert (old.num_rows, old.num_columns) == (N, 6)


def test_recorded_facts_need_no_file(outputs: dict[str, ArtifactView]) -> None:
    table = outputs["table"]
    (Path(table.uri) / "df.parquet").unlink()
    assert (table.num_rows, table.num_columns) == (N, 6)
    with pytest.raises(ArtifactReadError, match=r"df\.parquet|corrupt|unreadable"):
        table.head()


def test_subset_reads(outputs: dict[str, ArtifactView]) -> None:
    table, df = outputs["table"], _frame()
    eq = pd.testing.assert_frame_equal
    eq(table.read(columns=["x", "a"]), df[["x", "a"]])
    eq(table.read(rows=slice(1000, 3100)), df.iloc[1000:3100], check_categorical=False)
    eq(table.read(rows=slice(-3, None)), df.iloc[-3:], check_categorical=False)
    eq(table.read(rows=slice(4990, 9999), columns=["a"]), df.iloc[4990:][["a"]])
    pt = table.read(filters=[("country", "==", "PT")], columns=["a", "x"])
    eq(pt, df[df["country"] == "PT"][["a", "x"]].reset_index(drop=True))
    both = table.read(filters=[[("country", "==", "PT")], [("a", "<", 3)]], columns=["a"])
    expected = df[(df["country"] == "PT") | (df["a"] < 3)][["a"]].reset_index(drop=True)
    eq(both, expected)
    ranged = table.read(rows=slice(100, 200), filters=[("a", ">=", 150)], columns=["a"])
    assert ranged["a"].tolist() == list(range(150, 200))
    odd = outputs["odd"]
    eq(odd.read(columns=[(1, 2), 0]), odd.read()[[(1, 2), 0]])
    eq(odd.read(rows=slice(1, 2)), odd.read().iloc[1:2])


def test_read_without_options_is_pandas_read_parquet(outputs: dict[str, ArtifactView]) -> None:
    table = outputs["table"]
    pd.testing.assert_frame_equal(table.read(), pd.read_parquet(Path(table.uri) / "df.parquet"))


def test_clear_errors(outputs: dict[str, ArtifactView]) -> None:
    table = outputs["table"]
    with pytest.raises(KeyError, match=r"No column 'nope'.*'a', 'x', 'country'"):
        table.read(columns=["a", "nope"])
    with pytest.raises(KeyError, match="No column 'zz'"):
        table.read(filters=[("zz", "==", 1)])
    with pytest.raises(ValueError, match="step 1"):
        table.read(rows=slice(0, 10, 2))
    with pytest.raises(ArtifactReadError, match=r"'score'.*not a table.*DataFrame outputs only"):
        outputs["score"].read(columns=["a"])
    with pytest.raises(ArtifactReadError, match="not a table"):
        _ = outputs["score"].schema
    with pytest.raises(TypeError, match="materializer"):
        table.read(pd.DataFrame, columns=["a"])


def test_iter_frames_covers_every_row_once(outputs: dict[str, ArtifactView]) -> None:
    table, df = outputs["table"], _frame()
    pd.testing.assert_frame_equal(pd.concat(table.iter_frames()), df, check_categorical=False)
    access = PandasMaterializer(table._stack.artifact_store.folder(table.key)).parquet()
    parts = list(access.iter_frames(batch_rows=700))
    assert max(len(p) for p in parts) == 700 and sum(len(p) for p in parts) == N
    pd.testing.assert_frame_equal(pd.concat(parts), df, check_categorical=False)
    small = list(table.iter_frames(columns=["a"]))
    assert sum(len(p) for p in small) == N and list(small[0].columns) == ["a"]
