"""Runs as data: ``pipeline.runs.to_dataframe`` at 100 pipelines x 1,000 runs and 1 x 100,000.

Run: python benchmarks/bench_runs_table.py [--pipelines 100 --runs 1000 --big 100000]
History is built once through the store's own write path (runs, steps with 10 parameters, an
evaluator output with 10 recorded metrics: 20 parameter and metric columns) and kept in
benchmarks/.data/. Measured in this run, against a baseline measured in this run too:

* MLflow-like baseline: read every run of the pipeline with all its parameters and metrics (one
  bulk read, the way ``mlflow.search_runs`` hands back a full DataFrame), then filter, sort and
  cut in pandas. It is a generous baseline: one bulk query instead of a request per run.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from _common import paired, ratio, report, timeit
from tqdm import tqdm

from zenml_widgets.repository import Repository
from zenml_widgets.store import NewArtifact

DATA = Path(__file__).parent / ".data"
BUILTIN = "zenml_widgets.materializers.builtin.BuiltInMaterializer"
BATCH = 200  # runs per transaction while building


def _write_runs(repo: Repository, pipeline: str, runs: int, bar: tqdm) -> None:  # type: ignore[type-arg]
    store = repo.active_stack.metadata_store
    record = store.get_or_create_pipeline(pipeline)
    done = store.count_runs(record.id)  # resume an interrupted build
    bar.update(done)
    for start in range(done, runs, BATCH):
        with store.transaction():
            for r in range(start, min(runs, start + BATCH)):
                run = store.create_run(record.id, f"{pipeline}-{r:06d}", pid=1, hostname="b")
                params = {f"p{k}": (r * (k + 3)) % 10 for k in range(5)}
                params |= {f"lr{k}": round(0.001 * ((r + k) % 7 + 1), 4) for k in range(4)}
                params["optimizer"] = ("adam", "sgd", "rmsprop")[r % 3]
                trainer = store.create_step(
                    run.id, position=0, name="trainer", entrypoint_name="trainer",
                    parameters=params, cache_key=None, code_hash="c",
                )  # fmt: skip
                store.finish_step(trainer.id, "completed")
                evaluator = store.create_step(
                    run.id, position=1, name="evaluator", entrypoint_name="evaluator",
                    parameters={}, cache_key=None, code_hash="c",
                )  # fmt: skip
                metrics = {f"m{k}": ((r * 7919 + k * 104729) % 10007) / 10007 for k in range(10)}
                out = NewArtifact(
                    "output", f"{record.id}/{run.id}/1", "builtins.dict", BUILTIN, values=metrics
                )
                store.finish_step(evaluator.id, "completed", outputs=[out])
                store.finish_run(run.id, "completed")
                bar.update(1)


def build(root: Path, pipelines: int, runs: int, big: int, medium: int) -> Repository:
    """``pipelines x runs``, one pipeline of ``big`` runs and one of ``medium`` runs, through
    the store's writes; an interrupted or smaller earlier build is completed, not redone."""
    if (root / ".zen").exists():
        repo = Repository(root)
    else:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        repo = Repository.init(root)
    sizes = {f"pipeline_{p:03d}": runs for p in range(pipelines)} | {"big": big, "medium": medium}
    with tqdm(total=sum(sizes.values()), desc="building history", unit="run") as bar:
        for name, count in sizes.items():
            _write_runs(repo, name, count, bar)
    return repo


def baseline_top(runs: object, where: list[tuple[str, str, float]], sort: str, limit: int):  # type: ignore[no-untyped-def]
    """Everything read, then filtered / sorted / cut in pandas."""
    df = runs.to_dataframe(ascending=True)  # type: ignore[attr-defined]
    for column, op, value in where:
        assert op == ">="
        df = df[df[column] >= value]
    return df.sort_values(sort, ascending=False, kind="stable").head(limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--medium", type=int, default=20_000)
    args = parser.parse_args()
    repo = build(DATA / "runs-table", args.pipelines, args.runs, args.big, args.medium)
    where = [("trainer.p1", ">=", 5.0)]
    text = "trainer.p1 >= 5"
    sort = "evaluator.output.m3"

    print(f"\n== One pipeline of {args.big:,} runs (20 parameter and metric columns) ==")
    big = repo.get_pipeline("big").runs

    def ours_top():  # type: ignore[no-untyped-def]
        return big.to_dataframe(where=text, sort=sort, limit=50)

    got = ours_top()
    want = baseline_top(big, where, sort, 50)
    assert list(got["name"]) == list(want["name"]), "ours and the baseline disagree"
    top = timeit(ours_top, repeat=20)
    report("top 50 by a metric with a parameter filter (DataFrame)", top, target=0.050)
    narrow = timeit(
        lambda: big.to_dataframe(columns=["trainer.p1", sort], where=text, sort=sort, limit=50),
        repeat=20,
    )
    report("  the same, 2 columns", narrow)
    latest = timeit(lambda: big.to_dataframe(limit=50), repeat=20)
    report("newest 50 runs, all columns (DataFrame)", latest)
    base = timeit(lambda: baseline_top(big, where, sort, 50), repeat=3, warmup=1)
    report("baseline: read every run, filter + sort in pandas", base)
    ratio("top 50: ours / baseline", top, base)

    print(f"\n== {args.pipelines} pipelines x {args.runs:,} runs ==")
    one = repo.get_pipeline(f"pipeline_{args.pipelines // 2:03d}").runs
    whole = one.to_dataframe()
    assert whole.shape == (args.runs, 5 + 20), whole.shape
    table = timeit(lambda: one.to_dataframe(), repeat=20)
    report(f"whole table of {args.runs:,} runs x 20 columns (DataFrame)", table, target=0.100)
    ours_p, base_p = paired(
        lambda: one.to_dataframe(where=text, sort=sort, limit=50),
        lambda: baseline_top(one, where, sort, 50),
        repeat=9,
    )
    report("top 50 of one pipeline by a metric with a filter", ours_p)
    report("baseline: read every run, filter + sort in pandas", base_p)
    ratio("top 50 of 1,000: ours / baseline", ours_p, base_p)
    across = timeit(
        lambda: repo.runs_dataframe(where=text, sort=sort, limit=50), repeat=10, warmup=1
    )
    report(f"top 50 across all {args.pipelines + 1} pipelines (Repository)", across)


if __name__ == "__main__":
    main()
