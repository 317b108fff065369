"""The filter language and several sort keys at 100,000 runs with tags (SQLite).

Run: python benchmarks/bench_run_queries.py [--runs 100000]

One pipeline of ``--runs`` runs, written through the store like ``bench_runs_table.py`` (10
parameters, 10 metrics) plus tags: ``stage`` (``prod``, ``staging``, ``dev``; none on every
fourth run) and a ``baseline`` mark on every 50th run. Built once and kept in
``benchmarks/.data/``. Each query asks for the top 50 as a DataFrame; each answer is checked
against the baseline measured in the same run: every run read as one DataFrame, then filtered
and sorted in pandas (what a store without a query language makes its users do). Target: every
top 50 under 50 ms (issue 21).

Three shapes read more than the page: a first sort key with few distinct values
(``trainer.p1``: 10) sorts a whole group of equal values by the second key (10,000 runs here);
a tag as the first sort key sorts every run; a tag value few runs hold reads every tag of its
key to find them (no index holds tags in value order: ``run_tags`` is keyed by run and key).
A condition on a run value (or a tag) that fewer than 5,000 runs hold is walked first, after a
count on its index; walking the sort's index instead would check every run for a filter that
none passes.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from _common import built, mark_built, paired, ratio, report, timeit
from bench_mlflow import build_ours

from zenml_widgets.repository import Repository

DATA = Path(__file__).parent / ".data"
PIPELINE = "tagged"
TARGET = 0.050
M3, M0 = "evaluator.output.m3", "evaluator.output.m0"
Frame = Callable[[pd.DataFrame], pd.DataFrame]


def build(root: Path, runs: int) -> Repository:
    """``runs`` tagged runs through the store's writes; an interrupted build is completed."""
    marker = f"built-{runs}-tags-v1"
    if not built(root, marker):
        Repository.init(root)
    repo = build_ours(root, runs, PIPELINE, lambda r: f"{PIPELINE}-{r:06d}")
    mark_built(root, marker)
    return repo


def _top(
    df: pd.DataFrame, keep: Any, sort: list[str], ascending: list[bool], limit: int = 50
) -> pd.DataFrame:
    """The baseline's filter and sort: pandas, stable, missing values last."""
    return df[keep].sort_values(sort, ascending=ascending, kind="stable").head(limit)


#: name -> (where, sort, ascending, the same in pandas over the whole table read oldest first)
QUERIES: dict[str, tuple[str, list[str], list[bool], Frame]] = {
    "a parameter (the bench_runs_table query)": (
        "trainer.p1 >= 5", [M3], [False],
        lambda d: _top(d, d["trainer.p1"] >= 5, [M3], [False]),
    ),
    "a tag": (
        "tags.stage == 'prod'", [M3], [False],
        lambda d: _top(d, d["tags.stage"] == "prod", [M3], [False]),
    ),
    "a mark on 2% of the runs (walked first)": (
        "tags.baseline is not null", [M3], [False],
        lambda d: _top(d, d["tags.baseline"].notna(), [M3], [False]),
    ),
    "a tag value no run has": (
        "tags.stage == 'nope'", [M3], [False],
        lambda d: _top(d, d["tags.stage"] == "nope", [M3], [False]),
    ),
    "a parameter value no run has (walked first)": (
        "trainer.p1 > 1000", [M3], [False],
        lambda d: _top(d, d["trainer.p1"] > 1000, [M3], [False]),
    ),
    "a metric range few runs reach (walked first)": (
        "evaluator.output.m0 > 0.999", [M3], [False],
        lambda d: _top(d, d[M0] > 0.999, [M3], [False]),
    ),
    "in + a metric": (
        "tags.stage in ('prod', 'staging') and evaluator.output.m0 > 0.5", [M3], [False],
        lambda d: _top(d, d["tags.stage"].isin(["prod", "staging"]) & (d[M0] > 0.5), [M3], [False]),
    ),
    "or across a parameter and a tag": (
        "trainer.optimizer == 'adam' or tags.baseline is not null", [M3], [False],
        lambda d: _top(
            d, (d["trainer.optimizer"] == "adam") | d["tags.baseline"].notna(), [M3], [False]
        ),
    ),
    "parentheses, not, like; two keys": (
        "(trainer.p1 >= 5 or tags.stage == 'prod') and not trainer.optimizer like 's%'",
        ["trainer.p1", M3], [True, False],
        lambda d: _top(
            d,
            ((d["trainer.p1"] >= 5) | (d["tags.stage"] == "prod"))
            & ~d["trainer.optimizer"].str.startswith("s"),
            ["trainer.p1", M3], [True, False],
        ),
    ),
    "ilike, sorted by a tag then a metric": (
        "tags.stage ilike 'PRO%' or tags.stage is null", ["tags.stage", M3], [True, False],
        lambda d: _top(
            d, d["tags.stage"].str.lower().str.startswith("pro", na=False) | d["tags.stage"].isna(),
            ["tags.stage", M3], [True, False],
        ),
    ),
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    started = time.perf_counter()
    repo = build(DATA / f"run-queries-{args.runs}", args.runs)
    print(f"history ready in {time.perf_counter() - started:.1f} s")
    runs = repo.get_pipeline(PIPELINE).runs

    def everything() -> pd.DataFrame:
        return runs.to_dataframe(ascending=True)

    whole = timeit(everything, repeat=3, warmup=1)
    full = everything()
    print(f"\n== top 50 of {len(full):,} runs x {full.shape[1]} columns (SQLite) ==")
    report("baseline: read every run as a DataFrame", whole)
    missed = []
    for name, (where, sort, ascending, in_pandas) in QUERIES.items():

        def ours(where: str = where, sort: list[str] = sort, up: list[bool] = ascending) -> Any:
            return runs.to_dataframe(where=where, sort=sort, ascending=up, limit=50)

        want = in_pandas(full)
        got = ours()
        assert list(got["name"]) == list(want["name"]), f"{name}: ours and pandas disagree"
        ours_s, pandas_s = paired(ours, lambda f=in_pandas: f(full), repeat=9)
        print(f"\n{name}: where={where!r}, sort={sort}, ascending={ascending}")
        report("  ours: runs.to_dataframe(where=..., sort=..., limit=50)", ours_s, target=TARGET)
        report("  pandas on the table already read", pandas_s)
        ratio("  ours / (read everything + pandas)", ours_s, whole + pandas_s)
        if ours_s >= TARGET:
            missed.append(name)
    print(f"\nall top-50 queries under {TARGET * 1000:.0f} ms: {missed if missed else 'OK'}")


if __name__ == "__main__":
    main()
