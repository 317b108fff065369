"""``zenml-widgets gc``: outputs published by a process killed before it recorded them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from zenml_widgets.cli import main
from zenml_widgets.repository import Repository
from zenml_widgets.runner.cleanup import KEY_DEPTH, unrecorded_outputs

# A runner killed right after publishing the trainer's output, before recording it: the kill
# comes from inside MetadataStore.finish_attempt, the call that would have recorded it.
KILLED_BETWEEN_PUBLISH_AND_RECORD = """
    import os
    import zw_testing as t
    from zenml_widgets.store.metadata_store import MetadataStore

    record = MetadataStore.finish_attempt
    def finish_attempt(self, step_id, attempt, status, **kw):
        if status == "completed" and self.get_step(step_id).name == "trainer":
            os._exit(9)
        return record(self, step_id, attempt, status, **kw)
    MetadataStore.finish_attempt = finish_attempt
    t.make_training(epochs=7).run(run_name="killed", repository=os.getcwd())
"""


def _killed_run(repo: Repository) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_BETWEEN_PUBLISH_AND_RECORD)],
        cwd=repo.root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 9, proc.stderr


def test_gc_removes_outputs_a_killed_runner_published_but_never_recorded(
    repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    import zw_testing as t

    t.make_training().run(run_name="kept", repository=repo)
    _killed_run(repo)
    repo = Repository(repo.root)
    stack = repo.active_stack
    killed = repo.get_pipeline("training_pipeline").get_run("killed")
    assert killed.status == "failed"  # the runner's process is gone
    assert killed.error is not None and killed.error.startswith("interrupted")
    recorded = {o.key for run in repo.get_pipeline("training_pipeline").runs for s in run.steps
                for o in s.outputs.values()}  # fmt: skip
    on_disk = set(stack.artifact_store.list_keys(KEY_DEPTH))
    orphans = on_disk - recorded
    assert len(orphans) == 1 and "-trainer/" in next(iter(orphans))

    # Young leftovers are left alone (the default age is a day), and so is everything recorded.
    assert unrecorded_outputs(stack, timedelta(hours=24)) == []
    assert unrecorded_outputs(stack, timedelta(0)) == sorted(orphans)

    capsys.readouterr()
    assert main(["-R", str(repo.root), "gc", "--older-than-hours", "0"]) == 0
    out = capsys.readouterr().out
    assert "removed 1 output folder(s) that no step records" in out
    assert next(iter(orphans)) in out
    assert set(stack.artifact_store.list_keys(KEY_DEPTH)) == recorded
    # Every recorded output still reads, the killed run's importer outputs included.
    for run in repo.get_pipeline("training_pipeline").runs:
        for s in run.steps:
            for output in s.outputs.values():
                output.read()
    assert set(killed.get_step("importer").outputs) == {"train", "test"}


def _write(folder: Any) -> None:
    with folder.open("data.bin", "wb") as f:
        f.write(b"x")


def test_gc_leaves_running_runs_unknown_runs_and_recorded_artifacts(repo: Repository) -> None:
    import zw_testing as t

    run = t.make_training().run(run_name="done", repository=repo)
    stack = repo.active_stack
    pipeline_id = stack.metadata_store.get_pipeline("training_pipeline").id  # type: ignore[union-attr]
    # A folder under a run this metadata store does not know (e.g. another store's): kept.
    with stack.artifact_store.write(f"{pipeline_id}/99999/000-x/output-abc") as folder:
        _write(folder)
    # A folder under a recorded run but filed under another pipeline id: kept.
    with stack.artifact_store.write(f"{pipeline_id + 7}/{run.id}/000-x/output-abc") as folder:
        _write(folder)
    # A run that is still running (this process, heartbeat fresh): its new folders are kept.
    live = stack.metadata_store.create_run(pipeline_id, "live", pid=os.getpid(),
                                           hostname=__import__("socket").gethostname())  # fmt: skip
    with stack.artifact_store.write(f"{pipeline_id}/{live.id}/000-x/output-abc") as folder:
        _write(folder)
    assert unrecorded_outputs(stack, timedelta(0)) == []
