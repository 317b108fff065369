"""Shared test pipelines and fixtures (loaded as a pytest plugin by tests/conftest.py)."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from zenml_widgets import Output, pipeline, step
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores
from zenml_widgets.store import NewArtifact

CALLS: list[str] = []
PANDAS = "zenml_widgets.materializers.pandas_materializer.PandasMaterializer"


@step
def importer(n_rows: int = 100, seed: int = 0) -> Output(train=pd.DataFrame, test=pd.DataFrame):
    """Make a small frame and split it."""
    CALLS.append("importer")
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n_rows),
            "label": pd.array(rng.choice(["a", "b"], size=n_rows), dtype="string"),
        }
    )
    cut = n_rows * 4 // 5
    return df.iloc[:cut], df.iloc[cut:]


@step
def trainer(train: pd.DataFrame, epochs: int = 3) -> float:
    """'Train': a number that depends on data and parameters."""
    CALLS.append("trainer")
    return float(train["x"].mean() * epochs)


@step(name="evaluate_model")
def evaluator(test: pd.DataFrame, score: float) -> dict:
    """Return a metrics dict."""
    CALLS.append("evaluator")
    return {"rows": len(test), "score": score}


@pipeline
def training_pipeline(importer, trainer, evaluator):
    train, test = importer()
    score = trainer(train=train)
    evaluator(test=test, score=score)


@step
def exploding(train: pd.DataFrame) -> float:
    """Always fails."""
    CALLS.append("exploding")
    raise ZeroDivisionError("boom in the step")


@pipeline
def failing_pipeline(importer, exploding):
    train, _test = importer()
    exploding(train=train)


def make_training(n_rows: int = 50, epochs: int = 5, seed: int = 0) -> Any:
    """A training_pipeline instance."""
    return training_pipeline(
        importer=importer(n_rows=n_rows, seed=seed), trainer=trainer(epochs=epochs),
        evaluator=evaluator(),
    )  # fmt: skip


def make_repo(root: Path, store_url: str | None = None) -> Repository:
    """A fresh repository at ``root``; with ``store_url``, its active stack uses that database."""
    repo = Repository.init(root)
    if store_url is not None and not store_url.startswith("sqlite"):
        repo.register_stack("team", store_url, str(root / "team-artifacts"), activate=True)
        repo = Repository(root)
    return repo


@contextmanager
def module_versions(folder: Path, name: str, template: str) -> Iterator[Callable[..., ModuleType]]:
    """Yield ``load(**fields)``: writes ``template.format(**fields)`` as module ``name`` in
    ``folder`` and (re)imports it, so a test can edit a step's source between two runs.

    No bytecode is written: two same-size sources written within one second would otherwise
    share a ``.pyc`` timestamp and the reload could run the old code.
    """
    path = folder / f"{name}.py"
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(folder))

    def load(**fields: Any) -> ModuleType:
        path.write_text(template.format(**fields))
        importlib.invalidate_caches()
        if name in sys.modules:
            return importlib.reload(sys.modules[name])
        return importlib.import_module(name)

    try:
        yield load
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(name, None)
        sys.dont_write_bytecode = saved


def record_frames(
    repo: Repository,
    frames: Iterable[pd.DataFrame],
    *,
    key: str = "big/features",
    row_group: int | None = None,
    shape: tuple[int | None, int | None] = (None, None),
) -> int:
    """One completed run ``big`` of pipeline ``features`` whose step ``featurize`` has the
    DataFrame output ``features``: ``frames`` written one after another (never all in memory)
    as one parquet file, in row groups of ``row_group`` rows (or one per frame). Returns the
    artifact's size in bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stack = repo.active_stack
    store = stack.metadata_store
    pipeline_id = store.get_or_create_pipeline("features").id
    run = store.create_run(pipeline_id, "big", pid=None, hostname=None)
    step_ = store.create_step(
        run.id, position=0, name="featurize", entrypoint_name="featurize",
        parameters={}, cache_key=None, code_hash=None,
    )  # fmt: skip
    with stack.artifact_store.write(key) as folder:
        writer: pq.ParquetWriter | None = None
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(str(folder.path / "df.parquet"), table.schema)
            writer.write_table(table, row_group_size=row_group)
        assert writer is not None, "no frames to write"
        writer.close()
        size = folder.size()
    out = NewArtifact(
        "features", key, "pandas.core.frame.DataFrame", PANDAS, size_bytes=size, shape=shape
    )
    store.finish_step(step_.id, "completed", outputs=[out])
    store.finish_run(run.id, "completed")
    return size


def run_python(code: str, cwd: Path, timeout: float = 120, **env: str) -> str:
    """Run ``code`` in a fresh interpreter; return stdout, fail the test on a non-zero exit."""
    full_env = {**os.environ, **env}
    tests_dir = str(Path(__file__).parent)
    inherited = env.get("PYTHONPATH", os.environ.get("PYTHONPATH"))
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [tests_dir, inherited]))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        pytest.fail(f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def bulk_runs(repo: Repository, pipeline: str, count: int, *, prefix: str = "bulk") -> None:
    """``count`` finished runs of one step each, written through the store in one transaction."""
    store = repo.active_stack.metadata_store
    record = store.get_or_create_pipeline(pipeline)
    with store.transaction():
        for i in range(count):
            run = store.create_run(record.id, f"{prefix}-{i:05d}", pid=None, hostname="elsewhere")
            step = store.create_step(
                run.id, position=0, name="loader", entrypoint_name="load",
                parameters={"i": i}, cache_key=None, code_hash=None,
            )  # fmt: skip
            out = NewArtifact("data", f"bulk/{run.id}", "pandas.DataFrame", PANDAS, size_bytes=10)
            store.finish_step(step.id, "completed", outputs=[out])
            store.finish_run(run.id, "completed")


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    CALLS.clear()
    yield
    forget_metadata_stores()


@pytest.fixture
def repo(tmp_path: Path, store_url: str) -> Repository:
    """A repository whose active stack uses ``store_url`` (SQLite file or PostgreSQL)."""
    return make_repo(tmp_path / "repo", store_url)


@pytest.fixture
def sqlite_repo(tmp_path: Path) -> Repository:
    """A repository on the default embedded SQLite stack."""
    return make_repo(tmp_path / "repo")


def watch_sql(repository: Repository, record: Callable[[str, Any], None]) -> Callable[[], None]:
    """Call ``record(statement, params)`` for every statement the active stack's store runs
    (as sent to the driver, ``params`` as bound). Returns the function that stops it."""
    store = repository.active_stack.metadata_store
    store.trace_statements(record)

    def stop() -> None:
        store.trace_statements(None)

    return stop


@pytest.fixture
def first_run(tmp_path: Path) -> Repository:
    """A repository with one run, ``first``, of ``training_pipeline``."""
    repo = Repository.init(tmp_path / "repo")
    make_training().run(run_name="first", repository=repo)
    return repo


@pytest.fixture
def artifact_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the artifacts whose content is read (``ArtifactView.read``), in order."""
    from zenml_widgets.views import ArtifactView

    reads: list[str] = []
    original = ArtifactView.read

    def counting_read(self: ArtifactView, *args: Any, **kwargs: Any) -> Any:
        reads.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ArtifactView, "read", counting_read)
    return reads


@pytest.fixture
def count_queries() -> Iterator[Callable[[Repository], list[str]]]:
    """``count_queries(repo)`` -> a list that fills with the SQL the active stack runs."""
    stops: list[Callable[[], None]] = []

    def attach(repository: Repository) -> list[str]:
        statements: list[str] = []

        def _record(statement: str, _params: Any) -> None:
            if statement.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
                statements.append(statement)

        stops.append(watch_sql(repository, _record))
        return statements

    yield attach
    for stop in stops:
        stop()


ARCHITECTURE_DOC = Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md"


# The reference page (post-execution-workflow.md) from fetching a pipeline to its outputs, with
# `zenml` spelled `zenml_widgets` and the page's `...` filled by the caller: the pipeline's name,
# its stack key (as Python source) and the expression of a step with one output.
REFERENCE_PAGE_HEAD = """
from zenml_widgets.repository import Repository

repo = Repository()

# get all pipelines from all stacks
pipelines = repo.get_pipelines()

# or get one pipeline by name and/or stack key
pipeline = repo.get_pipeline(pipeline_name="{pipeline}", stack_key={stack})

runs = pipeline.runs  # all runs of a pipeline chronlogically ordered
run = runs[-1]  # latest run

# or get it by name
run = pipeline.get_run(run_name="custom_pipeline_run_name")

# at this point we switch from the `get_` paradigm to properties
steps = run.steps  # all steps of a pipeline
step = steps[0]
print(step.entrypoint_name)

# The outputs of a step
# if multiple outputs they are accessible by name
outputs = step.outputs["train"]

# if one output, use the `.output` property instead
output = {one_output}.output
"""


def reference_page_head(pipeline: str, stack: str, one_output: str = "step") -> str:
    """:data:`REFERENCE_PAGE_HEAD` filled in."""
    return REFERENCE_PAGE_HEAD.format(pipeline=pipeline, stack=stack, one_output=one_output)


def doc_blocks(section: str, language: str = "python") -> list[str]:
    """The ``language`` code blocks of ``## section`` of docs/ARCHITECTURE.md (its ``###``
    subsections included), in order."""
    text = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    assert f"\n## {section}\n" in text, f"no section {section!r} in {ARCHITECTURE_DOC}"
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", body, flags=re.DOTALL)


def on_cluster(root: Path, url: str, address: str, **options: Any) -> Repository:
    """A repository whose active stack runs on the cluster at ``address``."""
    repo = Repository.init(root)
    repo.register_stack(
        "cluster", url, str(root / "artifacts"), orchestrator="dask",
        orchestrator_options={"address": address, **options}, activate=True,
    )  # fmt: skip
    return repo


def wait_until(predicate: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    """``predicate()``'s first true value, asked every 50 ms (a ``KeyError``, a run or step
    not recorded yet, counts as not yet); the test fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = predicate()
        except KeyError:
            found = None
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what or predicate}")
