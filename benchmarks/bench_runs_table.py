"""Runs as data: ``pipeline.runs.to_dataframe`` at 100 pipelines x 1,000 runs and 1 x 100,000.

Run: python benchmarks/bench_runs_table.py [--pipelines 100 --runs 1000 --big 100000] [--postgres]
History is built once through the store's own write path (runs, steps with 10 parameters, an
evaluator output with 10 recorded metrics: 20 parameter and metric columns) and kept in
benchmarks/.data/. Measured in this run, against a baseline measured in this run too:

* MLflow-like baseline: read every run of the pipeline with all its parameters and metrics (one
  bulk read, the way ``mlflow.search_runs`` hands back a full DataFrame), then filter, sort and
  cut in pandas. It is a generous baseline: one bulk query instead of a request per run.

``--postgres``: the same figures on PostgreSQL, a throwaway server (``tests/infra/postgres.py``,
as ``bench_concurrency.py`` starts it; needs the Debian ``postgresql`` package) holding the same
history: the SQLite history above, built through the store, is copied table by table and row by
row with ``COPY`` into a database whose schema the store created (same ids, same values; the
secondary indexes are dropped during the copy and created again from their own definitions,
then ``VACUUM (ANALYZE)``, as autovacuum would). Target 4 of the architecture issue:
``repo.runs_dataframe(sort=<metric>, limit=50)`` across every pipeline under 50 ms on SQLite and
on PostgreSQL (also measured: one pipeline's top 50 by a metric).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import paired, ratio, record_trainer_run, report, timeit
from tqdm import tqdm

from zenml_widgets.repository import Repository

DATA = Path(__file__).parent / ".data"
TESTS = Path(__file__).resolve().parents[1] / "tests"
BATCH = 200  # runs per transaction while building


def _write_runs(repo: Repository, pipeline: str, runs: int, bar: tqdm) -> None:  # type: ignore[type-arg]
    store = repo.active_stack.metadata_store
    record = store.get_or_create_pipeline(pipeline)
    done = store.count_runs(record.id)  # resume an interrupted build
    bar.update(done)
    for start in range(done, runs, BATCH):
        with store.transaction():
            for r in range(start, min(runs, start + BATCH)):
                params = {f"p{k}": (r * (k + 3)) % 10 for k in range(5)}
                params |= {f"lr{k}": round(0.001 * ((r + k) % 7 + 1), 4) for k in range(4)}
                params["optimizer"] = ("adam", "sgd", "rmsprop")[r % 3]
                metrics = {f"m{k}": ((r * 7919 + k * 104729) % 10007) / 10007 for k in range(10)}
                record_trainer_run(store, record.id, f"{pipeline}-{r:06d}", params, metrics)
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


#: Tables copied to PostgreSQL, parents first (foreign keys).
TABLES = (
    "pipelines", "runs", "steps", "artifacts", "step_inputs", "run_values", "run_value_columns",
)  # fmt: skip


def copy_to_postgres(source: Repository, url: str, root: Path) -> Repository:
    """A repository whose stack is the PostgreSQL database ``url``, holding exactly the rows of
    ``source``'s SQLite store: schema by the store, rows by ``COPY``, sequences moved past the
    copied ids, secondary indexes rebuilt after the copy, then ``VACUUM (ANALYZE)``."""
    import psycopg

    repo = Repository.init(root)
    repo.register_stack("pg", url, str(root / "artifacts"), activate=True)
    repo = Repository(root)
    repo.active_stack.metadata_store  # noqa: B018  (creates the schema)
    sqlite_url = source.active_stack.metadata_url
    lite = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as pg, pg.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")  # SQLite holds naive UTC datetimes
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND "
            "indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
        for table in TABLES:
            started = time.perf_counter()
            rows = lite.execute(f"SELECT * FROM {table}")
            columns = ", ".join(d[0] for d in rows.description)
            n = 0
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            print(f"  copied {n:>9,} rows of {table} in {time.perf_counter() - started:.1f} s")
            if "id" in columns.split(", "):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
        started = time.perf_counter()
        for _, definition in indexes:
            cur.execute(definition)
    lite.close()
    # What autovacuum does to a store in use: statistics for the planner, and a visibility
    # map so that index-only scans do not visit the table for every row they return.
    with psycopg.connect(conninfo, autocommit=True) as pg:
        pg.execute("VACUUM (ANALYZE)")
    print(f"  indexes and VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s")
    return repo


@contextmanager
def postgres_copy(source: Repository) -> Iterator[Repository]:
    """``source``'s history on a throwaway PostgreSQL server, for the duration of the block."""
    sys.path.insert(0, str(TESTS))
    from infra.postgres import PostgresServer

    from zenml_widgets.stack import forget_metadata_stores

    server = PostgresServer.start()
    try:
        with tempfile.TemporaryDirectory(prefix="zw-bench-runs-pg-") as tmp:
            started = time.perf_counter()
            repo = copy_to_postgres(source, server.create_database(), Path(tmp))
            print(f"copied to PostgreSQL in {time.perf_counter() - started:.1f} s")
            try:
                yield repo
            finally:
                forget_metadata_stores()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--medium", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true", help="measure on PostgreSQL")
    args = parser.parse_args()
    started = time.perf_counter()
    repo = build(DATA / "runs-table", args.pipelines, args.runs, args.big, args.medium)
    print(f"SQLite history ready in {time.perf_counter() - started:.1f} s")
    if not args.postgres:
        print("\n######## SQLite ########")
        measure(repo, args)
        return
    with postgres_copy(repo) as pg_repo:
        same_answers(repo, pg_repo)
        print("\n######## PostgreSQL ########")
        measure(pg_repo, args)


def same_answers(lite: Repository, pg: Repository) -> None:
    """The copy answers as the SQLite store does (run names, in order)."""
    sort = "evaluator.output.m3"
    for name, ask in {
        "across pipelines": lambda r: r.runs_dataframe(sort=sort, limit=50),
        "across, filtered": lambda r: r.runs_dataframe(
            where="trainer.p1 >= 5", sort=sort, limit=50
        ),
        "big, filtered": lambda r: r.get_pipeline("big").runs.to_dataframe(
            where="trainer.p1 >= 5", sort=sort, limit=50
        ),
        "big, newest": lambda r: r.get_pipeline("big").runs.to_dataframe(limit=50),
    }.items():
        a, b = ask(lite), ask(pg)
        assert list(a["name"]) == list(b["name"]), f"{name}: PostgreSQL answers differently"
        assert a.drop(columns=["start", "end"]).equals(b.drop(columns=["start", "end"])), name
    print("PostgreSQL answers as SQLite does (4 queries, same runs, same values)")


def measure(repo: Repository, args: argparse.Namespace) -> None:
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
    pipelines = len(repo.get_pipeline_names())
    report(f"top 50 across all {pipelines} pipelines, with the filter (Repository)", across)
    across_all = timeit(lambda: repo.runs_dataframe(sort=sort, limit=50), repeat=10, warmup=1)
    report(f"top 50 across all {pipelines} pipelines by a metric", across_all, target=0.050)
    big_all = timeit(lambda: big.to_dataframe(sort=sort, limit=50), repeat=10, warmup=1)
    report(f"top 50 of one pipeline of {args.big:,} runs by a metric", big_all, target=0.050)


if __name__ == "__main__":
    main()
