"""``StepView``: one step of one run, with its parameters, inputs and outputs."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.store import StepRecord
from zenml_widgets.views._common import TimedView, did_you_mean, listing
from zenml_widgets.views.artifact import ArtifactView

if TYPE_CHECKING:
    from zenml_widgets.stack import Stack
    from zenml_widgets.views.run import PipelineRunView


class StepView(TimedView[StepRecord]):
    """A step from history. Properties, no queries until one is read."""

    _kind = "step"

    def __init__(self, stack: Stack, record: StepRecord) -> None:
        super().__init__(stack, record.id)
        self._record = record

    def __repr__(self) -> str:
        return f"StepView(name={self.name!r}, status={self.status!r}, id={self.id})"

    def _reload(self) -> StepRecord:
        return self._stack.metadata_store.get_step(self._id)

    @property
    def name(self) -> str:
        """The step's name inside the pipeline (the keyword it was given under)."""
        return self._record.name

    @property
    def entrypoint_name(self) -> str:
        """The step function's name (or the name given to ``@step(name=...)``)."""
        return self._record.entrypoint_name

    @property
    def position(self) -> int:
        """Execution order inside the run, from 0."""
        return self._record.position

    @property
    def parameters(self) -> dict[str, Any]:
        """The step's parameters, defaults included (a copy)."""
        return dict(self._record.parameters)

    @property
    def status(self) -> str:
        """``running``, ``completed``, ``cached`` or ``failed``."""
        record = self._current()
        if record.status == "running" and self.run.status == "failed":
            return "failed"
        return record.status

    @property
    def cache_enabled(self) -> bool | None:
        """Whether the step was allowed to reuse earlier outputs (``enable_cache`` of the step
        and its pipeline); ``None`` for steps recorded before that was stored."""
        return self._record.cache_enabled

    @property
    def is_cached(self) -> bool:
        """Whether the step's outputs were reused from an earlier run."""
        return self._current().status == "cached"

    @property
    def error(self) -> str | None:
        """Why the step failed, if it did."""
        return self._current().error

    @property
    def cache_key(self) -> str | None:
        """Hash of code, parameters and inputs that decides caching."""
        return self._record.cache_key

    @property
    def code_hash(self) -> str | None:
        """Hash of the step function's source."""
        return self._record.code_hash

    @cached_property
    def run(self) -> PipelineRunView:
        """The run this step belongs to."""
        from zenml_widgets.views.run import PipelineRunView

        return PipelineRunView(self._stack, self._stack.metadata_store.get_run(self._record.run_id))

    @property
    def source_step(self) -> StepView | None:
        """For a cached step: the step of an earlier run that produced the reused outputs."""
        source = self._current().source_step_id
        if source is None:
            return None
        return StepView(self._stack, self._stack.metadata_store.get_step(source))

    @property
    def outputs(self) -> dict[str, ArtifactView]:
        """The step's outputs by name; a name that is not there raises ``NotFoundError``
        listing them (``step.outputs["tran"]``: "... Did you mean 'train'?")."""
        records = self._stack.metadata_store.list_outputs(self._id)
        return _Named(self, "output", {r.name: ArtifactView(self._stack, r) for r in records})

    def __getitem__(self, name: str) -> ArtifactView:
        """``step["train"]``: the output called ``name``; ``NotFoundError`` listing them."""
        if not isinstance(name, str):
            raise TypeError(f"Outputs are looked up by name, not {type(name).__name__}.")
        outputs = self.outputs
        if name in outputs:
            return outputs[name]
        raise NotFoundError(
            f"Step {self.name!r} of run {self.run.name!r} has no output {name!r}. Its outputs "
            f"are: {listing(list(outputs))}.{did_you_mean(name, list(outputs))}"
        )

    def __contains__(self, name: object) -> bool:
        """``"train" in step``: whether the step has an output of that name."""
        return isinstance(name, str) and name in self.outputs

    def __iter__(self) -> Iterator[ArtifactView]:
        """The step's outputs, in the order they were declared."""
        return iter(self.outputs.values())

    def _ipython_key_completions_(self) -> list[str]:
        return list(self.outputs)

    @property
    def output(self) -> ArtifactView:
        """The step's only output; ``ValueError`` naming ``outputs`` if there are 0 or several."""
        return _single(self.outputs, "output", self.name)

    @property
    def inputs(self) -> dict[str, ArtifactView]:
        """The artifacts the step received, by input name."""
        records = self._stack.metadata_store.list_inputs(self._id)
        return _Named(
            self, "input", {r.name: ArtifactView(self._stack, r.artifact) for r in records}
        )

    @property
    def input(self) -> ArtifactView:
        """The step's only input; ``ValueError`` naming ``inputs`` if there are 0 or several."""
        return _single(self.inputs, "input", self.name)

    @property
    def parent_steps(self) -> list[StepView]:
        """Steps of the same run whose outputs this step consumed, in execution order."""
        store = self._stack.metadata_store
        parent_ids = sorted({r.artifact.step_id for r in store.list_inputs(self._id)})
        parents = [StepView(self._stack, store.get_step(i)) for i in parent_ids]
        return sorted(parents, key=lambda s: s.position)


class _Named(dict[str, ArtifactView]):
    """A step's outputs (or inputs) by name: a missing name is a ``NotFoundError`` that lists
    the names and suggests a close one, as everywhere else."""

    def __init__(self, step: StepView, what: str, items: dict[str, ArtifactView]) -> None:
        super().__init__(items)
        self._step = step  # its run is looked up only for the message
        self._what = what

    def __missing__(self, name: str) -> ArtifactView:
        names, step = list(self), self._step
        raise NotFoundError(
            f"Step {step.name!r} of run {step.run.name!r} has no {self._what} {name!r}. Its "
            f"{self._what}s are: {listing(names)}.{did_you_mean(str(name), names)}"
        )


def _single(items: dict[str, ArtifactView], what: str, step: str) -> ArtifactView:
    if len(items) == 1:
        return next(iter(items.values()))
    names = ", ".join(repr(n) for n in items) or "none"
    raise ValueError(
        f"Step {step!r} has {len(items)} {what}s ({names}); use step.{what}s[name] instead of "
        f"step.{what}."
    )
