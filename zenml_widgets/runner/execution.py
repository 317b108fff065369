"""Running a composed pipeline and recording everything.

``run_pipeline`` records the run; the stack's orchestrator (``runner/orchestrators/``: local, one
step after another in this process; dask, tasks on a Dask cluster; or a third-party one) runs its
steps. Every orchestrator runs each step with ``execute_step``, so caching, lineage and failure
handling are the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml_widgets import hooks
from zenml_widgets.artifacts import ArtifactFolder, ArtifactStore, safe_segment
from zenml_widgets.config import REPO_DIR, RepositoryConfig
from zenml_widgets.exceptions import (
    PipelineDefinitionError,
    RepositoryNotFoundError,
    RunNameClashError,
    StepFailedError,
)
from zenml_widgets.materializers import default_registry
from zenml_widgets.materializers.loading import StoredArtifact
from zenml_widgets.runner.orchestrators import open_orchestrator
from zenml_widgets.stack import Stack, open_stack
from zenml_widgets.store import ArtifactRecord, NewArtifact, StepRecord, metric_values
from zenml_widgets.store.liveness import HEARTBEAT_INTERVAL, this_host

if TYPE_CHECKING:
    from zenml_widgets.runner.pipelines import BasePipeline
    from zenml_widgets.runner.steps import BaseStep, StepNode

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
    # may take over the record of an earlier attempt (a Dask worker died while running it)
    resume: bool = False

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
        for attempt in range(_NAME_ATTEMPTS):
            name = run_name if run_name is not None else default_run_name(pipeline.NAME, attempt)
            try:
                # The unique constraint decides races: of two processes asking for one name,
                # exactly one creates the run.
                run = store.create_run(
                    pipeline_record.id, name, pid=os.getpid(), hostname=this_host()
                )
                break
            except RunNameClashError:
                if run_name is not None or attempt == _NAME_ATTEMPTS - 1:
                    raise RunNameClashError(
                        f"Pipeline {pipeline.NAME!r} already has a run named {name!r}; run "
                        "names are unique per pipeline. Nothing was run. Pass another "
                        "run_name, or none for a generated one."
                    ) from None
        jobs = plan_jobs(pipeline, nodes, pipeline_record.id, run.id, name)
        with _Heartbeat(stack, run.id):
            try:
                orchestrator.run(jobs)
            except StepFailedError as e:
                store.fail_running_steps(run.id, f"not finished: the run failed: {e}")
                store.finish_run(run.id, "failed", error=str(e))
                raise
            except BaseException as e:
                reason = f"interrupted: {type(e).__name__}: {e}"
                store.fail_running_steps(run.id, reason)
                store.finish_run(run.id, "failed", error=reason)
                raise
            store.finish_run(run.id, "completed")
    return hooks.present_run(stack, store.get_run(run.id))


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


def execute_step(
    stack: Stack, job: StepJob, inputs: dict[str, ArtifactRecord]
) -> dict[str, ArtifactRecord]:
    """Run one step and record it: reuse cached outputs, or read the inputs, call the step
    function and write its outputs. Returns the step's outputs by name.

    Raises ``StepFailedError`` (the step is recorded ``failed``) when the step raises.
    """
    store = stack.metadata_store
    step = job.step
    spec = step.output_spec()
    params = job.parameters
    cache_key = _cache_key(step.ENTRYPOINT_NAME, job.code_hash, params, inputs, spec)
    cache_enabled = step.enable_cache and job.pipeline_cache
    started = datetime.now(UTC)
    record = store.get_step_at(job.run_id, job.position) if job.resume else None
    if record is not None:
        # An earlier attempt's worker died. A finished attempt is kept; else this one takes over.
        if record.status in ("completed", "cached"):
            return {a.name: a for a in store.list_outputs(record.id)}
        record = store.restart_step(record.id)
    else:
        record = _create_record(stack, job, inputs, cache_key, cache_enabled)
    if cache_enabled:
        reused = _reuse(stack, record.id, cache_key, [n for n, _ in spec])
        if reused is not None:
            logger.info("Step %r of run %r: cached", job.name, job.run_name)
            return reused
    try:
        kwargs = dict(params)
        hints = step.type_hints()
        for k, artifact in inputs.items():
            wanted = hints.get(k)
            kwargs[k] = _stored(stack, artifact).load(wanted if isinstance(wanted, type) else None)
        result = step.ENTRYPOINT(**kwargs)
        written = _write_outputs(stack, job, spec, result)
    except BaseException as e:
        error = "".join(traceback.format_exception(e))
        store.finish_step(record.id, "failed", error=error)
        if not isinstance(e, Exception):
            raise
        raise job.fail(f"{type(e).__name__}: {e}") from e
    try:
        artifacts = store.finish_step(record.id, "completed", outputs=written)
    except BaseException:
        for new in written:  # published but not recorded: take them back
            stack.artifact_store.remove(new.uri)
        raise
    elapsed = (datetime.now(UTC) - started).total_seconds()
    logger.info("Step %r of run %r: completed in %.3f s", job.name, job.run_name, elapsed)
    return {a.name: a for a in artifacts}


def _create_record(
    stack: Stack,
    job: StepJob,
    inputs: dict[str, ArtifactRecord],
    cache_key: str,
    cache_enabled: bool,
) -> StepRecord:
    """The step's record (running) with its inputs, in one transaction."""
    store = stack.metadata_store
    with store.transaction():
        record = store.create_step(
            job.run_id,
            position=job.position,
            name=job.name,
            entrypoint_name=job.step.ENTRYPOINT_NAME,
            parameters=job.parameters,
            cache_key=cache_key,
            code_hash=job.code_hash,
            cache_enabled=cache_enabled,
        )
        store.add_inputs(record.id, {k: a.id for k, a in inputs.items()})
    return record


def _stored(stack: Stack, artifact: ArtifactRecord) -> StoredArtifact:
    return StoredArtifact(
        store=stack.artifact_store,
        name=artifact.name,
        key=artifact.uri,
        data_type=artifact.data_type,
        materializer=artifact.materializer,
        writer=f"step {artifact.producer_step_id}",
    )


def _reuse(
    stack: Stack, step_id: int, cache_key: str, names: list[str]
) -> dict[str, ArtifactRecord] | None:
    store = stack.metadata_store
    hit = store.find_cached_step(cache_key)
    if hit is None or hit.id == step_id:
        return None
    previous = store.list_outputs(hit.id)
    if sorted(o.name for o in previous) != sorted(names):
        return None
    if not all(stack.artifact_store.exists(o.uri) for o in previous):
        return None  # files gone: run again rather than point at nothing
    reused = [
        NewArtifact(
            name=o.name,
            uri=o.uri,
            data_type=o.data_type,
            materializer=o.materializer,
            producer_step_id=o.producer_step_id,
            is_cached=True,
            size_bytes=o.size_bytes,
            shape=(o.num_rows, o.num_columns),
        )
        for o in previous
    ]
    source = hit.source_step_id or hit.id
    artifacts = store.finish_step(step_id, "cached", outputs=reused, source_step_id=source)
    return {a.name: a for a in artifacts}


def _write_outputs(
    stack: Stack, job: StepJob, spec: list[tuple[str, Any]], result: Any
) -> list[NewArtifact]:
    if not spec:
        return []
    if len(spec) == 1:
        values = [result]
    else:
        if not isinstance(result, tuple | list) or len(result) != len(spec):
            names = ", ".join(n for n, _ in spec)
            raise TypeError(
                f"the step declares {len(spec)} outputs ({names}) and must return a tuple of "
                f"{len(spec)} values, got {type(result).__name__}"
            )
        values = list(result)
    artifact_store = stack.artifact_store
    written: list[NewArtifact] = []
    published: list[str] = []
    # Every output is written into a temporary folder first; only when all are written are
    # they published (moved to their keys), so a failing or killed writer publishes none. A
    # failure while publishing removes those already published: all or none.
    try:
        with ExitStack() as folders:
            for (output_name, annotation), value in zip(spec, values, strict=True):
                _check_type(output_name, annotation, value)
                materializer = default_registry.get(type(value))
                key = "/".join(
                    (
                        str(job.pipeline_id),
                        str(job.run_id),
                        f"{job.position:03d}-{safe_segment(job.name)}",
                        f"{safe_segment(output_name)}-{uuid.uuid4().hex[:12]}",
                    )
                )
                folder = folders.enter_context(_publishing(artifact_store, key, published))
                (writer := materializer(folder)).handle_return(value)
                written.append(
                    NewArtifact(
                        name=output_name,
                        uri=key,
                        data_type=f"{type(value).__module__}.{type(value).__qualname__}",
                        materializer=materializer.dotted_path(),
                        size_bytes=folder.size(),
                        values=metric_values(value),
                        shape=(writer.num_rows, writer.num_columns),
                    )
                )
    except BaseException:
        for key in published:
            artifact_store.remove(key)
        raise
    return written


@contextmanager
def _publishing(store: ArtifactStore, key: str, published: list[str]) -> Iterator[ArtifactFolder]:
    """``store.write(key)`` that notes ``key`` in ``published`` once it is published."""
    with store.write(key) as folder:
        yield folder
    published.append(key)


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


def _check_type(name: str, annotation: Any, value: Any) -> None:
    if annotation is Any or not isinstance(annotation, type):
        return
    try:
        if isinstance(value, annotation):
            return
    except TypeError:  # classes that refuse isinstance checks (protocols, typing specials)
        return
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return
    raise TypeError(
        f"output {name!r} is annotated {annotation.__qualname__} but the step returned "
        f"{type(value).__qualname__}"
    )


def _cache_key(
    entrypoint: str,
    code_hash: str,
    params: dict[str, Any],
    inputs: dict[str, ArtifactRecord],
    spec: list[tuple[str, Any]],
) -> str:
    payload = {
        "entrypoint": entrypoint,
        "code": code_hash,
        "parameters": params,
        # An input is identified by the file it was read from: a re-run upstream step writes new
        # files, a cached one hands on the same.
        "inputs": {k: a.uri for k, a in inputs.items()},
        "outputs": [n for n, _ in spec],
    }
    blob = json.dumps(payload, sort_keys=True, default=repr).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()
