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
        once the run has ended (the store keeps ended runs' graphs) or for a snapshot. Tags come
        along when the graph is read from the store (the view keeps the first it sees)."""
        pinned: RunGraph | None = self.__dict__.get("_pinned")
        if pinned is not None:
            return pinned
        graph = self._stack.metadata_store.run_graph(self._id)
        object.__setattr__(self, "_record", graph.run)
        if graph.tags is not None and "_tags" not in self.__dict__:
            object.__setattr__(self, "_tags", dict(graph.tags))
        if "pipeline" not in self.__dict__:
            from zenml_widgets.views.pipeline import PipelineView

            self.__dict__["pipeline"] = PipelineView(self._stack, graph.pipeline)
        return graph

    def snapshot(self, curves_of: int | None = None) -> PipelineRunView:
        """The run as it is now, read in one round trip and kept so: its status, its steps and
        theirs, their outputs are not asked again, even while it runs (the explorer's live
        refresh draws a running run from one snapshot a tick). With ``curves_of`` (a step's
        id), that step's learning curves come in the same round trip and its ``curves()``
        returns them."""
        store = self._stack.metadata_store
        if curves_of is None:
            graph, curves = store.run_graph(self._id), None
        else:
            from zenml_widgets.views.metrics import CURVE_POINTS

            graph, curves = store.run_graph_and_curves(self._id, curves_of, max_points=CURVE_POINTS)
        view = PipelineRunView(self._stack, graph.run, self.__dict__.get("pipeline"))
        view.__dict__["_pinned"] = graph
        if graph.tags is not None:
            view.__dict__["_tags"] = dict(graph.tags)
        if curves is not None:
            view.__dict__["_pinned_curves"] = (curves_of, curves)
        object.__setattr__(view, "_frozen", True)
        return view

    def adopt(self, snapshot: PipelineRunView) -> None:
        """Take what ``snapshot``, a snapshot of this run that found it ended, read along with
        it: the run's tags, and a step's curves (which no longer change: that step's
        ``curves()`` returns them unread)."""
        if snapshot.id != self._id or snapshot.status == "running":
            return
        for kept in ("_pinned_curves", "_tags"):
            if kept in snapshot.__dict__ and kept not in self.__dict__:
                self.__dict__[kept] = snapshot.__dict__[kept]

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

    # -- tags: the one thing the read API writes --------------------------------------------------

    @property
    def tags(self) -> dict[str, str]:
        """The run's tags, ``{key: value}`` (``""`` for a tag that is only a mark), keys sorted.

        Read once per view: along with the run's steps when they are read from the store (no
        round trip of its own), else on first use. Tags set through this view show at once;
        tags set elsewhere (another process, another view) show in a view got afresh
        (``pipeline.get_run(name)``, the explorer's refresh). In a runs table they are the
        ``tags.<key>`` columns, read with the table.
        """
        tags: dict[str, str] | None = self.__dict__.get("_tags")
        if tags is None:
            tags = self._stack.metadata_store.run_tags(self._id)
            object.__setattr__(self, "_tags", tags)
        return dict(tags)

    def set_tag(self, key: str, value: str = "") -> None:
        """Tag the run: ``run.set_tag("baseline")`` marks it, ``run.set_tag("stage", "prod")``
        gives the tag a value (setting a key again overwrites its value). One statement in the
        metadata store; tags are the only writes the read API makes.

        Raises:
            ValueError: an empty key, or a key longer than 255 characters, with control
                characters or spaces at either end; a value over 5,000 characters.
            TypeError: a key or value that is not a string.
        """
        self._stack.metadata_store.set_run_tag(self._id, key, value)
        tags = self.__dict__.get("_tags")
        if tags is not None:
            tags[key] = value
            object.__setattr__(self, "_tags", dict(sorted(tags.items(), key=_byte_order)))

    def remove_tag(self, key: str) -> None:
        """Remove tag ``key`` from the run (one statement).

        Raises:
            NotFoundError: the run has no tag ``key`` (a ``KeyError``; the message lists its
                tags).
        """
        if not self._stack.metadata_store.remove_run_tag(self._id, key):
            tags = self._stack.metadata_store.run_tags(self._id)
            object.__setattr__(self, "_tags", tags)
            listed = listing(list(tags)) if tags else "none"
            raise NotFoundError(
                f"Run {self.name!r} has no tag {key!r}. Its tags are: {listed}."
                f"{did_you_mean(key, list(tags))}"
            )
        kept: dict[str, str] | None = self.__dict__.get("_tags")
        if kept is not None:
            kept.pop(key, None)

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


def _byte_order(item: tuple[str, str]) -> bytes:
    return item[0].encode()
