"""The local orchestrator: runs a composed pipeline step by step and records everything."""

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
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml_widgets.artifacts import safe_segment
from zenml_widgets.config import REPO_DIR
from zenml_widgets.exceptions import (
    PipelineDefinitionError,
    RepositoryNotFoundError,
    RunNameClashError,
    StepFailedError,
)
from zenml_widgets.materializers import default_registry
from zenml_widgets.repository import Repository
from zenml_widgets.store import ArtifactRecord, NewArtifact
from zenml_widgets.views import ArtifactView, PipelineRunView
from zenml_widgets.views.status import HEARTBEAT_INTERVAL, this_host

if TYPE_CHECKING:
    from zenml_widgets.runner.pipelines import BasePipeline
    from zenml_widgets.runner.steps import StepNode
    from zenml_widgets.stack import Stack

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


def _repository(repository: Repository | str | Path | None) -> Repository:
    if isinstance(repository, Repository):
        return repository
    try:
        return Repository(repository)
    except RepositoryNotFoundError:
        if repository is not None:
            raise
    repo = Repository.init(Path.cwd())
    print(
        f"zenml_widgets: no repository found, created one in {repo.root} "
        f"(history in {repo.root / REPO_DIR}).",
        file=sys.stderr,
    )
    return repo


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


def run_pipeline(
    pipeline: BasePipeline,
    *,
    run_name: str | None,
    repository: Repository | str | Path | None,
    stack_key: str | None,
) -> PipelineRunView:
    """Run ``pipeline`` and return its recorded run (see ``BasePipeline.run``)."""
    nodes = pipeline.compose()
    check_name("pipeline", pipeline.NAME)
    if run_name is not None:
        check_name("run", run_name)
    for node in nodes:
        _check_step(node)
    repo = _repository(repository)
    stack = repo.get_stack(stack_key) if stack_key is not None else repo.active_stack
    store = stack.create_metadata_store()
    pipeline_record = store.get_or_create_pipeline(pipeline.NAME)
    for attempt in range(_NAME_ATTEMPTS):
        name = run_name if run_name is not None else default_run_name(pipeline.NAME, attempt)
        try:
            # The unique constraint decides races: of two processes asking for one name,
            # exactly one creates the run.
            run = store.create_run(pipeline_record.id, name, pid=os.getpid(), hostname=this_host())
            break
        except RunNameClashError:
            if run_name is not None or attempt == _NAME_ATTEMPTS - 1:
                raise RunNameClashError(
                    f"Pipeline {pipeline.NAME!r} already has a run named {name!r}; run names are "
                    "unique per pipeline. Nothing was run. Pass another run_name, or none for a "
                    "generated one."
                ) from None
    runner = _RunExecution(pipeline, stack, pipeline_record.id, run.id, name)
    with _Heartbeat(stack, run.id):
        try:
            for node in nodes:
                runner.run_step(node)
        except StepFailedError as e:
            store.finish_run(run.id, "failed", error=str(e))
            raise
        except BaseException as e:
            store.finish_run(run.id, "failed", error=f"interrupted: {type(e).__name__}: {e}")
            raise
        store.finish_run(run.id, "completed")
    return PipelineRunView(stack, store.get_run(run.id))


class _RunExecution:
    """The state of one run while it executes: outputs of the steps that ran so far."""

    def __init__(
        self, pipeline: BasePipeline, stack: Stack, pipeline_id: int, run_id: int, run_name: str
    ) -> None:
        self.pipeline = pipeline
        self.stack = stack
        self.pipeline_id = pipeline_id
        self.run_id = run_id
        self.run_name = run_name
        self.outputs: dict[str, dict[str, ArtifactRecord]] = {}

    def _fail(self, node: StepNode, message: str) -> StepFailedError:
        return StepFailedError(
            f"Step {node.name!r} (entrypoint {node.step.ENTRYPOINT_NAME!r}) failed in run "
            f"{self.run_name!r} of pipeline {self.pipeline.NAME!r}: {message}",
            step_name=node.name,
            run_name=self.run_name,
        )

    def run_step(self, node: StepNode) -> None:
        store = self.stack.metadata_store
        step = node.step
        spec = step.output_spec()
        params = step.resolved_parameters(set(node.inputs))
        inputs = {k: self.outputs[ref.node.name][ref.name] for k, ref in node.inputs.items()}
        code_hash = type(step).code_hash()
        cache_key = _cache_key(step.ENTRYPOINT_NAME, code_hash, params, inputs, spec)
        started = datetime.now(UTC)
        with store.transaction():
            cache_enabled = step.enable_cache and self.pipeline.enable_cache
            record = store.create_step(
                self.run_id,
                position=node.position,
                name=node.name,
                entrypoint_name=step.ENTRYPOINT_NAME,
                parameters=params,
                cache_key=cache_key,
                code_hash=code_hash,
                cache_enabled=cache_enabled,
            )
            store.add_inputs(record.id, {k: a.id for k, a in inputs.items()})
        if cache_enabled:
            reused = self._reuse(record.id, cache_key, [n for n, _ in spec])
            if reused is not None:
                self.outputs[node.name] = reused
                logger.info("Step %r of run %r: cached", node.name, self.run_name)
                return
        try:
            kwargs = dict(params)
            hints = step.type_hints()
            for k, artifact in inputs.items():
                wanted = hints.get(k)
                view = ArtifactView(self.stack, artifact)
                kwargs[k] = view.read(output_data_type=wanted if isinstance(wanted, type) else None)
            result = step.ENTRYPOINT(**kwargs)
            written = self._write_outputs(node, spec, result)
        except BaseException as e:
            error = "".join(traceback.format_exception(e))
            store.finish_step(record.id, "failed", error=error)
            if not isinstance(e, Exception):
                raise
            raise self._fail(node, f"{type(e).__name__}: {e}") from e
        artifacts = store.finish_step(record.id, "completed", outputs=written)
        self.outputs[node.name] = {a.name: a for a in artifacts}
        elapsed = (datetime.now(UTC) - started).total_seconds()
        logger.info("Step %r of run %r: completed in %.3f s", node.name, self.run_name, elapsed)

    def _reuse(
        self, step_id: int, cache_key: str, names: list[str]
    ) -> dict[str, ArtifactRecord] | None:
        store = self.stack.metadata_store
        hit = store.find_cached_step(cache_key)
        if hit is None or hit.id == step_id:
            return None
        previous = store.list_outputs(hit.id)
        if sorted(o.name for o in previous) != sorted(names):
            return None
        if not all(self.stack.artifact_store.exists(o.uri) for o in previous):
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
        self, node: StepNode, spec: list[tuple[str, Any]], result: Any
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
        written = []
        for (output_name, annotation), value in zip(spec, values, strict=True):
            _check_type(output_name, annotation, value)
            materializer = default_registry.get(type(value))
            key = "/".join(
                (
                    str(self.pipeline_id),
                    str(self.run_id),
                    f"{node.position:03d}-{safe_segment(node.name)}",
                    f"{safe_segment(output_name)}-{uuid.uuid4().hex[:12]}",
                )
            )
            artifact_store = self.stack.artifact_store
            with artifact_store.write(key) as folder:
                (writer := materializer(folder)).handle_return(value)
                size = folder.size()
            written.append(
                NewArtifact(
                    name=output_name,
                    uri=key,
                    data_type=f"{type(value).__module__}.{type(value).__qualname__}",
                    materializer=materializer.dotted_path(),
                    size_bytes=size,
                    shape=(writer.num_rows, writer.num_columns),
                )
            )
        return written


def _check_step(node: StepNode) -> None:
    """Check a step before anything runs: names as for pipelines and runs (``check_name``);
    parameters are recorded as JSON with sorted keys, so refuse what cannot be.

    NaN and infinities are stored faithfully (as JSON's ``NaN``/``Infinity`` tokens, which
    Python reads back); mixed key types cannot be sorted and are refused.
    """
    check_name("step", node.name)
    check_name("step entrypoint", node.step.ENTRYPOINT_NAME)
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
