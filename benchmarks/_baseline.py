"""Measure this checkout against another commit in the same run: the other commit's package is
exported (``git archive``) into ``benchmarks/.data/baseline-<sha>/`` once, and each measurement
runs ``_chain.py`` in a fresh process with ``PYTHONPATH`` set to one or the other, alternately,
so that drift of the machine's load hits both.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"


def export(rev: str) -> Path:
    """The package of commit ``rev`` in a folder of its own (exported once)."""
    sha = subprocess.run(["git", "rev-parse", rev], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()  # fmt: skip
    target = DATA / f"baseline-{sha[:12]}"
    if not (target / "zenml_widgets").is_dir():
        DATA.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=DATA) as tmp:
            archive = Path(tmp) / "src.tar"
            subprocess.run(["git", "archive", "-o", str(archive), sha, "zenml_widgets"],
                           cwd=ROOT, check=True)  # fmt: skip
            with tarfile.open(archive) as tar:
                tar.extractall(Path(tmp) / "src", filter="data")
            (Path(tmp) / "src").rename(target)
    return target


def chain_per_step(code: Path, *, steps: int, repeat: int, dask_workers: int = 0) -> float:
    """Seconds per step of a ``steps``-step chain run by the package in folder ``code``."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    args = [sys.executable, str(HERE / "_chain.py"), "--steps", str(steps), "--repeat",
            str(repeat), "--dask", str(dask_workers)]  # fmt: skip
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True, cwd=code)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["per_step"])


def compare(rev: str, *, steps: int = 20, repeat: int = 5, rounds: int = 3,
            dask_workers: int = 0) -> tuple[float, float]:  # fmt: skip
    """Seconds per step of this checkout and of ``rev``: the fastest run of each fresh process,
    the median over ``rounds`` alternating processes each."""
    baseline = export(rev)
    ours, theirs = [], []
    for _ in range(rounds):
        for code, samples in ((ROOT, ours), (baseline, theirs)):
            samples.append(chain_per_step(code, steps=steps, repeat=repeat,
                                          dask_workers=dask_workers))  # fmt: skip
    return statistics.median(ours), statistics.median(theirs)
