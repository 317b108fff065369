"""``PipelineView``: a pipeline of a stack and its runs."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.views._common import View, did_you_mean, listing
from zenml_widgets.views.run import PipelineRunView
from zenml_widgets.views.runs import RunSequence

if TYPE_CHECKING:
    from zenml_widgets.stack import Stack
    from zenml_widgets.store import PipelineRecord

_SUGGEST_FROM = 10_000


class PipelineView(View):
    """A pipeline from history."""

    _kind = "pipeline"

    def __init__(
        self, stack: Stack, record: PipelineRecord, *, run_count: int | None = None
    ) -> None:
        super().__init__(stack, record.id)
        self._record = record
        if run_count is not None:
            self.__dict__["run_count"] = run_count

    def __repr__(self) -> str:
        return f"PipelineView(name={self.name!r}, stack_key={self.stack_key!r})"

    @property
    def name(self) -> str:
        """The pipeline's name."""
        return self._record.name

    @cached_property
    def run_count(self) -> int:
        """How many runs the pipeline had when first asked (or when listed with
        ``Repository.pipeline_overview``); ``len(pipeline.runs)`` counts them again."""
        return self._stack.metadata_store.count_runs(self._record.id)

    @property
    def runs(self) -> RunSequence:
        """All runs, chronologically (oldest first): ``runs[-1]`` is the latest. Lazy."""
        return RunSequence(self, self._stack, self._record.id)

    def get_run_names(self) -> list[str]:
        """Names of all runs, oldest first."""
        return self._stack.metadata_store.list_run_names(self._record.id)

    def get_run(self, name: str | None = None, *, run_name: str | None = None) -> PipelineRunView:
        """The run called ``name`` (or ``run_name=``); ``NotFoundError`` listing some runs."""
        wanted = name if name is not None else run_name
        if wanted is None:
            raise TypeError(
                "get_run() needs a run name: get_run('my-run') or get_run(run_name=...)"
            )
        store = self._stack.metadata_store
        record = store.get_run_by_name(self._record.id, wanted)
        if record is not None:
            return PipelineRunView(self._stack, record, self)
        count = store.count_runs(self._record.id)
        recent = store.list_run_names(self._record.id, limit=_SUGGEST_FROM)
        latest = list(reversed(recent[-5:]))
        raise NotFoundError(
            f"No run {wanted!r} in pipeline {self.name!r} (stack {self.stack_key!r}). "
            f"It has {count} runs; the latest are: {listing(latest)}."
            f"{did_you_mean(wanted, recent)}"
        )

    def _ipython_key_completions_(self) -> list[str]:
        return self._stack.metadata_store.list_run_names(self._record.id, limit=1000)

    def __getitem__(self, name: str) -> PipelineRunView:
        """``pipeline["nightly-3"]``: the run called ``name`` (as ``get_run``)."""
        if not isinstance(name, str):
            raise TypeError(
                f"Runs of a pipeline are looked up by name, not {type(name).__name__}: "
                f"pipeline['my-run'], or pipeline.runs[{name!r}] for a position."
            )
        return self.get_run(name)

    def __contains__(self, name: object) -> bool:
        """``"nightly-3" in pipeline``: whether the pipeline has a run of that name."""
        return isinstance(name, str) and name in self.runs

    def __iter__(self) -> Iterator[PipelineRunView]:
        """The runs, oldest first, a page at a time."""
        return iter(self.runs)
