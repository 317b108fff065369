"""Why a step ran or was cached: ``explain_step`` and ``explain_run``.

The rule: a step is compared with the step **of the same name** in the **most recent earlier run
of the same pipeline** that has one (runs older than this one, newest first, at most
``LOOKBACK`` runs back). What the runner records for every step -- code hash, parameters and the
artifact each input was read from -- is compared field by field:

* ``cached``: the step reused outputs; ``source`` is the step that wrote them.
* ``first``: no earlier run of the pipeline had a step of that name.
* ``changed``: it ran because something differs; ``reasons`` says what (``code``,
  ``parameters``, ``inputs``, ``outputs`` -- the declared outputs or entrypoint), with the keys
  and inputs concerned. An input differs when it was read from another artifact file, which
  happens when the upstream step re-ran (its own explanation is in ``InputChange.upstream``).
* ``not_cached``: same code, parameters and inputs, yet it ran: caching was off
  (``enable_cache=False``), the earlier outputs are gone, or the earlier step failed.
* ``running``: the step has not finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zenml_widgets.views.step import StepView

if TYPE_CHECKING:
    from zenml_widgets.store import RunLineage, StepRecord
    from zenml_widgets.views.run import PipelineRunView

#: How many earlier runs are searched for a step of the same name.
LOOKBACK = 200


@dataclass(frozen=True)
class InputChange:
    """An input read from a different artifact than in the earlier run.

    Attributes:
        name: the input's name in the step.
        upstream_step: the step of this run that handed the artifact on, or ``None`` when the
            input is new or gone.
        upstream_output: that step's output name.
        upstream: why the upstream step ran (or was cached), if known.
    """

    name: str
    upstream_step: str | None
    upstream_output: str | None
    upstream: StepExplanation | None = None

    def describe(self) -> str:
        """``input 'train' (output 'train' of step 'importer', which re-ran: ...)``."""
        if self.upstream_step is None:
            return f"input {self.name!r} is new or gone"
        text = f"input {self.name!r} (output {self.upstream_output!r} of {self.upstream_step!r}"
        if self.upstream is not None and self.upstream.kind != "cached":
            text += f", which {self.upstream.short()}"
        return text + ")"


#: What a step that has not run says about itself.
_NOT_RUN = {
    "pending": "has not started yet",
    "skipped": "never ran (a step it depends on failed, or the run ended first)",
}


@dataclass(frozen=True)
class StepExplanation:
    """Why ``step`` ran or was cached (see the module docstring for the rule).

    Attributes:
        step: the step explained.
        kind: ``cached``, ``first``, ``changed``, ``not_cached``, ``running``, ``pending`` or
            ``skipped``.
        reasons: for ``changed``: ``code``, ``parameters``, ``inputs`` and/or ``outputs``; for
            ``not_cached``: ``cache_disabled``, ``outputs_gone`` or ``previous_failed``.
        previous: the earlier step it was compared with.
        source: for a cached step, the step that wrote the reused outputs.
        changed_parameters: parameter keys added, removed or with another value.
        changed_inputs: inputs read from another artifact than in ``previous``.
    """

    step: StepView
    kind: str
    reasons: tuple[str, ...] = ()
    previous: StepView | None = None
    source: StepView | None = None
    changed_parameters: tuple[str, ...] = ()
    changed_inputs: tuple[InputChange, ...] = field(default=())

    def __repr__(self) -> str:
        return f"<StepExplanation {self.step.name!r}: {self.summary}>"

    def short(self) -> str:
        """A short phrase: ``re-ran: parameters changed (epochs)``."""
        if self.kind == "cached":
            return "was cached" + (f" from run {self.source.run.name!r}" if self.source else "")
        if self.kind == "running":
            return "is running"
        if self.kind in _NOT_RUN:
            return _NOT_RUN[self.kind]
        if self.kind == "first":
            return "ran for the first time"
        parts = []
        if "code" in self.reasons:
            parts.append("code changed")
        if "parameters" in self.reasons:
            parts.append(f"parameters changed ({', '.join(self.changed_parameters)})")
        if "inputs" in self.reasons:
            parts.append(f"inputs changed ({', '.join(i.name for i in self.changed_inputs)})")
        if "outputs" in self.reasons:
            parts.append("declared outputs or entrypoint changed")
        if "cache_disabled" in self.reasons:
            parts.append("nothing changed; caching is off (enable_cache=False)")
        if "outputs_gone" in self.reasons:
            parts.append("nothing changed; the earlier outputs are gone")
        if "previous_failed" in self.reasons:
            parts.append("nothing changed; the earlier attempt failed")
        if "cache_unknown" in self.reasons:
            parts.append("nothing changed; whether caching was on is not recorded (older history)")
        if "previous_unfinished" in self.reasons:
            parts.append("nothing changed; the earlier step had not finished when this one started")
        if "outputs_unavailable" in self.reasons:
            parts.append(
                "nothing changed and caching was on; the earlier outputs could not be found "
                "when it ran (they exist now)"
            )
        return "re-ran: " + "; ".join(parts)

    @property
    def summary(self) -> str:
        """One sentence naming the runs involved and, for a change, what changed."""
        if self.kind == "cached":
            if self.source is None:
                return "cached (the source of its outputs is not recorded)"
            run = self.source.run
            where = f"run {run.name!r}"
            if run.pipeline.name != self.step.run.pipeline.name:
                where += f" of pipeline {run.pipeline.name!r}"
            return f"cached: reused the outputs of step {self.source.name!r} in {where}"
        if self.kind == "running":
            return "running"
        if self.kind in _NOT_RUN:
            return f"{self.kind}: {_NOT_RUN[self.kind]}"
        if self.kind == "first":
            return "ran: no earlier run of this pipeline has this step"
        assert self.previous is not None
        text = f"{self.short()}, compared with run {self.previous.run.name!r}"
        if self.changed_inputs:
            text += "; " + "; ".join(i.describe() for i in self.changed_inputs)
        return text


def explain_step(step: StepView) -> StepExplanation:
    """Why ``step`` ran or was cached; upstream steps are explained as needed."""
    return _Explainer(step.run).explain(step)


def explain_run(run: PipelineRunView) -> dict[str, StepExplanation]:
    """Explanations of every step of ``run`` by step name, in execution order.

    The run (with its steps, outputs and inputs) and its lineage (earlier namesakes, the steps
    cached outputs came from, their runs) are read in two round trips, whatever the number of
    steps.
    """
    explainer = _Explainer(run)
    return {s.name: explainer.explain(s) for s in explainer.steps}


def previous_step(step: StepView) -> StepView | None:
    """The step of the same name in the most recent earlier run of the same pipeline."""
    return _Explainer(step.run).previous(step.name)


class _Explainer:
    """Explains the steps of one run from its lineage, read once for all of them."""

    def __init__(self, run: PipelineRunView) -> None:
        self.run = run
        self.steps = run.steps
        self._by_name = {s.name: s for s in self.steps}
        self._memo: dict[str, StepExplanation] = {}
        self._lineage: RunLineage | None = None

    @property
    def lineage(self) -> RunLineage:
        if self._lineage is None:  # one round trip: earlier steps, sources, their runs
            self._lineage = self.run._stack.metadata_store.run_lineage(self.run.id, LOOKBACK)
        return self._lineage

    def _view(self, record: StepRecord) -> StepView:
        """A step of another run, with its run, pipeline, outputs and inputs from the lineage."""
        from zenml_widgets.views.pipeline import PipelineView
        from zenml_widgets.views.run import PipelineRunView

        stack, lineage = self.run._stack, self.lineage
        run = lineage.runs[record.run_id]
        pipeline = PipelineView(stack, lineage.pipelines[run.pipeline_id])
        return StepView(
            stack,
            record,
            run=PipelineRunView(stack, run, pipeline),
            outputs=lineage.outputs.get(record.id, ()),
            inputs=lineage.inputs.get(record.id, ()),
        )

    def previous(self, name: str) -> StepView | None:
        if name in self._by_name:
            found = self.lineage.earlier.get(name)
            return self._view(found) if found is not None else None
        return self._one_previous(name)

    def source(self, step: StepView) -> StepView | None:
        source_id = step._record.source_step_id
        found = self.lineage.sources.get(source_id) if source_id is not None else None
        return self._view(found) if found is not None else None

    def _one_previous(self, name: str) -> StepView | None:
        stack = self.run._stack
        found = stack.metadata_store.latest_earlier_steps(
            self.run.pipeline._record.id, self.run.id, [name], LOOKBACK
        )
        return StepView(stack, found[name]) if name in found else None

    def explain(self, step: StepView) -> StepExplanation:
        if step.name in self._memo:
            return self._memo[step.name]
        found = self._explain(step)
        self._memo[step.name] = found
        return found

    def _explain(self, step: StepView) -> StepExplanation:
        status = step.status
        if status == "cached":
            return StepExplanation(step, "cached", source=self.source(step))
        if status in ("running", "pending", "skipped"):
            return StepExplanation(step, status)
        before = self.previous(step.name)
        if before is None:
            return StepExplanation(step, "first")
        reasons: list[str] = []
        if step.code_hash != before.code_hash:
            reasons.append("code")
        params = _changed_keys(step.parameters, before.parameters)
        if params:
            reasons.append("parameters")
        inputs = self._changed_inputs(step, before)
        if inputs:
            reasons.append("inputs")
        if not reasons and step.cache_key != before.cache_key:
            reasons.append("outputs")
        if reasons:
            return StepExplanation(step, "changed", tuple(reasons), before, None, params, inputs)
        if step.cache_enabled is False:
            why = "cache_disabled"
        elif before.status == "failed":
            why = "previous_failed"
        elif not all(a.exists() for a in before.outputs.values()):
            why = "outputs_gone"
        elif step.cache_enabled is None:
            why = "cache_unknown"  # recorded before the store kept whether caching was on
        elif before.end_time is None or before.end_time > step.start_time:
            why = "previous_unfinished"
        else:
            why = "outputs_unavailable"
        return StepExplanation(step, "not_cached", (why,), before)

    def _changed_inputs(self, step: StepView, before: StepView) -> tuple[InputChange, ...]:
        now, then = step.inputs, before.inputs
        changes = []
        for name in sorted(set(now) | set(then), key=lambda n: (n not in now, n)):
            artifact = now.get(name)
            old = then.get(name)
            if artifact is not None and old is not None and artifact.key == old.key:
                continue
            if artifact is None:
                changes.append(InputChange(name, None, None))
                continue
            upstream_step = artifact.step
            mine = self._by_name.get(upstream_step.name)
            upstream = self.explain(mine) if mine is not None and mine != step else None
            changes.append(InputChange(name, upstream_step.name, artifact.name, upstream))
        return tuple(changes)


def _changed_keys(now: dict[str, Any], then: dict[str, Any]) -> tuple[str, ...]:
    keys = set(now) | set(then)
    return tuple(sorted(k for k in keys if k not in now or k not in then or now[k] != then[k]))
