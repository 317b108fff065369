"""Core benchmark: history queries at 100k runs, artifact reads, runner overhead, import time.

Run: python benchmarks/bench_core.py [--pipelines 100 --runs 1000 --steps 5] [--baseline REV]
The history is built once through the store's own write path and kept in benchmarks/.data/.
``--baseline REV`` also times a 20-step no-op chain per step against commit REV, both in fresh
processes (``_baseline.py``); ``--only-lifecycle`` prints just that.
Every figure is measured in this run; ratios compare against a baseline measured here too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import built, mark_built, paired, ratio, report, timeit
from tqdm import tqdm

from zenml_widgets import pipeline, step
from zenml_widgets.repository import Repository
from zenml_widgets.store import NewArtifact

DATA = Path(__file__).parent / ".data"


def build_history(root: Path, pipelines: int, runs: int, steps: int) -> Repository:
    """``pipelines x runs x steps`` of history through MetadataStore's write methods."""
    marker = f"built-{pipelines}-{runs}-{steps}"
    if built(root, marker):
        return Repository(root)
    repo = Repository.init(root)
    store = repo.active_stack.metadata_store
    with tqdm(total=pipelines * runs, desc="building history", unit="run") as bar:
        for p in range(pipelines):
            record = store.get_or_create_pipeline(f"pipeline_{p:03d}")
            for r in range(runs):
                with store.transaction():
                    run = store.create_run(record.id, f"p{p:03d}-run-{r:05d}", pid=1, hostname="b")
                    for s in range(steps):
                        st = store.create_step(
                            run.id, position=s, name=f"step_{s}", entrypoint_name=f"step_{s}",
                            parameters={"i": s, "lr": 0.01}, cache_key=f"{p}-{r}-{s}",
                            code_hash="c",
                        )  # fmt: skip
                        out = NewArtifact(
                            "output", f"{p}/{run.id}/{s}", "pandas.DataFrame",
                            "zenml_widgets.materializers.pandas_materializer.PandasMaterializer",
                        )  # fmt: skip
                        store.finish_step(st.id, "completed", outputs=[out])
                    store.finish_run(run.id, "completed")
                bar.update(1)
    mark_built(root, marker)
    return repo


def bench_queries(repo: Repository, pipelines: int, runs: int) -> None:
    print(f"\n== History queries, in-process and warm ({pipelines * runs:,} runs) ==")
    name = f"pipeline_{pipelines // 2:03d}"
    run_name = f"p{pipelines // 2:03d}-run-{runs // 3:05d}"
    pipeline_view = repo.get_pipeline(name)
    report("repo.get_pipelines()", timeit(repo.get_pipelines))
    report(
        "get_pipeline(p).runs[-1] (latest run)",
        timeit(lambda: repo.get_pipeline(name).runs[-1]),
        target=0.002,
    )
    report(
        "pipeline.get_run(name) (run by name)",
        timeit(lambda: pipeline_view.get_run(run_name)),
        target=0.002,
    )
    run = pipeline_view.get_run(run_name)
    report("run.steps (steps of a run)", timeit(lambda: run.steps), target=0.002)
    report("len(pipeline.runs)", timeit(lambda: len(pipeline_view.runs)))

    def listing() -> None:
        for r in pipeline_view.runs.newest(1000):
            _ = (r.name, r.status, r.start_time, r.duration)

    report(
        "list 1,000 runs with name, status, start, duration",
        timeit(listing, repeat=10),
        target=0.050,
    )


def bench_read(tmp: Path) -> None:
    print("\n== output.read() of a 1,000,000 x 10 DataFrame vs pandas.read_parquet ==")
    rng = np.random.default_rng(0)
    n = 1_000_000
    df = pd.DataFrame(
        {
            **{f"f{i}": rng.normal(size=n) for i in range(4)},
            **{f"i{i}": rng.integers(0, 1000, size=n) for i in range(3)},
            "s": pd.array(rng.choice(["alpha", "beta", "gamma"], size=n), dtype="str"),
            "c": pd.Categorical(rng.choice(["x", "y"], size=n)),
            "t": pd.date_range("2020-01-01", periods=n, freq="s", tz="UTC"),
        }
    )

    @step
    def make() -> pd.DataFrame:
        return df

    @pipeline
    def big(make):
        make()

    repo = Repository.init(tmp / "read")
    start = time.perf_counter()
    output = big(make=make()).run(repository=repo).steps[0].output
    report("writing it as a step output (snappy parquet)", time.perf_counter() - start)
    path = Path(output.uri) / "df.parquet"
    ours, base = paired(output.read, lambda: pd.read_parquet(path), repeat=11)
    report("output.read()", ours)
    report("pandas.read_parquet(same file)", base)
    ratio("output.read() / pandas.read_parquet", ours, base, target=1.1)


def bench_runner(tmp: Path) -> None:
    print("\n== Runner overhead: a 10-step no-op pipeline vs calling the 10 functions ==")
    funcs = []
    steps = []
    for i in range(10):

        def f(x: int = i) -> int:
            return x

        f.__name__ = f"noop_{i}"
        funcs.append(f)
        steps.append(step(f, name=f"noop_{i}"))

    def body(**kw: object) -> None:
        for s in kw.values():
            s()  # type: ignore[operator]

    body.__name__ = "noop_pipeline"
    noop = pipeline(body, enable_cache=False)
    repo = Repository.init(tmp / "runner")

    def run_pipeline() -> None:
        noop(**{f"s{i}": s() for i, s in enumerate(steps)}).run(repository=repo)

    def direct() -> None:
        for f in funcs:
            f()

    ours = timeit(run_pipeline, repeat=20)
    base = timeit(direct, repeat=20)
    report("10-step no-op pipeline run", ours)
    report("the 10 functions called directly", base)
    report("runner overhead per step", (ours - base) / 10, target=0.010)


def bench_lifecycle(baseline: str) -> None:
    """Per-step cost of a 20-step no-op chain (the run lifecycle's happy path), this checkout
    against commit ``baseline``, each in fresh processes, alternately."""
    from _baseline import compare

    print(f"\n== Runner per step, a 20-step chain, local: this checkout vs {baseline} ==")
    ours, theirs = compare(baseline, steps=20, repeat=7, rounds=5)
    report("this checkout, per step", ours)
    report(f"{baseline}, per step", theirs)
    ratio("per step, this checkout / baseline", ours, theirs, target=1.1)


def bench_startup(repo: Repository) -> None:
    print("\n== Start-up of a fresh process ==")

    def fresh(code: str) -> float:
        samples = []
        for _ in range(5):
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True,
                cwd=repo.root,
            ).stdout  # fmt: skip
            samples.append(float(out.strip().splitlines()[-1]))
        return sorted(samples)[len(samples) // 2]

    t_import = fresh(
        "import time; t = time.perf_counter(); import zenml_widgets; print(time.perf_counter() - t)"
    )
    report("import zenml_widgets", t_import, target=0.5)
    t_api = fresh(
        "import time; t = time.perf_counter(); from zenml_widgets import Repository, step, "
        "pipeline; print(time.perf_counter() - t)"
    )
    report("from zenml_widgets import Repository, step, pipeline", t_api)
    t_query = fresh(
        "import time; t = time.perf_counter(); from zenml_widgets.repository import Repository; "
        "r = Repository().get_pipelines()[0].runs[-1]; r.name; print(time.perf_counter() - t)"
    )
    report("fresh process: import + latest run of a pipeline", t_query, note="(ZenML: ~3.5 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument(
        "--baseline", default=None, help="a git revision to compare the runner per step with"
    )
    parser.add_argument("--only-lifecycle", action="store_true", help="just that comparison")
    args = parser.parse_args()
    if args.baseline:
        bench_lifecycle(args.baseline)
        if args.only_lifecycle:
            return
    repo = build_history(DATA / "history", args.pipelines, args.runs, args.steps)
    bench_queries(repo, args.pipelines, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        bench_read(Path(tmp))
        bench_runner(Path(tmp))
    bench_startup(repo)


if __name__ == "__main__":
    main()
