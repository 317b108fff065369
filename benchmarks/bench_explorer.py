"""Explorer benchmark: how fast the HistoryExplorer reacts with 100k runs in one pipeline.

Run: python benchmarks/bench_explorer.py [--runs 100000]
The history (a pipeline ``bulk`` with ``--runs`` runs and a pipeline ``small`` with 10, one step
per run with two parameters, a DataFrame output and a dict output whose ``accuracy`` varies and
whose ``cities`` does not; and one real run of the Keras example pipeline) is written once through
the store's own write path and kept in benchmarks/.data/. Figures are in-process medians; the
``small`` pipeline in the same store is the baseline, so the ratios show whether the widget's
cost grows with history. Also timed:

* the runs grid at 100k runs: a header sort and clearing a filter (target < 0.3 s each), and a
  page fetched from the middle of the history while scrolling;
* a Keras output's preview in a fresh process (target < 0.5 s, TensorFlow not imported),
  against loading the model, which the preview used to do;
* with ``--browser``: the same grid in JupyterLab in headless Chromium (Debian's ``chromium``,
  the tests' helpers), from the click on a header, or the Enter that clears a filter, to the
  new rows in the page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _common import built, mark_built, ratio, report

from zenml_widgets.repository import Repository
from zenml_widgets.store import NewArtifact
from zenml_widgets.store.schema import HEAD as SCHEMA_HEAD
from zenml_widgets.widgets import HistoryExplorer

DATA = Path(__file__).parent / ".data"
PANDAS = "zenml_widgets.materializers.pandas_materializer.PandasMaterializer"
BUILTIN = "zenml_widgets.materializers.builtin.BuiltInMaterializer"
BATCH = 2000
TARGET = 0.100
GRID_TARGET = 0.300
PREVIEW_TARGET = 0.500


def build_history(root: Path, runs: int) -> Repository:
    """``bulk`` with ``runs`` runs and ``small`` with 10, through MetadataStore's write methods,
    and one run of the Keras example pipeline (a real model artifact)."""
    marker = f"built-v2-{runs}-{SCHEMA_HEAD}"
    if built(root, marker):
        return Repository(root)
    repo = Repository.init(root)
    store = repo.active_stack.metadata_store
    started = time.perf_counter()
    for name, count in (("bulk", runs), ("small", 10)):
        pipeline = store.get_or_create_pipeline(name)
        for first in range(0, count, BATCH):
            with store.transaction():
                for i in range(first, min(first + BATCH, count)):
                    _write_run(store, pipeline.id, name, i)
            print(f"\r  built {name}: {min(first + BATCH, count):,}/{count:,} runs", end="")
        print()
    from zenml_widgets.examples.keras_pipeline import make_pipeline

    make_pipeline(epochs=1).run(run_name="keras", repository=repo)
    print(f"  history built in {time.perf_counter() - started:.0f} s")
    mark_built(root, marker)
    return repo


def _write_run(store: object, pipeline_id: int, name: str, i: int) -> None:
    run = store.create_run(pipeline_id, f"{name}-{i:06d}", pid=None, hostname="b")  # type: ignore[attr-defined]
    step = store.create_step(  # type: ignore[attr-defined]
        run.id, position=0, name="loader", entrypoint_name="load",
        parameters={"i": i, "lr": round(0.001 * (i % 7 + 1), 4)}, cache_key=None, code_hash=None,
    )  # fmt: skip
    summary = {"accuracy": ((i * 7919) % 10007) / 10007, "cities": 6}
    outputs = [
        NewArtifact("data", f"{name}/{run.id}", "pandas.DataFrame", PANDAS),
        NewArtifact("summary", f"{name}/{run.id}/s", "builtins.dict", BUILTIN, values=summary),
    ]
    store.finish_step(step.id, "completed", outputs=outputs)  # type: ignore[attr-defined]
    store.finish_run(run.id, "completed")  # type: ignore[attr-defined]


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
    parser.add_argument("--browser", action="store_true", help="also time the grid in Chromium")
    args = parser.parse_args()
    repo = build_history(DATA / f"explorer-{args.runs}", args.runs)
    explorer = HistoryExplorer(repo, page_size=50)
    explorer.read_on_select = False  # metadata preview only: the data is not read here
    print(f"HistoryExplorer, {args.runs:,} runs in pipeline 'bulk' (baseline: 'small', 10 runs)")
    dropdowns(explorer, repo, args.runs)
    print(f"\n== The runs grid, {args.runs:,} runs ==")
    grid(explorer, args.runs)
    print("\n== A Keras output's preview, fresh process ==")
    keras_preview(repo.root)
    if args.browser:
        print(f"\n== The runs grid in JupyterLab, Chromium, {args.runs:,} runs ==")
        from bench_explorer_browser import grid_in_browser

        grid_in_browser(repo.root, args.runs)


def dropdowns(explorer: HistoryExplorer, repo: Repository, runs: int) -> None:
    big = f"({runs:,} runs)"
    small = choose_pipeline(explorer, "small")
    bulk = choose_pipeline(explorer, "bulk")
    report(f"choose pipeline -> run dropdown filled {big}", bulk, target=TARGET)
    report("choose pipeline -> run dropdown filled (10 runs)", small)
    ratio(f"  cost of {runs:,} runs vs 10 runs", bulk, small)

    small = choose_output(explorer, "small")
    bulk = choose_output(explorer, "bulk")
    report(f"choose output -> metadata preview {big}", bulk, target=TARGET)
    report("choose output -> metadata preview (10 runs)", small)
    ratio(f"  cost of {runs:,} runs vs 10 runs", bulk, small)

    explorer.select("bulk")
    older = timed(lambda: explorer.ui.newer.click(), lambda: explorer.ui.older.click())
    report("'older' page (keyset)", older, target=TARGET)
    filtered = timed(lambda: setattr(explorer, "name_filter", ""), _filter(explorer, "12345"))
    report(f"filter 'name contains' (SQL LIKE over {runs:,} runs)", filtered, target=TARGET)
    deep = timed(
        lambda: explorer.select("bulk"),
        lambda: explorer.select("bulk", f"bulk-{runs // 2:06d}"),
    )
    report("select a run from the middle of history by name", deep, target=TARGET)

    start = time.perf_counter()
    names = [r.name for r in repo.get_pipeline("bulk").runs]
    naive = time.perf_counter() - start
    report(f"for contrast: iterate all {len(names):,} runs (what paging avoids)", naive)


def grid(explorer: HistoryExplorer, runs: int) -> None:
    """Header sorts and clearing a filter in the explorer's runs grid (what a click costs in
    the kernel: the page query and, for a filter, the count and the chart)."""
    explorer.select("bulk")
    panel = explorer.runs_table
    panel.toggle.value = True
    assert panel.grid.total == runs
    assert panel.metric.value == "loader.summary.accuracy", panel.metric.value  # it varies
    metric = "loader.summary.accuracy"
    flip = [True]

    def sort() -> None:
        flip[0] = not flip[0]
        panel.sort_by(metric, flip[0])

    ours = timed(lambda: None, sort)
    report("sort by a metric (header click)", ours, target=GRID_TARGET)
    pipeline = explorer.state.pipeline
    before = timed(lambda: None, lambda: _widget_table_sort(pipeline, metric), repeat=5)
    report("baseline: a page as ipywidgets, counted, chart redrawn", before)
    ratio("sort: grid / widget table", ours, before)
    report("sort by start (header click)", timed(lambda: None, lambda: panel.sort_by("start")),
           target=GRID_TARGET)  # fmt: skip
    where = f"loader.i >= {runs // 2}"

    def set_filter() -> None:
        panel.where.value = where

    def clear() -> None:
        panel.where.value = ""

    def set_filter_afresh() -> None:
        set_filter()
        panel._counts.clear()  # as after a refresh: the runs are counted again

    report("clear the filter", timed(set_filter, clear), target=GRID_TARGET)
    report("  with its runs counted again", timed(set_filter_afresh, clear), target=GRID_TARGET)

    def clear_afresh() -> None:
        clear()
        panel._counts.clear()

    report(f"set a filter ({where}), runs counted", timed(clear_afresh, set_filter))
    panel.where.value = ""
    middle = timed(lambda: None, lambda: panel.rows(runs // 2, panel.page_size))
    report(f"scrolling: fetch {panel.page_size} rows at row {runs // 2:,}", middle)
    top = timed(lambda: None, lambda: panel.rows(0, panel.page_size))
    report(f"scrolling: fetch {panel.page_size} rows at the top", top)


def _widget_table_sort(pipeline: object, metric: str) -> None:
    """What a header click cost before the grid: a page of 15 runs built as one ipywidget per
    cell, the runs counted again, and the chart's runs queried again."""
    import ipywidgets as w

    runs = pipeline.runs  # type: ignore[attr-defined]
    table = runs.table(sort=metric, limit=15, count=True)
    cells = [w.HTML(str(v)) for row in table.rows for v in row]
    cells += [w.Button(description=c) for c in table.columns]
    runs.table(columns=[metric], limit=500)
    box = w.GridBox(cells)
    box.close()
    for cell in cells:
        cell.close()


PREVIEW = """
import json, sys, time
started = time.perf_counter()
from zenml_widgets.repository import Repository
run = Repository().get_pipeline("keras_training_pipeline").get_run("keras")
output = run.get_step("trainer").output
ready = time.perf_counter()
html = output._repr_mimebundle_()["text/html"]
done = time.perf_counter()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print(json.dumps({"preview": done - ready, "total": done - started, "heavy": heavy,
                  "ok": "Total params" in html}))
"""
LOAD = """
import json, time
started = time.perf_counter()
from zenml_widgets.repository import Repository
run = Repository().get_pipeline("keras_training_pipeline").get_run("keras")
output = run.get_step("trainer").output
ready = time.perf_counter()
output.read()
print(json.dumps({"load": time.perf_counter() - ready, "total": time.perf_counter() - started}))
"""


def keras_preview(root: Path, repeat: int = 5) -> None:
    """The preview in fresh processes, against loading the model (the old preview)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def fresh(code: str) -> dict[str, object]:
        done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, check=True,
                              capture_output=True, text=True)  # fmt: skip
        result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    previews = [fresh(PREVIEW) for _ in range(repeat)]
    assert all(p["ok"] and p["heavy"] == [] for p in previews), previews
    preview = statistics.median(float(p["preview"]) for p in previews)  # type: ignore[arg-type]
    total = statistics.median(float(p["total"]) for p in previews)  # type: ignore[arg-type]
    report("preview: the layer table from the .keras file", preview, target=PREVIEW_TARGET,
           note="tensorflow, keras not imported")  # fmt: skip
    report("  with the imports and opening the store", total)
    loads = [fresh(LOAD) for _ in range(3)]
    load = statistics.median(float(p["load"]) for p in loads)  # type: ignore[arg-type]
    report("baseline: load the model (TensorFlow import included)", load)
    ratio("preview / loading the model", preview, load)


def _filter(explorer: HistoryExplorer, text: str) -> Callable[[], None]:
    def apply() -> None:
        explorer.ui.filter.value = text

    return apply


if __name__ == "__main__":
    main()
