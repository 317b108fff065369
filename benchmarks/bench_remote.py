"""Team history over a network: every explorer action against a PostgreSQL server holding
1,000,000 runs, at 0, 5 and 20 ms round trips.

Run: python benchmarks/bench_remote.py [--runs 1000000] [--delays 0,5,20] [--repeat 3]

A throwaway PostgreSQL server (tests/infra/postgres.py; the Debian ``postgresql`` package) gets
the store's schema from its own migrations, then ``--runs`` runs of a 3-step pipeline written
with bulk ``COPY`` (not through ``run()``): per run 3 steps, 4 outputs, 3 lineage inputs, 2
parameters and 2 metrics as run values. Each action then runs through a ``LatencyProxy``
(tests/infra/latency_proxy.py) that delays each way by half the round trip and counts round
trips; a new process-wide store per delay, so opening the explorer includes connecting. Printed:
round trips and median seconds per action and delay. Target at 20 ms: every action under
0.25 s, and a runs grid sorted by a metric under 0.3 s.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
from infra.latency_proxy import LatencyProxy  # noqa: E402
from infra.postgres import PostgresServer  # noqa: E402
from tqdm import tqdm  # noqa: E402

from zenml_widgets.repository import Repository  # noqa: E402
from zenml_widgets.stack import forget_metadata_stores  # noqa: E402
from zenml_widgets.store import MetadataStore  # noqa: E402

BUILTIN = "zenml_widgets.materializers.builtin.BuiltInMaterializer"
START = datetime(2026, 1, 1, tzinfo=UTC)
TARGET, GRID_TARGET = 0.25, 0.30
STEPS = ("importer", "trainer", "evaluator")


def _ts(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat()


def _runs(n: int) -> Iterator[str]:
    for i in range(1, n + 1):
        end = _ts(i * 10 + 7)
        yield f"{i}\t1\trun-{i:07d}\tcompleted\t{_ts(i * 10)}\t{end}\t{end}\t1\tbench\t\\N\n"


def _steps(n: int) -> Iterator[str]:
    for i in range(1, n + 1):
        epochs, lr = 1 + i % 9, round(0.001 * (1 + i % 7), 4)
        params = ('{"n_rows": 100}', json.dumps({"epochs": epochs, "lr": lr}), "{}")
        for k, name in enumerate(STEPS):
            sid = 3 * (i - 1) + k + 1
            yield (
                f"{sid}\t{i}\t{k}\t{name}\t{name}\t{params[k]}\tcompleted\t{_ts(i * 10 + 2 * k)}"
                f"\t{_ts(i * 10 + 2 * k + 2)}\tkey-{sid}\tcode-{k}\t\\N\t\\N\tt\n"
            )


def _artifacts(n: int) -> Iterator[str]:
    outputs = ((0, "train", "builtins.dict"), (0, "test", "builtins.dict"),
               (1, "output", "builtins.float"), (2, "output", "builtins.dict"))  # fmt: skip
    for i in range(1, n + 1):
        for j, (k, name, kind) in enumerate(outputs):
            aid, sid = 4 * (i - 1) + j + 1, 3 * (i - 1) + k + 1
            yield (
                f"{aid}\t{sid}\t{name}\t1/{i}/{k}/{name}\t{kind}\t{BUILTIN}\t{sid}\tf\t100"
                f"\t{_ts(i * 10 + 2 * k + 2)}\t\\N\t\\N\n"
            )


def _inputs(n: int) -> Iterator[str]:
    for i in range(1, n + 1):
        a, s = 4 * (i - 1), 3 * (i - 1)
        links = ((s + 2, "train", a + 1), (s + 3, "test", a + 2), (s + 3, "score", a + 3))
        for j, (sid, name, aid) in enumerate(links):
            yield f"{3 * (i - 1) + j + 1}\t{sid}\t{name}\t{aid}\n"


def _values(n: int) -> Iterator[str]:
    for i in range(1, n + 1):
        s = 3 * (i - 1)
        acc, loss = ((i * 7919) % 10007) / 10007, ((i * 104729) % 10007) / 1000
        rows = (
            (s + 2, "trainer.epochs", "param", "\\N", "epochs", "int", 1 + i % 9),
            (s + 2, "trainer.lr", "param", "\\N", "lr", "float", round(0.001 * (1 + i % 7), 4)),
            (s + 3, "evaluator.output.accuracy", "metric", "output", "accuracy", "float", acc),
            (s + 3, "evaluator.output.loss", "metric", "output", "loss", "float", loss),
        )
        for j, (sid, name, kind, output, key, vtype, value) in enumerate(rows):
            fields = (4 * (i - 1) + j + 1, 1, i, sid, name, kind, output, key, vtype, value)
            yield "\t".join(map(str, fields)) + "\t\\N\n"


RUN_COLUMNS = (
    "id, pipeline_id, name, status, start_time, end_time, heartbeat_at, pid, hostname, error"
)
STEP_COLUMNS = (
    "id, run_id, position, name, entrypoint_name, parameters, status, start_time, end_time, "
    "cache_key, code_hash, source_step_id, error, cache_enabled"
)
ARTIFACT_COLUMNS = (
    "id, step_id, name, uri, data_type, materializer, producer_step_id, is_cached, size_bytes, "
    "created_at, num_rows, num_columns"
)
VALUE_COLUMNS = (
    "id, pipeline_id, run_id, step_id, name, kind, output_name, key, value_type, num_value, "
    "text_value"
)
# table -> (its columns, its rows for n runs, rows per run)
TABLES: dict[str, tuple[str, Callable[[int], Iterator[str]], int]] = {
    "runs": (RUN_COLUMNS, _runs, 1),
    "steps": (STEP_COLUMNS, _steps, 3),
    "artifacts": (ARTIFACT_COLUMNS, _artifacts, 4),
    "step_inputs": ("id, step_id, name, artifact_id", _inputs, 3),
    "run_values": (VALUE_COLUMNS, _values, 4),
}


def build(url: str, runs: int) -> None:
    """The schema by the store's migrations, then ``runs`` runs by ``COPY``."""
    MetadataStore(url).close()
    conninfo = "postgresql://" + url.partition("://")[2]
    with psycopg.connect(conninfo) as conn:
        conn.execute("INSERT INTO pipelines (id, name, created_at) VALUES (1, 'training', %s)",
                     (START,))  # fmt: skip
        columns = [("trainer.epochs", "int", "param"), ("trainer.lr", "float", "param"),
                   ("evaluator.output.accuracy", "float", "metric"),
                   ("evaluator.output.loss", "float", "metric")]  # fmt: skip
        for name, vtype, kind in columns:
            conn.execute(
                "INSERT INTO run_value_columns VALUES (1, %s, %s, %s)", (name, vtype, kind)
            )
        with tqdm(total=sum(runs * per for _, _, per in TABLES.values()), unit="row",
                  desc="COPY") as bar:  # fmt: skip
            for table, (names, rows, per) in TABLES.items():
                with conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    chunk = io.StringIO()
                    for count, line in enumerate(rows(runs), 1):
                        chunk.write(line)
                        if count % 50_000 == 0:
                            copy.write(chunk.getvalue())
                            chunk = io.StringIO()
                            bar.update(50_000)
                    copy.write(chunk.getvalue())
                    bar.update(runs * per % 50_000)
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {runs * per})"
                )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _median(action: Callable[[int], Any], proxy: LatencyProxy, repeat: int) -> tuple[int, float]:
    """Most round trips and median seconds of ``action(k)`` for ``k`` in ``range(repeat)``
    (each repetition chooses something not chosen before, as a person clicking around would)."""
    trips, seconds = [], []
    for k in range(repeat):
        with proxy.counting() as counted:
            started = time.perf_counter()
            action(k)
            seconds.append(time.perf_counter() - started)
        trips.append(counted.round_trips)
    return max(trips), statistics.median(seconds)


def measure(
    root: Path, proxy: LatencyProxy, runs: int, repeat: int
) -> dict[str, tuple[int, float]]:
    """Round trips and median seconds of each action, with a fresh store."""
    from zenml_widgets.widgets import HistoryExplorer

    forget_metadata_stores()
    proxy.wait_idle()
    repo = Repository(root)
    found: dict[str, tuple[int, float]] = {}
    box: dict[str, Any] = {}
    found["open the explorer (connecting)"] = _median(
        lambda _: box.update(e=HistoryExplorer(repo, read_on_select=False)), proxy, 1
    )
    explorer = box["e"]
    ui = explorer.ui

    def pipeline_click(_: int) -> None:
        explorer.pipeline_name = None
        ui.pipeline.value = "training"

    def run_click(k: int) -> None:
        ui.run.value = f"run-{runs - 1 - k:07d}"  # runs of the listed page, newest first

    def step_click(k: int) -> None:
        ui.step.value = STEPS[k % 3]

    def output_click(k: int) -> None:
        ui.step.value = "trainer" if k % 2 else "evaluator"
        ui.output.value = "output"

    for name, click in (("choose the pipeline", pipeline_click), ("choose a run", run_click),
                        ("choose a step", step_click), ("choose an output", output_click),
                        ("refresh", lambda _: explorer.refresh())):  # fmt: skip
        found[name] = _median(click, proxy, repeat)
    pipeline = repo.get_pipeline("training")
    found["a run's display"] = _median(
        lambda k: pipeline.get_run(f"run-{runs // 2 + k:07d}")._repr_mimebundle_(), proxy, repeat
    )
    steps = [
        pipeline.get_run(f"run-{runs // 3 + k:07d}").get_step("trainer") for k in range(repeat)
    ]
    found["a step's display"] = _median(lambda k: steps[k]._repr_mimebundle_(), proxy, repeat)

    def latest(_: int) -> None:
        for s in pipeline.runs[-1].steps:
            assert s.status and s.outputs

    found["runs[-1], its steps and outputs"] = _median(latest, proxy, repeat)
    # as the explorer's runs grid asks: a new filter's first page with its count (kept for the
    # filter), then other sort orders of it with no count
    found["runs grid: a new filter's first page, counted"] = _median(
        lambda k: pipeline.runs.table(where=f"trainer.epochs >= {3 + k}", limit=100, count=True),
        proxy, repeat,
    )  # fmt: skip
    found["runs grid: sorted by a metric (filtered)"] = _median(
        lambda k: pipeline.runs.table(where="trainer.epochs >= 3", sort="evaluator.output.accuracy",
                                      descending=k % 2 == 0, limit=100),
        proxy, repeat,
    )  # fmt: skip
    explorer.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--delays", default="0,5,20", help="round trips in ms")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    server = PostgresServer.start()
    try:
        url = server.create_database()
        started = time.perf_counter()
        build(url, args.runs)
        print(f"built {args.runs:,} runs by COPY in {time.perf_counter() - started:.0f} s")
        location = url.partition("://")[2].rpartition("@")[2].partition("/")[0]
        host, _, port = location.rpartition(":")
        results: dict[float, dict[str, tuple[int, float]]] = {}
        with tempfile.TemporaryDirectory() as tmp, LatencyProxy(host, int(port)) as proxy:
            repo = Repository.init(Path(tmp) / "repo")
            repo.register_stack("team", proxy.url(url), str(Path(tmp) / "artifacts"), activate=True)
            for delay in delays:
                proxy.delay = delay / 2000
                results[delay] = measure(repo.root, proxy, args.runs, args.repeat)
        _print(results, delays)
    finally:
        forget_metadata_stores()
        server.stop()


def _print(results: dict[float, dict[str, tuple[int, float]]], delays: list[float]) -> None:
    header = "".join(f"{f'{d:g} ms RTT':>22}" for d in delays)
    print(f"\n{'action (round trips, median seconds)':<46}{header}")
    for action in results[delays[0]]:
        cells = "".join(
            f"{results[d][action][0]:>8} RT {results[d][action][1]:>8.3f} s" for d in delays
        )
        print(f"{action:<46}{cells}")
    worst = max(delays)
    target = {a: GRID_TARGET if "metric" in a else TARGET for a in results[worst]}
    missed = [a for a, (_, s) in results[worst].items() if s >= target[a]]
    verdict = "every action under target" if not missed else f"MISSED: {', '.join(missed)}"
    print(
        f"\nat {worst:g} ms: {verdict} (targets {TARGET:g} s, sorted by a metric {GRID_TARGET:g} s)"
    )


if __name__ == "__main__":
    main()
