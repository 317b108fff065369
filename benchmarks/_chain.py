"""Time a chain of no-op steps with the zenml_widgets found on ``sys.path`` (this checkout's,
or another commit's: ``_baseline.py`` runs this script with ``PYTHONPATH`` set to it) and print
the seconds per step of its fastest run as JSON (other processes' load only ever adds time).
Uses only the public API, so any version runs it.

    python benchmarks/_chain.py --steps 20 --repeat 5 [--dask WORKERS]

With ``--dask`` the chain runs on a LocalCluster of that many worker processes started here
first (its workers import the same zenml_widgets), reached through the stack's ``address``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from zenml_widgets import pipeline, step
from zenml_widgets.repository import Repository


@step(enable_cache=False)
def origin() -> int:
    return 1


@step(enable_cache=False)
def noop(x: int) -> int:
    return x


def chain(n: int) -> Any:
    def body(origin: Any, **steps: Any) -> None:
        x = origin()
        for s in steps.values():
            x = s(x=x)

    body.__name__ = f"noop_chain_{n}"
    return pipeline(body, enable_cache=False)


def per_step(root: Path, n: int, repeat: int, options: dict[str, Any] | None) -> float:
    repo = Repository.init(root)
    if options is not None:
        repo.register_stack(
            "bench",
            f"sqlite:///{root}/bench.db",
            str(root / "artifacts"),
            orchestrator="dask",
            orchestrator_options=options,
            activate=True,
        )
    made = chain(n)

    def run() -> None:
        made(origin=origin(), **{f"n{i}": noop() for i in range(n)}).run(repository=repo)

    run()  # warm up: imports, schema, workers opening the stores
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    # The fastest run: on a shared machine, load from other processes only ever adds time.
    return min(samples) / (n + 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dask", type=int, default=0, help="workers of a LocalCluster")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zw-chain-") as tmp:
        if not args.dask:
            seconds = per_step(Path(tmp), args.steps, args.repeat, None)
        else:
            import dask
            import distributed

            with (
                dask.config.set({"distributed.scheduler.allowed-failures": 1}),
                distributed.LocalCluster(n_workers=args.dask, threads_per_worker=1,
                                         processes=True, dashboard_address=None) as cluster,
            ):  # fmt: skip
                options = {"address": cluster.scheduler_address}
                seconds = per_step(Path(tmp), args.steps, args.repeat, options)
    print(json.dumps({"per_step": seconds}))


if __name__ == "__main__":
    main()
