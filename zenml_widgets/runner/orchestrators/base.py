"""The orchestrator interface: what runs the steps of a run.

``run_pipeline`` makes one orchestrator per run, with the run's stack, steps and checked options;
enters it before anything of the run is recorded (an orchestrator that cannot reach or start its
cluster fails there and leaves no trace in the history); calls ``run`` with the run's steps as
jobs; and leaves it when the run has ended, completed or not. Each job is run with
``execute_step``, which reads the step's inputs, reuses cached outputs or calls the step, writes
its outputs and records it: every orchestrator records the same history.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from zenml_widgets.orchestration import Option

if TYPE_CHECKING:
    from zenml_widgets.runner.execution import StepJob
    from zenml_widgets.runner.steps import StepNode
    from zenml_widgets.stack import Stack


class Orchestrator(ABC):
    """Runs the steps of one run of a pipeline on a stack.

    A subclass sets ``NAME`` (what stacks call it), ``SUMMARY`` (a line for help texts; the
    docstring's first paragraph if empty), ``OPTIONS`` (option name -> an ``Option`` of
    ``zenml_widgets.orchestration``: what it takes and means) and ``IN_PROCESS = False`` if
    its steps run in other processes, and implements ``run``. It may
    override ``__enter__`` to get ready before the run is recorded and ``__exit__`` to release
    what that took.
    """

    NAME: ClassVar[str]
    SUMMARY: ClassVar[str] = ""
    OPTIONS: ClassVar[Mapping[str, Option]] = {}
    #: Whether the steps run in the calling process: their lines are then echoed to its
    #: console as they are written; otherwise the client follows them in the artifact store.
    IN_PROCESS: ClassVar[bool] = True

    def __init__(self, stack: Stack, nodes: Sequence[StepNode], options: Mapping[str, Any]) -> None:
        """``options``: the stack's options, checked against ``OPTIONS`` (values converted)."""
        self.stack = stack
        self.nodes = list(nodes)
        self.options = dict(options)

    def __enter__(self) -> Self:
        """Get ready to run, before anything is recorded; raise ``OrchestratorError`` if not."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Release what ``__enter__`` took (the run has ended, completed or not)."""
        return None

    @abstractmethod
    def run(self, jobs: list[StepJob]) -> None:
        """Run ``jobs`` (listed in an order that respects their dependencies), each with
        ``execute_step(self.stack, job, inputs)`` once the jobs named in ``job.upstream`` have
        finished, ``inputs`` mapping each of ``job.inputs`` (argument -> (step, output)) to
        that step's returned output.

        A step that raises makes ``execute_step`` raise ``StepFailedError``; let it (or another
        ``StepFailedError`` naming the step) end ``run``: the run is then recorded failed.
        """
