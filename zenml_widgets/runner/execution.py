"""Running a composed pipeline and recording everything.

``run_pipeline`` records the run; the stack's orchestrator (``runner/orchestrators/``: local, one
step after another in this process; dask, tasks on a Dask cluster; or a third-party one) runs its
steps. Every orchestrator runs each step with ``execute_step`` (``runner/attempts.py``), so
caching, lineage, attempts and failure handling are the same. The run and all its steps are
recorded when it starts (steps ``pending``); when it ends, the store fails the steps still
running and marks those that never started ``skipped``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml_widgets import hooks
from zenml_widgets.config import REPO_DIR, RepositoryConfig
from zenml_widgets.exceptions import (
    OrchestratorError,
    PipelineDefinitionError,
    RepositoryNotFoundError,
    RunNameClashError,
    StepFailedError,
)
from zenml_widgets.runner.attempts import execute_step
from zenml_widgets.runner.capture import LogSettings
from zenml_widgets.runner.orchestrators import open_orchestrator
from zenml_widgets.runner.sources import step_source
from zenml_widgets.runner.watch import RunWatcher, in_notebook
from zenml_widgets.stack import Stack, open_stack
from zenml_widgets.store import PlannedStep
from zenml_widgets.store.liveness import HEARTBEAT_INTERVAL, this_host

if TYPE_CHECKING:
    from zenml_widgets.runner.pipelines import BasePipeline
    from zenml_widgets.runner.steps import BaseStep, StepNode
    from zenml_widgets.store import MetadataStore, RunRecord

__all__ = ["StepJob", "check_name", "default_run_name", "execute_step", "plan_jobs", "run_pipeline"]

logger = logging.getLogger("zenml_widgets")
MAX_NAME = 255
_NAME_ATTEMPTS = 5


def check_name(kind: str, name: str) -> str:
    """Refuse names that cannot be stored or shown safely: empty, too long, control chars."""
    if not isinstance(name, str) or not name.strip():
        raise PipelineDefinitionError(f"A {kind} name must be a non-empty string, got {name!r}.")
    if len(name) > MAX_NAME:
        raise PipelineDefinitionError(
            f"The {kind} name {name[:40]!r}... is {len(name)} characters long; at most {MAX_NAME}."
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise PipelineDefinitionError(f"The {kind} name {name!r} contains control characters.")
    return name


def default_run_name(pipeline_name: str, attempt: int = 0) -> str:
    """``{pipeline}-{UTC timestamp}``; on a retry (``attempt`` > 0) with a random suffix.

    Two processes can start a run of the same pipeline in the same microsecond: the store's
    unique constraint refuses the second name, and the runner retries with a suffixed one.
    """
    name = f"{pipeline_name}-{datetime.now(UTC).strftime('%Y_%m_%d-%H_%M_%S_%f')}"
    return f"{name}-{secrets.token_hex(3)}" if attempt else name


def _stack(repository: str | Path | Any, stack_key: str | None) -> Stack:
    """The stack to run on. ``repository`` is a ``Repository`` (its root is used), a folder
    inside one, or ``None``: the repository found from the current folder, created there (and
    said so) if there is none."""
    root = repository
    if repository is not None and not isinstance(repository, str | os.PathLike):
        root = repository.root  # a Repository
    try:
        return open_stack(root, stack_key)
    except RepositoryNotFoundError:
        if root is not None:
            raise
    config = RepositoryConfig.create(Path.cwd())
    Stack(config.stack(config.active), config).create_metadata_store()
    print(
        f"zenml_widgets: no repository found, created one in {config.root} "
        f"(history in {config.root / REPO_DIR}).",
        file=sys.stderr,
    )
    return open_stack(config.root, stack_key)


class _Heartbeat:
    """Tells the store every few seconds that this process still runs the run."""

    def __init__(self, stack: Stack, run_id: int) -> None:
        self._stack = stack
        self._run_id = run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="zenml-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL.total_seconds()):
            try:
                self._stack.metadata_store.heartbeat(self._run_id)
            except Exception:  # a missed beat is harmless; the next one may succeed
                logger.debug("heartbeat failed", exc_info=True)


@dataclass(frozen=True)
class StepJob:
    """What a process needs to run one step of a run: plain, picklable data plus the step.

    The orchestrator builds the jobs of a run in the calling process; ``execute_step`` runs
    one, in the same process (local) or on a Dask worker.
    """

    pipeline_name: str
    pipeline_id: int
    pipeline_cache: bool
    run_id: int
    run_name: str
    name: str
    position: int
    step: BaseStep
    parameters: dict[str, Any]
    code_hash: str
    # input argument -> (upstream step name, output name)
    inputs: dict[str, tuple[str, str]] = field(default_factory=dict)
    # may take over from an earlier attempt (Dask runs a task again when its worker was lost)
    resume: bool = False
    step_id: int = 0  # the step's record, made (pending) when the run started
    run_pid: int | None = None  # the process that runs the run (the client)
    logs: LogSettings = field(default_factory=LogSettings)  # how its output is kept
    # the lines of the step function's file, for its tracebacks where that file is not
    source: tuple[str, tuple[str, ...]] | None = None

    @property
    def upstream(self) -> list[str]:
        """Names of the steps whose outputs this step reads."""
        return list(dict.fromkeys(s for s, _ in self.inputs.values()))

    def fail(self, message: str) -> StepFailedError:
        """The error that fails the run because of this step."""
        return StepFailedError(
            f"Step {self.name!r} (entrypoint {self.step.ENTRYPOINT_NAME!r}) failed in run "
            f"{self.run_name!r} of pipeline {self.pipeline_name!r}: {message}",
            step_name=self.name,
            run_name=self.run_name,
        )


def run_pipeline(
    pipeline: BasePipeline,
    *,
    run_name: str | None,
    repository: str | Path | Any,
    stack_key: str | None,
    stream_logs: bool = True,
    progress: bool | None = None,
) -> Any:
    """Run ``pipeline`` and return its recorded run, as ``hooks.present_run`` presents it
    (the run's view; see ``BasePipeline.run``)."""
    nodes = pipeline.compose()
    check_name("pipeline", pipeline.NAME)
    if run_name is not None:
        check_name("run", run_name)
    for node in nodes:
        _check_step(node)
    stack = _stack(repository, stack_key)
    # The orchestrator is ready (a cluster reached or started) before anything is recorded.
    with open_orchestrator(stack, nodes) as orchestrator:
        store = stack.create_metadata_store()
        pipeline_record = store.get_or_create_pipeline(pipeline.NAME)
        run, jobs = _start_run(store, pipeline, nodes, pipeline_record.id, run_name)
        echo = stream_logs and orchestrator.IN_PROCESS
        settings = LogSettings.from_options(stack.config.log_options, echo=echo)
        jobs = [replace(j, logs=settings, source=step_source(j.step)) for j in jobs]
        follow = stream_logs and not orchestrator.IN_PROCESS
        shown = in_notebook() if progress is None else progress
        watcher = RunWatcher(stack, jobs, follow=follow, progress=shown)
        with _Heartbeat(stack, run.id), watcher:
            try:
                orchestrator.run(jobs)
            except (StepFailedError, OrchestratorError) as e:
                store.finish_run(run.id, "failed", error=str(e))
                raise
            except BaseException as e:
                store.finish_run(run.id, "failed", error=f"interrupted: {type(e).__name__}: {e}")
                raise
            store.finish_run(run.id, "completed")
    return hooks.present_run(stack, store.get_run(run.id))


def _start_run(
    store: MetadataStore,
    pipeline: BasePipeline,
    nodes: list[StepNode],
    pipeline_id: int,
    run_name: str | None,
) -> tuple[RunRecord, list[StepJob]]:
    """Record the run (``running``) with its steps (``pending``), and plan its jobs."""
    jobs = plan_jobs(pipeline, nodes, pipeline_id, 0, run_name or "")
    planned = [
        PlannedStep(
            position=j.position, name=j.name, entrypoint_name=j.step.ENTRYPOINT_NAME,
            parameters=j.parameters, code_hash=j.code_hash,
            cache_enabled=j.step.enable_cache and j.pipeline_cache,
        )
        for j in jobs
    ]  # fmt: skip
    for attempt in range(_NAME_ATTEMPTS):
        name = run_name if run_name is not None else default_run_name(pipeline.NAME, attempt)
        try:
            # The unique constraint decides races: of two processes asking for one name,
            # exactly one creates the run.
            run, ids = store.start_run(
                pipeline_id, name, pid=os.getpid(), hostname=this_host(), steps=planned
            )
            break
        except RunNameClashError:
            if run_name is not None or attempt == _NAME_ATTEMPTS - 1:
                raise RunNameClashError(
                    f"Pipeline {pipeline.NAME!r} already has a run named {name!r}; run "
                    "names are unique per pipeline. Nothing was run. Pass another "
                    "run_name, or none for a generated one."
                ) from None
    jobs = [
        replace(j, run_id=run.id, run_name=name, step_id=ids[j.position], run_pid=os.getpid())
        for j in jobs
    ]
    return run, jobs


def plan_jobs(
    pipeline: BasePipeline, nodes: list[StepNode], pipeline_id: int, run_id: int, run_name: str
) -> list[StepJob]:
    """The run's steps as jobs, in a valid execution order."""
    return [
        StepJob(
            pipeline_name=pipeline.NAME,
            pipeline_id=pipeline_id,
            pipeline_cache=pipeline.enable_cache,
            run_id=run_id,
            run_name=run_name,
            name=node.name,
            position=node.position,
            step=node.step,
            parameters=node.step.resolved_parameters(set(node.inputs)),
            code_hash=type(node.step).code_hash(),
            inputs={k: (ref.node.name, ref.name) for k, ref in node.inputs.items()},
        )
        for node in nodes
    ]


def _check_step(node: StepNode) -> None:
    """Check a step before anything runs: names as for pipelines and runs (``check_name``);
    parameters are recorded as JSON with sorted keys, so refuse what cannot be.

    NaN and infinities are stored faithfully (as JSON's ``NaN``/``Infinity`` tokens, which
    Python reads back); mixed key types cannot be sorted and are refused.
    """
    check_name("step", node.name)
    check_name("step entrypoint", node.step.ENTRYPOINT_NAME)
    type(node.step).code_hash()  # hashed before the step is pickled for any worker
    for output_name, _annotation in node.step.output_spec():
        check_name("output", output_name)
    params = node.step.resolved_parameters(set(node.inputs))
    try:
        json.dumps(params, sort_keys=True, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise PipelineDefinitionError(
            f"The parameters of step {node.name!r} cannot be recorded: {type(e).__name__}: {e}. "
            "Parameters must be JSON values whose dict keys are all strings."
        ) from None
