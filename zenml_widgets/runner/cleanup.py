"""What a crashed writer leaves in an artifact store and ``zenml-widgets gc`` removes.

A step's outputs are written to temporary folders and published (moved to their keys) together
just before the step is recorded; if recording fails they are taken back. Only a process killed
in the short window between publishing and recording leaves outputs under final keys that no
record points at: invisible in the history, but taking space. Output keys are
``{pipeline id}/{run id}/{position}-{step}/{output}-{uuid}``: one listing of the store at that
depth, compared with the URIs the runs' steps record, finds them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from zenml_widgets.store import utcnow
from zenml_widgets.store.liveness import interruption

if TYPE_CHECKING:
    from zenml_widgets.stack import Stack

KEY_DEPTH = 4  # pipeline id / run id / step / output


def unrecorded_outputs(stack: Stack, older_than: timedelta) -> list[str]:
    """Output keys of runs that ended more than ``older_than`` ago that no step records.

    Left alone: runs still going (or whose process may be alive), runs this metadata store does
    not know (or knows under another pipeline), and anything below or above a recorded URI.
    """
    by_run: dict[int, list[tuple[int, str]]] = {}
    for key in stack.artifact_store.list_keys(KEY_DEPTH):
        first, second = key.split("/")[:2]
        if first.isdigit() and second.isdigit():
            by_run.setdefault(int(second), []).append((int(first), key))
    if not by_run:
        return []
    store = stack.metadata_store
    cutoff = utcnow() - older_than
    runs = store.runs_by_id(sorted(by_run))
    finished = []
    for run_id, run in runs.items():
        if run.status == "running" and interruption(run) is None:
            continue  # may still be writing
        ended = run.end_time or run.heartbeat_at or run.start_time
        if ended <= cutoff:
            finished.append(run_id)
    recorded = store.output_uris(finished)
    orphans = []
    for run_id in finished:
        pipeline_id = runs[run_id].pipeline_id
        for key_pipeline, key in by_run[run_id]:
            if key_pipeline != pipeline_id or key in recorded:
                continue
            if any(key.startswith(uri + "/") or uri.startswith(key + "/") for uri in recorded):
                continue  # part of (or holding) a recorded artifact of another layout
            orphans.append(key)
    return sorted(orphans)


def end_interrupted_runs(stack: Stack) -> list[int]:
    """Record the end of every run whose process died (``failed``, with the reason readers
    already report): its running steps fail and its pending steps are ``skipped``, for good.
    Returns their ids. Only ``gc`` changes runs that ended so; readers never write."""
    store = stack.metadata_store
    return store.end_interrupted_runs(store.open_run_ids())


def remove_unrecorded_outputs(stack: Stack, older_than: timedelta) -> list[str]:
    """Remove :func:`unrecorded_outputs`; returns the keys removed."""
    orphans = unrecorded_outputs(stack, older_than)
    for key in orphans:
        stack.artifact_store.remove(key)
    return orphans
