"""DataFrame artifacts on S3: previews and subsets fetch only the byte ranges they need.

Bytes are counted where s3fs fetches them (``S3File._fetch_range``, one ranged GET each).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import s3fs
from conftest import S3Bucket
from test_object_store import _s3_repo

from zenml_widgets import pipeline, step
from zenml_widgets.materializers import parquet_access
from zenml_widgets.views import ArtifactView

ROWS = 400_000


@step
def wide() -> pd.DataFrame:
    """Ten float columns of random numbers (incompressible): ~32 MB."""
    rng = np.random.default_rng(1)
    return pd.DataFrame({f"c{i}": rng.normal(size=ROWS) for i in range(10)})


@pipeline
def wide_pipeline(wide):
    wide()


class _Fetches:
    def __init__(self) -> None:
        self.bytes = 0
        self.requests = 0

    def reset(self) -> None:
        self.bytes = self.requests = 0


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Fetches]:
    counter = _Fetches()
    original = s3fs.core.S3File._fetch_range

    def counting(self: Any, start: int, end: int) -> bytes:
        data: bytes = original(self, start, end)
        counter.bytes += len(data)
        counter.requests += 1
        return data

    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", counting)
    yield counter


@pytest.fixture
def output(tmp_path: Path, s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> ArtifactView:
    monkeypatch.setattr(parquet_access, "ROW_GROUP_BYTES", 4 * 2**20)  # 52,428 rows a group
    repo = _s3_repo(tmp_path, s3_bucket)
    run = wide_pipeline(wide=wide()).run(run_name="wide", repository=repo.root)
    out = run.get_step("wide").output
    assert out.uri.startswith("s3://")
    return out


def test_preview_fetches_footer_and_first_row_group(
    output: ArtifactView, fetched: _Fetches
) -> None:
    size = output.size_bytes or 0
    assert size > 25 * 2**20
    fresh = ArtifactView(output._stack, output._record)
    schema = fresh.schema
    assert list(schema.index) == [f"c{i}" for i in range(10)]
    assert fetched.bytes <= 128 * 1024, fetched.bytes  # the footer only (pyarrow reads 64 KiB)
    fetched.reset()
    head = fresh.head(5)
    assert head.shape == (5, 10)
    # the first of eight row groups (52,428 rows x 10 floats) and the footer
    assert fetched.bytes < size / 8 * 1.3, (fetched.bytes, size)
    fetched.reset()
    assert (fresh.num_rows, fresh.num_columns) == (ROWS, 10)  # recorded: no request
    assert fetched.requests == 0


def test_subset_fetches_only_its_columns_and_row_groups(
    output: ArtifactView, fetched: _Fetches
) -> None:
    size = output.size_bytes or 0
    two = output.read(columns=["c3", "c7"])
    assert list(two.columns) == ["c3", "c7"] and len(two) == ROWS
    assert fetched.bytes < size * 0.25, (fetched.bytes, size)  # 2 of 10 columns (+ footer)
    fetched.reset()
    rows = output.read(rows=slice(200_000, 200_010))
    assert rows.index.tolist() == list(range(200_000, 200_010))
    assert fetched.bytes < size * 0.15, (fetched.bytes, size)  # one row group of eight
    fetched.reset()
    whole = output.read()
    pd.testing.assert_frame_equal(whole.iloc[200_000:200_010], rows)
    pd.testing.assert_frame_equal(whole[["c3", "c7"]], two)
    high = output.read(filters=[("c0", ">", 2.5)], columns=["c0", "c1"])
    expected = whole[whole["c0"] > 2.5][["c0", "c1"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(high, expected)
