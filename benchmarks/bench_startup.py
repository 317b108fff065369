"""Fresh-process start: "what is the latest run?" answered by a whole new process.

Run: python benchmarks/bench_startup.py [--runs 300 --repeat 15 --big-runs 3000]

Times, as whole processes (median of ``--repeat`` runs each, the commands taken in turn so that
load on the machine hits all of them alike):

* ``zenml-widgets runs PIPELINE`` (the console script next to this Python, else
  ``python -m zenml_widgets.cli``) and ``python -c "from zenml_widgets import Repository;
  print(Repository(P).get_pipeline(p).runs[-1])"``, with this checkout first on the path,
  against a repository built here: pipelines of ``--runs``, ``--runs // 3`` and (unless
  ``--big-runs 0``) ``--big-runs`` runs of three steps each, written through the store;
* Metaflow's client answering the same question,
  ``python -c "from metaflow import Flow, namespace; namespace(None); print(Flow('F').latest_run)"``
  with the local metadata provider and datastore (``METAFLOW_DEFAULT_METADATA=local``, a
  temporary ``METAFLOW_DATASTORE_SYSROOT_LOCAL`` and ``HOME``) holding ``--runs`` runs of a
  two-step flow;
* references: ``python -c "import pandas, sqlite3"``, ``python -c "import sqlalchemy.orm"``
  (what the read path imported before it used ``sqlite3``) and ``python -c pass`` (both
  interpreters).

Metaflow is installed in a separate virtual environment that this script creates once and
keeps in ``~/.cache/zenml-widgets-bench/metaflow-venv`` (``python3 -m venv`` + ``pip install
metaflow``); it is not a dependency of the project. Its runs are made quickly: the flow runs for
real once, then that run's folder is copied ``--runs - 1`` times under new run ids with the id
rewritten in its metadata files and increasing ``ts_epoch`` (Metaflow's local layout:
``.metaflow/F/<run id>/_meta/_self.json`` per run, the same per step and task, and
``sysmeta_*`` / artifact metadata files naming the run). ``Flow.latest_run`` lists every run's
``_self.json`` and takes the newest, so the copies cost it exactly what real runs would.

Target (issue #12, item 12): each of our two commands within 1.2x of Metaflow's time measured in
the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import whole_processes  # noqa: E402

from zenml_widgets.repository import Repository  # noqa: E402
from zenml_widgets.store import NewArtifact  # noqa: E402

TARGET = 1.2
MF_VENV = Path.home() / ".cache" / "zenml-widgets-bench" / "metaflow-venv"
FLOW = """
from metaflow import FlowSpec, step


class F(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    F()
"""
BUILTIN = "zenml_widgets.materializers.builtin.BuiltInMaterializer"


def build_history(root: Path, pipelines: dict[str, int]) -> Repository:
    """A repository whose pipelines have the given numbers of three-step runs."""
    repo = Repository.init(root)
    store = repo.active_stack.metadata_store
    for name, count in pipelines.items():
        record = store.get_or_create_pipeline(name)
        with store.transaction():
            for r in range(count):
                run = store.create_run(record.id, f"{name}-{r:05d}", pid=1, hostname="bench")
                for s in range(3):
                    step = store.create_step(
                        run.id, position=s, name=f"step_{s}", entrypoint_name=f"step_{s}",
                        parameters={"i": s}, cache_key=None, code_hash="c",
                    )  # fmt: skip
                    out = NewArtifact("output", f"{run.id}/{s}", "builtins.int", BUILTIN)
                    store.finish_step(step.id, "completed", outputs=[out])
                store.finish_run(run.id, "completed")
    return repo


def metaflow_python() -> Path:
    """The Python of the Metaflow venv, created (once) if needed."""
    python = MF_VENV / "bin" / "python"
    check = [str(python), "-c", "import metaflow"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {MF_VENV} with metaflow (once)...", flush=True)
    MF_VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["python3", "-m", "venv", "--clear", str(MF_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "metaflow"], check=True)
    return python


def metaflow_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "PYTHON"))}
    (work / "home").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(work / "home"),
        USERNAME="bench",
        METAFLOW_DEFAULT_METADATA="local",
        METAFLOW_DEFAULT_DATASTORE="local",
        METAFLOW_DATASTORE_SYSROOT_LOCAL=str(work / "root"),
    )
    return env


def build_metaflow_history(python: Path, work: Path, runs: int) -> dict[str, str]:
    """``runs`` runs of flow ``F``: one real run, then copies of it under new run ids."""
    env = metaflow_env(work)
    (work / "flow.py").write_text(FLOW)
    subprocess.run(
        [str(python), "flow.py", "--quiet", "run"], cwd=work, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    flow_dir = work / "root" / ".metaflow" / "F"
    (real,) = [p for p in flow_dir.iterdir() if p.name.isdigit()]
    meta = json.loads((real / "_meta" / "_self.json").read_text())
    base_ts = int(meta["ts_epoch"]) - runs * 1000
    for i in range(runs - 1):
        run_id = str(int(real.name) - runs + i)
        target = flow_dir / run_id
        shutil.copytree(real, target)
        for path in target.rglob("*.json"):
            text = path.read_text()
            if real.name in text:
                path.write_text(text.replace(real.name, run_id))
        self_file = target / "_meta" / "_self.json"
        record = json.loads(self_file.read_text())
        record["ts_epoch"] = base_ts + i * 1000  # older than the real run, in id order
        self_file.write_text(json.dumps(record))
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="runs of the main pipeline")
    parser.add_argument("--big-runs", type=int, default=3000, help="runs of 'big' (0: none)")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zw-bench-startup-"))
    try:
        pipelines = {"train": args.runs, "etl": max(1, args.runs // 3)}
        if args.big_runs:
            pipelines["big"] = args.big_runs
        started = time.perf_counter()
        repo = build_history(work / "repo", pipelines)
        print(f"built {sum(pipelines.values())} runs in {time.perf_counter() - started:.1f} s")
        mf_python = metaflow_python()
        version = subprocess.run(
            [str(mf_python), "-c", "import metaflow; print(metaflow.__version__)"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        started = time.perf_counter()
        mf_env = build_metaflow_history(mf_python, work / "mf", args.runs)
        print(f"built {args.runs} Metaflow {version} runs in {time.perf_counter() - started:.1f} s")

        ours_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        ours_env["PYTHONPATH"] = str(ROOT)  # this checkout, whatever is installed
        script = Path(sys.executable).parent / "zenml-widgets"
        cli = [str(script)] if script.exists() else [sys.executable, "-m", "zenml_widgets.cli"]
        api = (
            "from zenml_widgets import Repository; "
            f"print(Repository({str(repo.root)!r}).get_pipeline({{p!r}}).runs[-1])"
        )
        py = sys.executable
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "zenml-widgets runs train": ([*cli, "-R", str(repo.root), "runs", "train"], ours_env),
            "python -c Repository().get_pipeline('train').runs[-1]": (
                [py, "-c", api.format(p="train")],
                ours_env,
            ),
            "metaflow: Flow('F').latest_run": (
                [
                    str(mf_python),
                    "-c",
                    "from metaflow import Flow, namespace; namespace(None); "
                    "print(Flow('F').latest_run)",
                ],
                mf_env,
            ),
            "python -c 'import pandas, sqlite3'": ([py, "-c", "import pandas, sqlite3"], ours_env),
            # what the read path used to import before it answered anything
            "python -c 'import sqlalchemy.orm'": ([py, "-c", "import sqlalchemy.orm"], ours_env),
            "python -c pass": ([py, "-c", "pass"], ours_env),
            "python -c pass (metaflow venv)": ([str(mf_python), "-c", "pass"], mf_env),
        }
        if args.big_runs:
            commands[f"zenml-widgets runs big ({args.big_runs} runs)"] = (
                [*cli, "-R", str(repo.root), "runs", "big"],
                ours_env,
            )
            commands[f"python -c ...get_pipeline('big').runs[-1] ({args.big_runs} runs)"] = (
                [py, "-c", api.format(p="big")],
                ours_env,
            )
        print(f"timing {len(commands)} commands x {args.repeat} (median), in turn...\n")
        results = whole_processes(keep="first", commands=commands, repeat=args.repeat)
        metaflow = results["metaflow: Flow('F').latest_run"][0]
        print(f"{'whole process':<62} {'seconds':>8} {'vs metaflow':>12}")
        for name, (seconds, _) in results.items():
            print(f"{name:<62} {seconds:8.3f} {seconds / metaflow:11.2f}x")
        print()
        for name, (_, out) in results.items():
            if out:
                print(f"  {name}: {out}")
        print()
        met = True
        for name in list(commands)[:2]:
            ratio = results[name][0] / metaflow
            ok = ratio <= TARGET
            met &= ok
            print(f"{name}: {ratio:.2f}x Metaflow, target <= {TARGET}x: {'OK' if ok else 'MISSED'}")
        print(f"target within {TARGET}x of Metaflow: {'met' if met else 'NOT met'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
