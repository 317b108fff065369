"""Small helpers shared by the benchmark scripts (timing, reporting)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zenml_widgets.store import MetadataStore, NewArtifact

BUILTIN = "zenml_widgets.materializers.builtin.BuiltInMaterializer"
Commands = dict[str, tuple[list[str], dict[str, str]]]


def timeit(fn: Callable[[], Any], *, repeat: int = 20, warmup: int = 2) -> float:
    """Median seconds of ``fn()`` over ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def paired(
    ours: Callable[[], Any], baseline: Callable[[], Any], *, repeat: int = 9
) -> tuple[float, float]:
    """Median seconds of ``ours`` and ``baseline``, measured alternately so drift hits both."""
    ours()
    baseline()
    a, b = [], []
    for _ in range(repeat):
        for fn, samples in ((ours, a), (baseline, b)):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def report(name: str, seconds: float, *, target: float | None = None, note: str = "") -> None:
    """Print one figure in milliseconds, with its target if there is one."""
    verdict = ""
    if target is not None:
        verdict = f"  target < {target * 1000:.1f} ms: {'OK' if seconds < target else 'MISSED'}"
    print(f"{name:<58} {seconds * 1000:10.3f} ms{verdict}{'  ' + note if note else ''}")


def ratio(name: str, ours: float, baseline: float, *, target: float | None = None) -> None:
    """Print ours / baseline, with its target if there is one."""
    r = ours / baseline
    verdict = f"  target <= {target}x: {'OK' if r <= target else 'MISSED'}" if target else ""
    print(f"{name:<58} {r:10.3f} x  ({ours * 1000:.1f} ms vs {baseline * 1000:.1f} ms){verdict}")


def whole_processes(commands: Commands, repeat: int, *, keep: str = "first") -> dict:
    """Median wall seconds of each command as a whole process, commands taken in turn; a first
    round (not counted) warms the file cache and keeps each command's ``keep`` ("first" or
    "last") output line: ``{name: (seconds, line)}``."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    for round_ in range(repeat + 1):
        for name, (argv, env) in commands.items():
            start = time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed:\n{proc.stdout}\n{proc.stderr}")
            if round_:
                samples[name].append(elapsed)
            else:
                lines = proc.stdout.strip().splitlines() or [""]
                outputs[name] = lines[0] if keep == "first" else lines[-1]
    return {name: (statistics.median(s), outputs[name]) for name, s in samples.items()}


def built(root: Path, marker: str) -> bool:
    """Whether ``root`` holds history built earlier under ``marker`` (a name that says what was
    built); if not, ``root`` is emptied for a new build that ``mark_built`` completes."""
    if (root / marker).exists():
        return True
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    return False


def mark_built(root: Path, marker: str) -> None:
    """Record that ``root`` now holds the history ``marker`` names (see ``built``)."""
    (root / marker).touch()


def record_trainer_run(
    store: MetadataStore,
    pipeline_id: int,
    name: str,
    params: dict[str, Any],
    metrics: dict[str, float],
) -> None:
    """One completed run of ``trainer`` (``params``) then ``evaluator`` (a dict output of
    ``metrics``), through the store's write methods: the runs-as-data shape."""
    run = store.create_run(pipeline_id, name, pid=1, hostname="b")
    for position, step_name, parameters in ((0, "trainer", params), (1, "evaluator", {})):
        step = store.create_step(
            run.id, position=position, name=step_name, entrypoint_name=step_name,
            parameters=parameters, cache_key=None, code_hash="c",
        )  # fmt: skip
        outputs = []
        if step_name == "evaluator":
            uri = f"{pipeline_id}/{run.id}/1"
            outputs = [NewArtifact("output", uri, "builtins.dict", BUILTIN, values=metrics)]
        store.finish_step(step.id, "completed", outputs=outputs)
    store.finish_run(run.id, "completed")
