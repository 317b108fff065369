"""``PipelineRunView``: one run of a pipeline and its steps in execution order."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.store import RunGraph, RunRecord
from zenml_widgets.store.liveness import interruption
from zenml_widgets.views._common import TimedView, did_you_mean, listing
from zenml_widgets.views.step import StepView

if TYPE_CHECKING:
    from zenml_widgets.stack import Stack
    from zenml_widgets.views.pipeline import PipelineView


class PipelineRunView(TimedView[RunRecord]):
    """A run from history."""

    _kind = "run"

    def __init__(
        self, stack: Stack, record: RunRecord, pipeline: PipelineView | None = None
    ) -> None:
        super().__init__(stack, record.id)
        self._record = record
        if pipeline is not None:
            self.__dict__["pipeline"] = pipeline

    def _graph(self) -> RunGraph:
        """The run with its steps, their outputs and inputs: one round trip, and none again
        once the run has ended (the store keeps ended runs' graphs) or for a snapshot."""
        pinned: RunGraph | None = self.__dict__.get("_pinned")
        if pinned is not None:
            return pinned
        graph = self._stack.metadata_store.run_graph(self._id)
        object.__setattr__(self, "_record", graph.run)
        if "pipeline" not in self.__dict__:
            from zenml_widgets.views.pipeline import PipelineView

            self.__dict__["pipeline"] = PipelineView(self._stack, graph.pipeline)
        return graph

    def snapshot(self) -> PipelineRunView:
        """The run as it is now, read in one round trip and kept so: its status, its steps and
        theirs, their outputs are not asked again, even while it runs (the explorer's live
        refresh draws a running run from one snapshot a tick)."""
        graph = self._stack.metadata_store.run_graph(self._id)
        view = PipelineRunView(self._stack, graph.run, self.__dict__.get("pipeline"))
        view.__dict__["_pinned"] = graph
        object.__setattr__(view, "_frozen", True)
        return view

    def __repr__(self) -> str:
        return f"PipelineRunView(name={self.name!r}, status={self.status!r}, id={self.id})"

    def _reload(self) -> RunRecord:
        return self._stack.metadata_store.get_run(self._id)

    @property
    def name(self) -> str:
        """The run's name, unique inside its pipeline."""
        return self._record.name

    @cached_property
    def pipeline(self) -> PipelineView:
        """The pipeline this run belongs to."""
        from zenml_widgets.views.pipeline import PipelineView

        record = self._stack.metadata_store.get_pipeline_by_id(self._record.pipeline_id)
        return PipelineView(self._stack, record)

    @property
    def status(self) -> str:
        """``running``, ``completed`` or ``failed`` (a run whose process died is ``failed``)."""
        record = self._current()
        return "failed" if interruption(record) else record.status

    @property
    def error(self) -> str | None:
        """Why the run failed or was interrupted."""
        record = self._current()
        return interruption(record) or record.error

    @property
    def steps(self) -> list[StepView]:
        """The run's steps in execution order (``run.steps[0]`` ran first), with their outputs
        and inputs read along (one round trip for all)."""
        graph = self._graph()
        steps = [
            StepView(
                self._stack,
                record,
                run=self,
                outputs=graph.outputs.get(record.id, ()),
                inputs=graph.inputs.get(record.id, ()),
            )
            for record in graph.steps
        ]
        siblings = {s.id: s for s in steps}
        for s in steps:
            s._siblings = siblings
            s._frozen = self._frozen
        return steps

    def get_step_names(self) -> list[str]:
        """Names of the run's steps in execution order."""
        return [s.name for s in self.steps]

    def get_step(self, name: str | None = None, *, step_name: str | None = None) -> StepView:
        """The step called ``name``; ``NotFoundError`` (a ``KeyError``) listing the steps."""
        wanted = name if name is not None else step_name
        if wanted is None:
            raise TypeError("get_step() needs a step name")
        steps = self.steps
        for s in steps:
            if s.name == wanted:
                return s
        names = [s.name for s in steps]
        raise NotFoundError(
            f"No step {wanted!r} in run {self.name!r} of pipeline {self.pipeline.name!r}. "
            f"Its steps are: {listing(names)}.{did_you_mean(wanted, names)}"
        )

    def _ipython_key_completions_(self) -> list[str]:
        return self.get_step_names()

    def __getitem__(self, name: str) -> StepView:
        """``run["trainer"]``: the step called ``name`` (as ``get_step``)."""
        if not isinstance(name, str):
            raise TypeError(
                f"Steps of a run are looked up by name, not {type(name).__name__}: "
                f"run['trainer'], or run.steps[{name!r}] for a position."
            )
        return self.get_step(name)

    def __contains__(self, name: object) -> bool:
        """``"trainer" in run``: whether the run has a step of that name."""
        return isinstance(name, str) and name in self.get_step_names()

    def __iter__(self) -> Iterator[StepView]:
        """The run's steps in execution order."""
        return iter(self.steps)
