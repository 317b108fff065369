"""``StepView``: one step of one run, with its parameters, inputs and outputs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.store import ArtifactRecord, InputRecord, StepRecord
from zenml_widgets.store.liveness import step_error, step_status
from zenml_widgets.views._common import TimedView, did_you_mean, listing
from zenml_widgets.views.artifact import ArtifactView
from zenml_widgets.views.logs import AttemptLogs, AttemptView, follow, step_logs

if TYPE_CHECKING:
    import pandas as pd

    from zenml_widgets.artifacts.step_logs import LogLine
    from zenml_widgets.stack import Stack
    from zenml_widgets.views.metrics import StepCurves
    from zenml_widgets.views.run import PipelineRunView


class StepView(TimedView[StepRecord]):
    """A step from history. Properties, no queries until one is read."""

    _kind = "step"

    def __init__(
        self,
        stack: Stack,
        record: StepRecord,
        *,
        run: PipelineRunView | None = None,
        outputs: Sequence[ArtifactRecord] | None = None,
        inputs: Sequence[InputRecord] | None = None,
    ) -> None:
        super().__init__(stack, record.id)
        self._record = record
        if run is not None:
            self.__dict__["run"] = run
        # read along with the step (a run's graph); None: asked for when first needed
        self._output_records = outputs
        self._input_records = inputs
        # the other steps of the run, by id, when the run's views made this one
        self._siblings: dict[int, StepView] = {}

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
        """``pending`` (not started yet), ``running``, ``completed``, ``cached``, ``failed`` or
        ``skipped`` (never ran: something upstream failed, or the run ended first). A step
        still open when its run ended or was interrupted reads as ``failed`` or ``skipped``."""
        record = self._current()
        if record.status not in ("pending", "running"):
            return record.status
        return step_status(record.status, self.run.status)

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
        record = self._current()
        if record.status != "running":
            return record.error
        run = self.run
        return step_error(record.status, record.error, run.status, run.error)

    @property
    def attempts(self) -> list[AttemptView]:
        """Each execution of the step, oldest first: ``number``, where it ran (``hostname``
        and ``pid``, or the Dask ``worker``), ``start_time``, ``end_time``, ``status``,
        ``error`` and ``logs``. The step's own times and status are those of its last attempt;
        a ``pending`` or ``skipped`` step has none, a cached one the attempt that found its
        outputs."""
        run_id = self._record.run_id
        return [
            AttemptView(self._stack, run_id, a)
            for a in self._stack.metadata_store.list_attempts(self._id)
        ]

    @property
    def logs(self) -> str:
        """What the step's last attempt printed (stdout, stderr) and logged (``logging``
        records from INFO up, as ``LEVEL:logger:message``), in order, as it is now: a running
        step's lines are there within about 2 s. A cached step's are those of the step that
        produced its outputs, saying so in the first line. ``''`` for a step that has not
        started."""
        return step_logs(self._stack, self._current()).text()

    def log_records(self, attempt: int | None = None) -> pd.DataFrame:
        """The logs of attempt ``attempt`` (default: the last) as a table: ``time`` (UTC),
        ``stream`` (``stdout``, ``stderr`` or ``logging``), ``level`` and ``logger`` (of
        logging records) and ``message``."""
        return step_logs(self._stack, self._current(), attempt).records()

    def attempt_logs(self, attempt: int | None = None) -> AttemptLogs:
        """The logs of attempt ``attempt`` (default: the last; for a cached step, those of the
        step that produced its outputs), to read: ``lines()``, ``text()``, ``records()``, or a
        ``reader()`` that is polled for what was written since."""
        return step_logs(self._stack, self._current(), attempt)

    def log_lines(self, attempt: int | None = None) -> list[LogLine]:
        """The lines of attempt ``attempt`` (default: the last) as they are now, each with its
        ``time``, ``stream``, ``logger``, ``message`` and ``flag``."""
        return step_logs(self._stack, self._current(), attempt).lines()

    def follow_logs(self, attempt: int | None = None) -> Iterator[LogLine]:
        """The lines of the step's attempt (default: the current one, then its retries) as
        they are written, until it ends (``zenml-widgets logs --follow``)."""
        return follow(self._stack, self._id, attempt)

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
        records = self._output_records
        if records is None or (self._record.status in ("pending", "running") and not self._frozen):
            records = self._stack.metadata_store.list_outputs(self._id)
        return _Named(
            self, "output", {r.name: ArtifactView(self._stack, r, step=self) for r in records}
        )

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
        records = self._input_records
        if records is None:
            records = self._stack.metadata_store.list_inputs(self._id)
        views = {
            r.name: ArtifactView(
                self._stack, r.artifact, step=self._siblings.get(r.artifact.step_id)
            )
            for r in records
        }
        return _Named(self, "input", views)

    @property
    def input(self) -> ArtifactView:
        """The step's only input; ``ValueError`` naming ``inputs`` if there are 0 or several."""
        return _single(self.inputs, "input", self.name)

    # -- logged metrics (log_metric) -------------------------------------------------------------

    @property
    def metric_names(self) -> list[str]:
        """The metrics the step logged with ``log_metric``, sorted (a cached step: those of the
        step whose outputs it reused; a retried step: those of its last attempt)."""
        return [s.name for s in self._stack.metadata_store.metric_series(self._id)]

    def metric_history(self, name: str) -> pd.Series:
        """Metric ``name`` as a pandas Series of float values indexed by step, named ``name``,
        in the order the points were logged (NaN and infinities as logged).

        Raises:
            NotFoundError: the step logged no metric ``name``; the message lists those it did.
        """
        import numpy as np
        import pandas as pd

        found = self._stack.metadata_store.metric_column(self._id, name)
        if found is None:
            names = self.metric_names
            raise NotFoundError(
                f"Step {self.name!r} of run {self.run.name!r} logged no metric {name!r}. Its "
                f"metrics are: {listing(names)}.{did_you_mean(str(name), names)}"
            )
        index = pd.Index(np.frombuffer(found.steps, dtype=np.int64), name="step")
        values = np.frombuffer(found.values, dtype=np.float64)
        return pd.Series(values, index=index, name=name, copy=False)

    def curves(self) -> StepCurves:
        """The step's learning curves as read now (about 500 points of each metric), which
        display as inline SVG charts with a log-scale switch; read again for fresher ones."""
        from zenml_widgets.views.metrics import StepCurves, step_curves

        run = self.__dict__.get("run")
        pinned = run.__dict__.get("_pinned_curves") if run is not None else None
        if run is not None and pinned is not None and pinned[0] == self._id:
            series, points = pinned[1]  # read with its run's snapshot
            return StepCurves(self.name, run.name, self.status, tuple(series), points)
        return step_curves(
            self._stack, self._id, step_name=self.name, run_name=self.run.name, status=self.status
        )

    def metrics_dataframe(self) -> pd.DataFrame:
        """Every point the step logged: columns ``name``, ``step``, ``value`` and ``time``
        (UTC), by name and then in logged order."""
        import numpy as np
        import pandas as pd

        series = self._stack.metadata_store.metric_table(self._id)
        counts = [len(points) for _, points in series]

        def column(part: str) -> np.ndarray[Any, np.dtype[Any]]:
            arrays = [np.frombuffer(getattr(p, part), dtype=np.float64) for _, p in series]
            return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.float64)

        steps = [np.frombuffer(points.steps, dtype=np.int64) for _, points in series]
        names = np.repeat(np.array([name for name, _ in series], dtype=object), counts)
        return pd.DataFrame(
            {
                "name": pd.Series(names, dtype=object),
                "step": np.concatenate(steps) if steps else np.empty(0, dtype=np.int64),
                "value": column("values"),
                "time": pd.to_datetime(column("times"), unit="s", utc=True),
            }
        )

    @property
    def parent_steps(self) -> list[StepView]:
        """Steps of the same run whose outputs this step consumed, in execution order."""
        records = self._input_records
        if records is None:
            records = self._stack.metadata_store.list_inputs(self._id)
        parent_ids = {r.artifact.step_id for r in records}
        return [s for s in self.run.steps if s.id in parent_ids]


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
