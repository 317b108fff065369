"""Small helpers shared by the benchmark scripts (timing, reporting)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


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
