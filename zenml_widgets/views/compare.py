"""``compare_runs``: what differs between two runs, step by step.

Steps are matched by name, so runs of different pipelines compare too when their step names
match. The comparison is plain data (``parameter_diff``, ``differing_steps``, ``output_types``,
``steps``) with a rich notebook display; ``comparison.output(step, name)`` compares one output
(columns, dtypes and row counts of tables such as DataFrames, from their schema and recorded
shape; Facets statistics side by side when displayed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from zenml_widgets import rendering
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.materializers.capabilities import TABLE
from zenml_widgets.views._common import did_you_mean, listing

if TYPE_CHECKING:
    from zenml_widgets.views.artifact import ArtifactView
    from zenml_widgets.views.run import PipelineRunView
    from zenml_widgets.views.step import StepView

#: Durations differ when they are this far apart *and* the longer is this many times the shorter.
MIN_DURATION_CHANGE = timedelta(seconds=1)
DURATION_RATIO = 1.5


class _Missing:
    """A parameter or output absent on one side."""

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True)
class StepDiff:
    """One step name in both runs.

    Attributes:
        name: the step's name.
        a, b: the step in run A and in run B, ``None`` where the run has no such step.
        parameters: ``{key: (value_a, value_b)}``; changed keys only unless ``show_all``.
            ``MISSING`` marks a key one side does not have.
        output_types: ``{output: (data_type_a, data_type_b)}`` for every output name.
    """

    name: str
    a: StepView | None
    b: StepView | None
    parameters: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    output_types: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def status_changed(self) -> bool:
        """The statuses differ (or the step exists in one run only)."""
        return bool(_get(self.a, "status") != _get(self.b, "status"))

    @property
    def cache_changed(self) -> bool:
        """One side was cached and the other was not."""
        return bool(_get(self.a, "is_cached")) != bool(_get(self.b, "is_cached"))

    @property
    def duration_changed(self) -> bool:
        """Durations differ by at least ``MIN_DURATION_CHANGE`` and ``DURATION_RATIO`` times."""
        da, db = _get(self.a, "duration"), _get(self.b, "duration")
        if da is None or db is None:
            return (da is None) != (db is None)
        low, high = sorted((da, db))
        return bool(high - low >= MIN_DURATION_CHANGE and high >= low * DURATION_RATIO)

    @property
    def parameters_changed(self) -> bool:
        """Some parameter differs."""
        return any(_differs(va, vb) for va, vb in self.parameters.values())

    @property
    def types_changed(self) -> bool:
        """Some output has another data type (or exists on one side only)."""
        return any(ta != tb for ta, tb in self.output_types.values())

    @property
    def differs(self) -> bool:
        """Status, cache state, duration, parameters or output types differ."""
        return (
            self.status_changed
            or self.cache_changed
            or self.duration_changed
            or self.parameters_changed
            or self.types_changed
        )


@dataclass(frozen=True)
class FrameDiff:
    """Columns and row counts of two DataFrames.

    Attributes:
        rows: ``(rows_a, rows_b)``.
        added: columns only in B; removed: columns only in A.
        dtype_changed: ``{column: (dtype_a, dtype_b)}``.
    """

    rows: tuple[int, int]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    dtype_changed: dict[str, tuple[str, str]]

    @property
    def same_schema(self) -> bool:
        """Same columns with the same dtypes."""
        return not (self.added or self.removed or self.dtype_changed)


class OutputComparison:
    """One output (``step`` / ``name``) in two runs; ``frame_diff()`` reads both."""

    _kind = "output_comparison"

    def __init__(
        self,
        comparison: RunComparison,
        step: str,
        name: str,
        a: ArtifactView | None,
        b: ArtifactView | None,
    ) -> None:
        self.comparison = comparison
        self.step = step
        self.name = name
        self.a = a
        self.b = b

    def __repr__(self) -> str:
        types = (_get(self.a, "data_type"), _get(self.b, "data_type"))
        return f"<OutputComparison {self.step}/{self.name}: {types[0]} vs {types[1]}>"

    @property
    def labels(self) -> tuple[str, str]:
        """Names of the two sides, e.g. ``("A: first", "B: second")``."""
        return (f"A: {self.comparison.run_a.name}", f"B: {self.comparison.run_b.name}")

    @property
    def artifacts(self) -> dict[str, ArtifactView]:
        """The artifacts by side label, for ``FacetStatisticsVisualizer().visualize(...)``."""
        pairs = zip(self.labels, (self.a, self.b), strict=True)
        return {label: art for label, art in pairs if art is not None}

    @property
    def are_frames(self) -> bool:
        """Both sides are tables (DataFrames), as the materializers that wrote them say."""
        return all(a is not None and TABLE in a.capabilities for a in (self.a, self.b))

    def frame_diff(self) -> FrameDiff:
        """Compare the columns, dtypes and row counts of both tables (from their schema and
        recorded shape: neither is read whole)."""
        if self.a is None or self.b is None:
            raise ValueError(f"Output {self.step}/{self.name} exists in one run only.")
        for side, artifact in (("A", self.a), ("B", self.b)):
            if TABLE not in artifact.capabilities:
                raise TypeError(
                    f"Output {self.step}/{self.name} of run {side} is a "
                    f"{artifact.data_type.rsplit('.', 1)[-1]}, not a DataFrame."
                )
        da = {str(c): str(t) for c, t in self.a.schema.items()}
        db = {str(c): str(t) for c, t in self.b.schema.items()}
        return FrameDiff(
            rows=(self.a.num_rows, self.b.num_rows),
            added=tuple(c for c in db if c not in da),
            removed=tuple(c for c in da if c not in db),
            dtype_changed={c: (da[c], db[c]) for c in da if c in db and da[c] != db[c]},
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return rendering.mimebundle(self, self._kind, include, exclude)


class RunComparison:
    """Two runs side by side (see ``compare_runs``)."""

    _kind = "run_comparison"

    def __init__(
        self, run_a: PipelineRunView, run_b: PipelineRunView, *, show_all: bool = False
    ) -> None:
        self.run_a = run_a
        self.run_b = run_b
        self.show_all = show_all
        steps_a = {s.name: s for s in run_a.steps}
        steps_b = {s.name: s for s in run_b.steps}
        names = list(steps_a) + [n for n in steps_b if n not in steps_a]
        self.steps: list[StepDiff] = [
            _step_diff(n, steps_a.get(n), steps_b.get(n), show_all) for n in names
        ]

    def __repr__(self) -> str:
        return (
            f"<RunComparison {self.run_a.name!r} vs {self.run_b.name!r}: "
            f"{len(self.differing_steps)} of {len(self.steps)} steps differ>"
        )

    @property
    def only_in_a(self) -> list[str]:
        """Step names run B does not have."""
        return [d.name for d in self.steps if d.b is None]

    @property
    def only_in_b(self) -> list[str]:
        """Step names run A does not have."""
        return [d.name for d in self.steps if d.a is None]

    @property
    def parameter_diff(self) -> dict[str, dict[str, tuple[Any, Any]]]:
        """``{step: {key: (a, b)}}``: changed keys only, or all keys with ``show_all``."""
        return {d.name: dict(d.parameters) for d in self.steps if d.parameters}

    @property
    def differing_steps(self) -> list[str]:
        """Steps whose status, cache state, duration, parameters or output types differ."""
        return [d.name for d in self.steps if d.differs]

    @property
    def output_types(self) -> dict[tuple[str, str], tuple[str | None, str | None]]:
        """``{(step, output): (data_type_a, data_type_b)}`` for every output."""
        return {(d.name, o): types for d in self.steps for o, types in d.output_types.items()}

    def step(self, name: str) -> StepDiff:
        """The comparison of step ``name``; ``NotFoundError`` listing the steps otherwise."""
        for d in self.steps:
            if d.name == name:
                return d
        names = [d.name for d in self.steps]
        raise NotFoundError(
            f"Neither run {self.run_a.name!r} nor {self.run_b.name!r} has a step {name!r}. "
            f"Their steps are: {listing(names)}.{did_you_mean(name, names)}"
        )

    def output(self, step: str, name: str | None = None) -> OutputComparison:
        """Compare output ``name`` of ``step`` (default: its only output) in both runs."""
        d = self.step(step)
        names = list(d.output_types)
        if name is None:
            if len(names) != 1:
                raise ValueError(
                    f"Step {step!r} has {len(names)} outputs ({listing(names)}); pass the name."
                )
            name = names[0]
        if name not in d.output_types:
            raise NotFoundError(
                f"Step {step!r} has no output {name!r} in either run. Its outputs are: "
                f"{listing(names)}.{did_you_mean(name, names)}"
            )
        a = d.a.outputs.get(name) if d.a is not None else None
        b = d.b.outputs.get(name) if d.b is not None else None
        return OutputComparison(self, step, name, a, b)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return rendering.mimebundle(self, self._kind, include, exclude)


def compare_runs(
    run_a: PipelineRunView, run_b: PipelineRunView, *, show_all: bool = False
) -> RunComparison:
    """Compare two runs step by step (steps matched by name, across pipelines too).

    Args:
        run_a: the first run (A), typically the older.
        run_b: the second run (B).
        show_all: list every parameter in ``parameter_diff``, not only the changed ones.
    """
    return RunComparison(run_a, run_b, show_all=show_all)


def _get(view: Any, attribute: str) -> Any:
    return None if view is None else getattr(view, attribute)


def _differs(a: Any, b: Any) -> bool:
    return a is MISSING or b is MISSING or bool(a != b)


def _step_diff(name: str, a: StepView | None, b: StepView | None, show_all: bool) -> StepDiff:
    pa = a.parameters if a is not None else {}
    pb = b.parameters if b is not None else {}
    params = {}
    for key in sorted(set(pa) | set(pb)):
        pair = (pa.get(key, MISSING), pb.get(key, MISSING))
        if show_all or _differs(*pair):
            params[key] = pair
    oa = a.outputs if a is not None else {}
    ob = b.outputs if b is not None else {}
    types: dict[str, tuple[str | None, str | None]] = {}
    for out in list(oa) + [o for o in ob if o not in oa]:
        types[out] = (_get(oa.get(out), "data_type"), _get(ob.get(out), "data_type"))
    return StepDiff(name, a, b, params, types)
