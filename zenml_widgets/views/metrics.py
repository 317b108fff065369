"""Learning curves from history: a step's logged metrics, and one metric over several runs.

:class:`StepCurves` holds what one read of a step's metrics returned (its metrics and about
:data:`CURVE_POINTS` points of each); :class:`RunCurves` one metric of up to :data:`MAX_RUNS`
runs. Both are plain data once read (they never read again), so the same pictures come from the
explorer, a cell and a live refresh alike: whoever wants fresher curves reads them again. They
display through ``rendering`` (``display/curves.py``) as inline SVG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zenml_widgets import rendering

if TYPE_CHECKING:
    import pandas as pd

    from zenml_widgets.stack import Stack
    from zenml_widgets.store.metrics import MetricPoints, MetricSeriesRecord

#: Points read per curve for a picture (every k-th point and the last).
CURVE_POINTS = 500
#: The most runs one overlay draws.
MAX_RUNS = 20


@dataclass(frozen=True)
class StepCurves:
    """A step's logged metrics as read at one moment: ``series`` (name, length, last point)
    and ``points`` (name -> about :data:`CURVE_POINTS` of its points, in logged order)."""

    step_name: str
    run_name: str
    status: str
    series: tuple[MetricSeriesRecord, ...]
    points: dict[str, MetricPoints]

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.series) or "none"
        return f"<StepCurves of step {self.step_name!r} of run {self.run_name!r}: {names}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return rendering.mimebundle(self, "step_curves", include, exclude)


def step_curves(
    stack: Stack, step_id: int, *, step_name: str, run_name: str, status: str
) -> StepCurves:
    """Read a step's curves now: one round trip."""
    series, points = stack.metadata_store.step_curves(step_id, max_points=CURVE_POINTS)
    return StepCurves(step_name, run_name, status, tuple(series), points)


class RunCurves:
    """One logged metric (a runs-table column such as ``trainer.metrics.loss``) of several runs,
    to overlay: ``curves`` maps each run's name to its points (read once, when made), in the
    order the runs were given. Runs without the metric are left out."""

    def __init__(
        self,
        stack: Stack,
        column: str,
        *,
        run_ids: Sequence[int] | None = None,
        pipeline_id: int | None = None,
        run_names: Sequence[str] | None = None,
        max_points: int | None = CURVE_POINTS,
    ) -> None:
        if run_ids is not None and len(run_ids) > MAX_RUNS:
            raise ValueError(f"An overlay draws at most {MAX_RUNS} runs, not {len(run_ids)}.")
        if run_names is not None and len(run_names) > MAX_RUNS:
            raise ValueError(f"An overlay draws at most {MAX_RUNS} runs, not {len(run_names)}.")
        self.column = column
        found = stack.metadata_store.curve_histories(
            column, run_ids=run_ids, pipeline_id=pipeline_id, run_names=run_names,
            max_points=max_points,
        )  # fmt: skip
        order = list(run_ids) if run_ids is not None else None
        if order is None:
            by_name = {name: run for run, (name, _) in found.items()}
            order = [by_name[n] for n in run_names or () if n in by_name]
        self.curves: dict[str, MetricPoints] = {
            found[r][0]: found[r][1] for r in order if r in found
        }

    def __repr__(self) -> str:
        return f"<RunCurves {self.column}: {len(self.curves)} runs>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return rendering.mimebundle(self, "run_curves", include, exclude)


def histories(stack: Stack, column: str, runs: Mapping[int, str]) -> dict[str, pd.Series]:
    """Every point of ``column``'s metric in each of ``runs`` (id -> name) that logged it: run
    name -> a Series of values indexed by step, in the order of ``runs`` (one query)."""
    import numpy as np
    import pandas as pd

    found = stack.metadata_store.curve_columns(column, list(runs))
    out: dict[str, pd.Series] = {}
    for run, name in runs.items():
        points = found.get(run)
        if points is not None:
            index = pd.Index(np.frombuffer(points.steps, dtype=np.int64), name="step")
            values = np.frombuffer(points.values, dtype=np.float64)
            out[name] = pd.Series(values, index=index, name=column, copy=False)
    return out
