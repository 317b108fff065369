"""A DataFrame artifact of a few hundred MB: preview and statistics in bounded memory.

The parquet file is generated streaming (row group by row group, never whole in memory), once
for the module, and removed afterwards. Preview and statistics run in fresh interpreters whose
peak resident memory is compared with the data's in-memory size.

Peak memory is the kernel's high-water mark of the interpreter's own address space
(``VmHWM`` in ``/proc/self/status``): ``getrusage().ru_maxrss`` survives ``exec`` on Linux and
would report the pytest process's peak (which generated the data), not the child's.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from zw_testing import make_repo, record_frames, run_python

ROWS = 8_000_000
CHUNK = 500_000
COUNTRIES = np.array(["PT", "ES", "FR", "DE", "IT", "NL"])


@dataclass(frozen=True)
class BigArtifact:
    root: Path
    rows: int
    memory_bytes: int  # what pandas.read_parquet of the whole file would hold
    file_bytes: int
    mean_x0: float
    pt_rows: int


def _chunk(i: int) -> pd.DataFrame:
    rng = np.random.default_rng(i)
    data: dict[str, object] = {f"x{k}": rng.normal(k, 1.0 + k, CHUNK) for k in range(7)}
    data["n"] = rng.integers(0, 1000, CHUNK)
    data["country"] = COUNTRIES[rng.integers(0, len(COUNTRIES), CHUNK)]
    data["t"] = pd.date_range("2020-01-01", periods=CHUNK, freq="s") + pd.Timedelta(
        seconds=i * CHUNK
    )
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigArtifact]:
    root = tmp_path_factory.mktemp("large-artifact")
    repo = make_repo(root / "repo")
    totals = {"memory": 0, "x0": 0.0, "pt": 0}

    def frames() -> Iterator[pd.DataFrame]:
        for i in range(ROWS // CHUNK):
            frame = _chunk(i)
            totals["memory"] += int(frame.memory_usage(index=False, deep=True).sum())
            totals["x0"] += float(frame["x0"].sum())
            totals["pt"] += int((frame["country"] == "PT").sum())
            yield frame

    size = record_frames(repo, frames())
    try:
        yield BigArtifact(
            root / "repo", ROWS, int(totals["memory"]), size, totals["x0"] / ROWS, int(totals["pt"])
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


_PRELUDE = """
import json

def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")

import pandas, pyarrow, pyarrow.parquet
from zenml_widgets.repository import Repository
from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (
    FacetStatisticsVisualizer,
)
repo = Repository()
output = repo.get_pipeline(pipeline_name="features").runs[-1].get_step("featurize").output
baseline = peak_rss()
"""


def _report(what: str, result: dict[str, int], big: BigArtifact) -> None:
    grown = result["peak"] - result["baseline"]
    mib = 2**20
    print(
        f"{what}: peak {result['peak'] / mib:.0f} MiB, grew {grown / mib:.0f} MiB "
        f"(data in memory: {big.memory_bytes / mib:.0f} MiB)"
    )


def _peak_line() -> str:
    return "peak = peak_rss()\n"


def test_the_data_is_as_big_as_claimed(big: BigArtifact) -> None:
    assert big.memory_bytes > 400 * 2**20
    assert big.file_bytes > 250 * 2**20


def test_preview_reads_footer_and_first_row_group_only(big: BigArtifact) -> None:
    code = _PRELUDE + (
        "schema = output.schema\n"
        "head = output.head(5)\n"
        "facts = [output.num_rows, output.num_columns]\n"
        + _peak_line()
        + "print(json.dumps({'peak': peak, 'baseline': baseline, 'facts': facts,"
        " 'dtypes': {k: str(v) for k, v in schema.items()}, 'head': head['x0'].tolist()}))\n"
    )
    result = json.loads(run_python(code, cwd=big.root).strip().splitlines()[-1])
    _report("preview", result, big)
    assert result["facts"] == [ROWS, 10]
    assert result["dtypes"]["country"] in ("str", "object", "string")
    assert result["dtypes"]["t"].startswith("datetime64")
    assert result["head"] == _chunk(0)["x0"].head(5).tolist()
    grown = result["peak"] - result["baseline"]
    # one row group of ten columns is ~40 MB; reading the whole frame would need > 400 MB
    assert grown < big.memory_bytes / 5, (grown, big.memory_bytes)
    assert result["peak"] < big.memory_bytes / 2


def test_streaming_statistics_stay_in_bounded_memory(big: BigArtifact) -> None:
    code = _PRELUDE + (
        "stats = FacetStatisticsVisualizer(streaming_min_bytes=0).statistics(output)\n"
        + _peak_line()
        + "dataset = stats.datasets[0]\n"
        "features = {f.name: f for f in dataset.features}\n"
        "x0 = features['x0'].num_stats\n"
        "country = features['country'].string_stats\n"
        "print(json.dumps({'peak': peak, 'baseline': baseline, 'rows': dataset.num_examples,"
        " 'mean': x0.mean, 'min': x0.min, 'max': x0.max, 'median': x0.median,"
        " 'count': x0.common_stats.num_non_missing,"
        " 'top': {v.label: v.sample_count for v in country.rank_histogram.buckets}.get('PT'),"
        " 'approx': [c.str for c in features['x0'].custom_stats]}))\n"
    )
    result = json.loads(run_python(code, cwd=big.root, timeout=300).strip().splitlines()[-1])
    _report("statistics", result, big)
    assert result["rows"] == ROWS and result["count"] == ROWS
    assert result["mean"] == pytest.approx(big.mean_x0, rel=1e-9, abs=1e-9)
    assert result["top"] == big.pt_rows  # six distinct values: counted exactly
    assert abs(result["median"]) < 0.01  # x0 ~ N(0, 1): median within a 0.1% rank error
    assert any("0.10% of the rows" in note for note in result["approx"])
    grown = result["peak"] - result["baseline"]
    assert grown < big.memory_bytes / 4, (grown, big.memory_bytes)
    assert result["peak"] < big.memory_bytes / 2
