"""What each level of the explorer offers, as plain data: ``(label, value)`` pairs.

No widget here: ``ExplorerState`` builds these lists, the view puts them into its dropdowns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from zenml_widgets.display.html import fmt_duration, fmt_size, fmt_time
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.views._common import did_you_mean, listing

if TYPE_CHECKING:
    from zenml_widgets.repository import Repository
    from zenml_widgets.views import ArtifactView, PipelineRunView, PipelineView, StepView

Options = list[tuple[str, str]]
SEP = "  ·  "


def stack_options(repository: Repository) -> Options:
    """The stacks, the active one first."""
    active = repository.active_stack_key
    keys = [active, *sorted(k for k in repository.stacks if k != active)]
    return [(f"{k} (active)" if k == active else k, k) for k in keys]


def pipeline_options(pipelines: Sequence[PipelineView]) -> Options:
    """Each pipeline by its name."""
    return [(p.name, p.name) for p in pipelines]


def run_options(runs: Sequence[PipelineRunView]) -> Options:
    """``name · status · start time`` for each run, in the given (newest first) order."""
    return [(f"{r.name}{SEP}{r.status}{SEP}{fmt_time(r.start_time)}", r.name) for r in runs]


def step_options(run: PipelineRunView) -> Options:
    """``name · status · duration`` for each step, in execution order."""
    return [(f"{s.name}{SEP}{s.status}{SEP}{fmt_duration(s.duration)}", s.name) for s in run.steps]


def output_options(step: StepView) -> Options:
    """``name · data type · size`` for each output."""
    return [
        (f"{name}{SEP}{a.data_type}{SEP}{fmt_size(a.size_bytes)}", name)
        for name, a in step.outputs.items()
    ]


def get_output(step: StepView, name: str) -> ArtifactView:
    """The step's output ``name``; ``NotFoundError`` listing the outputs otherwise."""
    outputs = step.outputs
    if name in outputs:
        return outputs[name]
    names = list(outputs)
    raise NotFoundError(
        f"No output {name!r} of step {step.name!r}. Its outputs are: {listing(names)}."
        f"{did_you_mean(name, names)}"
    )
