"""A step's outputs: written atomically to the artifact store, reused from the cache, and the
cache key that decides reuse."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from zenml_widgets.artifacts import ArtifactFolder, ArtifactStore, safe_segment
from zenml_widgets.materializers import default_registry
from zenml_widgets.materializers.loading import StoredArtifact
from zenml_widgets.store import ArtifactRecord, NewArtifact, metric_values

if TYPE_CHECKING:
    from zenml_widgets.runner.execution import StepJob
    from zenml_widgets.stack import Stack


def stored(stack: Stack, artifact: ArtifactRecord) -> StoredArtifact:
    """A recorded artifact, ready to load."""
    return StoredArtifact(
        store=stack.artifact_store,
        name=artifact.name,
        key=artifact.uri,
        data_type=artifact.data_type,
        materializer=artifact.materializer,
        writer=f"step {artifact.producer_step_id}",
    )


def reuse(
    stack: Stack, step_id: int, attempt: int, cache_key: str, names: list[str]
) -> dict[str, ArtifactRecord] | None:
    """Finish the step as ``cached`` with the outputs of the newest finished step of the same
    cache key, if their files are all there; ``None`` if there is nothing to reuse."""
    store = stack.metadata_store
    hit = store.find_cached_step(cache_key)
    if hit is None or hit.id == step_id:
        return None
    previous = store.list_outputs(hit.id)
    if sorted(o.name for o in previous) != sorted(names):
        return None
    if not all(stack.artifact_store.exists(o.uri) for o in previous):
        return None  # files gone: run again rather than point at nothing
    reused = [NewArtifact.cached_copy(o) for o in previous]
    source = hit.source_step_id or hit.id
    artifacts = store.finish_attempt(
        step_id, attempt, "cached", outputs=reused, source_step_id=source
    )
    return {a.name: a for a in artifacts}


def write_outputs(
    stack: Stack, job: StepJob, spec: list[tuple[str, Any]], result: Any
) -> list[NewArtifact]:
    """Write the step's return value as its outputs, all published or none."""
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
                check_type(output_name, annotation, value)
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


def check_type(name: str, annotation: Any, value: Any) -> None:
    """Refuse an output whose value is not of its annotated type."""
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


def cache_key(
    entrypoint: str,
    code_hash: str,
    params: dict[str, Any],
    inputs: dict[str, ArtifactRecord],
    spec: list[tuple[str, Any]],
) -> str:
    """What decides reuse: the step's code, parameters, inputs (their files) and outputs."""
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
