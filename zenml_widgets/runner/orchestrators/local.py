"""The local orchestrator: the steps one after another, in the calling process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zenml_widgets.orchestration import BUILTIN
from zenml_widgets.runner.execution import StepJob, execute_step
from zenml_widgets.runner.orchestrators.base import Orchestrator

if TYPE_CHECKING:
    from zenml_widgets.store import ArtifactRecord


class LocalOrchestrator(Orchestrator):
    """Runs the steps one after another in the calling process, in the order they are listed."""

    NAME = "local"
    SUMMARY = BUILTIN[NAME].summary
    OPTIONS = BUILTIN[NAME].options

    def run(self, jobs: list[StepJob]) -> None:
        """Run each job after the one before it; the first step that fails ends the run."""
        outputs: dict[str, dict[str, ArtifactRecord]] = {}
        for job in jobs:
            inputs = {k: outputs[s][o] for k, (s, o) in job.inputs.items()}
            outputs[job.name] = execute_step(self.stack, job, inputs)
