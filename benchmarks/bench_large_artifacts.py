"""Large DataFrame artifacts: preview, column subsets, streaming statistics, write side.

    python benchmarks/bench_large_artifacts.py                 # 100M rows x 10 columns (~6 GB)
    python benchmarks/bench_large_artifacts.py --rows 20000000 # smaller, same figures

The artifact is generated streaming (one row group at a time, never whole in memory) into
``benchmarks/.data/large-<rows>/`` and reused by later runs. Printed figures:

* preview (schema + row count + head(5)) of a fresh ``ArtifactView``: target < 50 ms;
* ``read(columns=[2 of 10])`` vs ``pandas.read_parquet(columns=)`` of the same file: <= 1.1x;
* streaming statistics of the whole artifact (peak memory and time, in a fresh process) vs
  pandas ``describe()`` of a sample that fits in memory (also in a fresh process);
* writing a 10M x 10 frame through the pandas materializer vs ``DataFrame.to_parquet`` with
  snappy: <= 1.2x.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from _common import paired, ratio, report, timeit

from zenml_widgets.artifacts.local import LocalFolder
from zenml_widgets.materializers import PandasMaterializer
from zenml_widgets.materializers.parquet_access import row_group_rows
from zenml_widgets.repository import Repository
from zenml_widgets.views import ArtifactView

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from zw_testing import record_frames

DATA = Path(__file__).parent / ".data"
COUNTRIES = np.array(["PT", "ES", "FR", "DE", "IT", "NL", "BE", "PL"])


def _chunk(i: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(i)
    data: dict[str, object] = {f"f{k}": rng.normal(k, 1 + k, rows) for k in range(8)}
    data["n"] = rng.integers(0, 1_000_000, rows)
    data["country"] = COUNTRIES[rng.integers(0, len(COUNTRIES), rows)]
    return pd.DataFrame(data)


def build(rows: int) -> Path:
    """A repository holding one artifact of ``rows`` rows (generated once, streaming)."""
    root = DATA / f"large-{rows}"
    done = root / "done"
    if done.is_file():
        return root
    if root.exists():
        import shutil

        shutil.rmtree(root)
    repo = Repository.init(root)
    sample = _chunk(0, 1000)
    group = row_group_rows(1000, int(sample.memory_usage(index=True).sum()))
    from tqdm import tqdm

    started = time.perf_counter()
    with tqdm(total=rows, desc="generating", unit="row", unit_scale=True) as bar:

        def frames() -> Iterator[pd.DataFrame]:
            for i, start in enumerate(range(0, rows, group)):
                frame = _chunk(i, min(group, rows - start))
                yield frame
                bar.update(len(frame))

        size = record_frames(repo, frames(), row_group=group, shape=(rows, 10))
    done.write_text(f"{rows}\n")
    print(
        f"generated {rows:,} rows ({size / 2**30:.2f} GiB) in {time.perf_counter() - started:.0f} s"
    )
    return root


def _output(root: Path) -> ArtifactView:
    repo = Repository(root)
    output: ArtifactView = (
        repo.get_pipeline(pipeline_name="features").runs[-1].get_step("featurize").output
    )
    return output


def bench_preview(root: Path) -> None:
    print("\n== preview: schema + num_rows + head(5) of a fresh ArtifactView ==")
    output = _output(root)

    def preview() -> None:
        fresh = ArtifactView(output._stack, output._record)
        _ = fresh.schema, fresh.num_rows, fresh.num_columns
        fresh.head(5)

    report("schema + rows + head(5)", timeit(preview, repeat=20), target=0.05)
    fresh = ArtifactView(output._stack, output._record)
    report("  schema only (footer)", timeit(lambda: ArtifactView(
        output._stack, output._record).schema, repeat=20))  # fmt: skip
    report("  head(5) only", timeit(lambda: fresh.head(5), repeat=20))


def bench_columns(root: Path) -> None:
    print("\n== read(columns=[2 of 10]) vs pandas.read_parquet(columns=) ==")
    output = _output(root)
    path = Path(output.uri) / "df.parquet"
    cols = ["f3", "country"]
    ours, base = paired(
        lambda: output.read(columns=cols),
        lambda: pd.read_parquet(path, columns=cols),
        repeat=5,
    )
    report("pandas.read_parquet(columns=2 of 10)", base)
    ratio("output.read(columns=) / pandas.read_parquet(columns=)", ours, base, target=1.1)


_PEAK = """
def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""


def _fresh(code: str, cwd: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK + textwrap.dedent(code)],
        cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def bench_statistics(root: Path, sample_rows: int) -> None:
    print("\n== streaming statistics of the whole artifact vs pandas describe() of a sample ==")
    output = _output(root)
    ours = _fresh(
        """
        import json, time
        from zenml_widgets.repository import Repository
        from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (
            FacetStatisticsVisualizer,
        )
        out = Repository().get_pipeline(pipeline_name="features").runs[-1].get_step(
            "featurize").output
        # Statistics are kept next to the artifact once computed: measure a computation.
        (out.cache_dir / "facets_statistics.pb").unlink(missing_ok=True)
        base = peak_mib()
        t = time.perf_counter()
        FacetStatisticsVisualizer(streaming_min_bytes=0).statistics(out)
        print(json.dumps({"s": time.perf_counter() - t, "peak": peak_mib(), "base": base}))
        """,
        root,
    )
    path = Path(output.uri) / "df.parquet"
    theirs = _fresh(
        f"""
        import json, time
        import pyarrow.parquet as pq
        base = peak_mib()
        t0 = time.perf_counter()
        pf = pq.ParquetFile({str(path)!r})
        groups, n = [], 0
        while n < {sample_rows} and len(groups) < pf.metadata.num_row_groups:
            n += pf.metadata.row_group(len(groups)).num_rows
            groups.append(len(groups))
        df = pf.read_row_groups(groups).to_pandas().iloc[:{sample_rows}]
        t = time.perf_counter()
        df.describe(include="all")
        print(json.dumps({{"s": time.perf_counter() - t, "read": t - t0, "rows": len(df),
                          "peak": peak_mib(), "base": base}}))
        """,
        root,
    )
    rows = output.num_rows
    print(
        f"{'streaming statistics, all ' + format(rows, ',') + ' rows':<58} "
        f"{ours['s']:10.1f} s   peak {ours['peak']:.0f} MiB (after imports {ours['base']:.0f})"
        f"   {rows / ours['s'] / 1e6:.2f} M rows/s"
    )
    sample = int(theirs["rows"])
    print(
        f"{'pandas describe(include=all), sample of ' + format(sample, ',') + ' rows':<58} "
        f"{theirs['s']:10.1f} s   peak {theirs['peak']:.0f} MiB (+ read {theirs['read']:.1f} s)"
        f"   {sample / theirs['s'] / 1e6:.2f} M rows/s"
    )
    in_memory = rows * (9 * 8 + 8 + 2)  # what pandas would hold for the whole artifact
    print(
        f"{'whole artifact in pandas (estimated)':<58} {in_memory / 2**20:10.0f} MiB; "
        f"streaming peak is {ours['peak'] / (in_memory / 2**20):.1%} of it"
    )


def bench_write(rows: int) -> None:
    print(f"\n== writing a {rows:,} x 10 frame: pandas materializer vs to_parquet(snappy) ==")
    frame = pd.concat([_chunk(i, rows // 4) for i in range(4)], ignore_index=True)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        counter = iter(range(10**6))

        def ours() -> None:
            folder = Path(tmp) / f"m{next(counter)}"
            folder.mkdir()
            PandasMaterializer(LocalFolder(folder)).handle_return(frame)
            (folder / "df.parquet").unlink()

        def theirs() -> None:
            path = Path(tmp) / f"p{next(counter)}.parquet"
            frame.to_parquet(path, compression="snappy")
            path.unlink()

        mine, base = paired(ours, theirs, repeat=5)
    group = row_group_rows(len(frame), int(frame.memory_usage(index=True).sum()))
    report("DataFrame.to_parquet(compression='snappy')", base)
    report("PandasMaterializer.handle_return", mine, note=f"row groups of {group:,} rows")
    ratio("materializer / to_parquet", mine, base, target=1.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--sample-rows", type=int, default=10_000_000)
    parser.add_argument("--write-rows", type=int, default=10_000_000)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    root = build(args.rows)
    output = _output(root)
    size = output.size_bytes or 0
    print(
        f"artifact: {output.num_rows:,} rows x {output.num_columns} columns, {size / 2**30:.2f} GiB"
    )
    bench_preview(root)
    bench_columns(root)
    bench_statistics(root, args.sample_rows)
    bench_write(args.write_rows)


if __name__ == "__main__":
    main()
