"""Explorer benchmark: how fast the HistoryExplorer reacts with 100k runs in one pipeline.

Run: python benchmarks/bench_explorer.py [--runs 100000]
The history (a pipeline ``bulk`` with ``--runs`` runs and a pipeline ``small`` with 10, one step
and one output per run) is written once through the store's own write path and kept in
benchmarks/.data/. Figures are in-process medians; the ``small`` pipeline in the same store is
the baseline, so the ratios show whether the widget's cost grows with history.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from _common import ratio, report

from zenml_widgets.repository import Repository
from zenml_widgets.store import NewArtifact
from zenml_widgets.store.schema import HEAD as SCHEMA_HEAD
from zenml_widgets.widgets import HistoryExplorer

DATA = Path(__file__).parent / ".data"
PANDAS = "zenml_widgets.materializers.pandas_materializer.PandasMaterializer"
BATCH = 2000
TARGET = 0.100


def build_history(root: Path, runs: int) -> Repository:
    """``bulk`` with ``runs`` runs and ``small`` with 10, through MetadataStore's write methods."""
    marker = root / f"built-{runs}-{SCHEMA_HEAD}"
    if marker.exists():
        return Repository(root)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    repo = Repository.init(root)
    store = repo.active_stack.metadata_store
    started = time.perf_counter()
    for name, count in (("bulk", runs), ("small", 10)):
        pipeline = store.get_or_create_pipeline(name)
        for first in range(0, count, BATCH):
            with store.transaction():
                for i in range(first, min(first + BATCH, count)):
                    run = store.create_run(pipeline.id, f"{name}-{i:06d}", pid=None, hostname="b")
                    step = store.create_step(
                        run.id, position=0, name="loader", entrypoint_name="load",
                        parameters={"i": i}, cache_key=None, code_hash=None,
                    )  # fmt: skip
                    out = NewArtifact("data", f"{name}/{run.id}", "pandas.DataFrame", PANDAS)
                    store.finish_step(step.id, "completed", outputs=[out])
                    store.finish_run(run.id, "completed")
            print(f"\r  built {name}: {min(first + BATCH, count):,}/{count:,} runs", end="")
        print()
    print(f"  history built in {time.perf_counter() - started:.0f} s")
    marker.touch()
    return repo


def timed(setup: Callable[[], object], action: Callable[[], object], repeat: int = 15) -> float:
    """Median seconds of ``action()``, with an untimed ``setup()`` before each call."""
    samples = []
    for i in range(repeat + 2):
        setup()
        start = time.perf_counter()
        action()
        if i >= 2:  # warm-up
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def choose_pipeline(explorer: HistoryExplorer, name: str) -> float:
    def reset() -> None:
        explorer.ui.pipeline.value = None

    def choose() -> None:
        explorer.ui.pipeline.value = name
        assert explorer.ui.run.options, "the run dropdown was not filled"

    return timed(reset, choose)


def choose_output(explorer: HistoryExplorer, pipeline: str) -> float:
    explorer.select(pipeline, "latest", "loader")

    def reset() -> None:
        explorer.ui.output.value = None

    def choose() -> None:
        explorer.ui.output.value = "data"
        assert "PandasMaterializer" in explorer.ui.preview.value

    return timed(reset, choose)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    repo = build_history(DATA / f"explorer-{args.runs}", args.runs)
    explorer = HistoryExplorer(repo, page_size=50)
    explorer.read_on_select = False  # metadata preview only: the data is not read here
    print(f"HistoryExplorer, {args.runs:,} runs in pipeline 'bulk' (baseline: 'small', 10 runs)")

    big = f"({args.runs:,} runs)"
    small = choose_pipeline(explorer, "small")
    bulk = choose_pipeline(explorer, "bulk")
    report(f"choose pipeline -> run dropdown filled {big}", bulk, target=TARGET)
    report("choose pipeline -> run dropdown filled (10 runs)", small)
    ratio(f"  cost of {args.runs:,} runs vs 10 runs", bulk, small)

    small = choose_output(explorer, "small")
    bulk = choose_output(explorer, "bulk")
    report(f"choose output -> metadata preview {big}", bulk, target=TARGET)
    report("choose output -> metadata preview (10 runs)", small)
    ratio(f"  cost of {args.runs:,} runs vs 10 runs", bulk, small)

    explorer.select("bulk")
    older = timed(lambda: explorer.ui.newer.click(), lambda: explorer.ui.older.click())
    report("'older' page (keyset)", older, target=TARGET)
    filtered = timed(lambda: setattr(explorer, "name_filter", ""), _filter(explorer, "12345"))
    report(f"filter 'name contains' (SQL LIKE over {args.runs:,} runs)", filtered, target=TARGET)
    deep = timed(
        lambda: explorer.select("bulk"),
        lambda: explorer.select("bulk", f"bulk-{args.runs // 2:06d}"),
    )
    report("select a run from the middle of history by name", deep, target=TARGET)

    start = time.perf_counter()
    names = [r.name for r in repo.get_pipeline("bulk").runs]
    naive = time.perf_counter() - start
    report(f"for contrast: iterate all {len(names):,} runs (what paging avoids)", naive)


def _filter(explorer: HistoryExplorer, text: str) -> Callable[[], None]:
    def apply() -> None:
        explorer.ui.filter.value = text

    return apply


if __name__ == "__main__":
    main()
