"""A run's DAG as inline SVG, from its view: the adapter between a ``PipelineRunView`` and the
drawing in :mod:`zenml_widgets.visualizers.dag`.

    from zenml_widgets.display.dag import PipelineRunDagVisualizer

    PipelineRunDagVisualizer().visualize(run)            # in a notebook: shown inline
    svg = PipelineRunDagVisualizer().svg(run, selected="trainer")

:func:`run_graph` turns the run's steps, their inputs and outputs, and why each step ran or was
cached (``zenml_widgets.views.lineage``) into plain data; the visualizer lays it out and draws it.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zenml_widgets.views.lineage import StepExplanation, explain_run
from zenml_widgets.visualizers import dag as drawing
from zenml_widgets.visualizers.base import BaseVisualizer
from zenml_widgets.visualizers.dag import COLOURS, dag_html

if TYPE_CHECKING:
    from zenml_widgets.views import ArtifactView, PipelineRunView, StepView

__all__ = [
    "COLOURS",
    "DagLayout",
    "PipelineRunDagVisualizer",
    "RunDag",
    "dag_html",
    "dag_svg",
    "dag_text",
    "layout",
    "run_graph",
]


def run_graph(
    run: PipelineRunView, explanations: dict[str, StepExplanation] | None = None
) -> drawing.DagRun:
    """``run`` as the plain data the drawing takes (``explanations``: by step name, as
    ``explain_run`` gives them; none are shown without them)."""
    why = explanations or {}
    steps = run.steps
    by_id = {s.id: s for s in steps}
    graph = []
    for s in steps:
        inputs = tuple(
            drawing.DagInput(name, by_id[a.step.id].name, a.name)
            for name, a in s.inputs.items()
            if a.step.id in by_id
        )
        outputs = tuple(
            drawing.DagArtifact(a.name, a.data_type, a.key, a.is_cached) for a in s.outputs.values()
        )
        explanation = why.get(s.name)
        graph.append(
            drawing.DagStep(
                name=s.name,
                status=s.status,
                entrypoint=s.entrypoint_name,
                duration=s.duration,
                position=s.position,
                outputs=outputs,
                inputs=inputs,
                reason=explanation.short() if explanation is not None else "",
                explanation=explanation.summary if explanation is not None else None,
            )
        )
    return drawing.DagRun(run.name, run.status, tuple(graph))


@dataclass(frozen=True)
class DagLayout:
    """Where a run's steps and artifacts go: the drawing's layout, with the run's views.

    Attributes:
        steps: the run's steps, in execution order.
        outputs: each step's outputs, by step name.
        picture: the layout of the plain data (nodes, edges, lanes, size).
    """

    steps: list[StepView]
    outputs: dict[str, list[ArtifactView]]
    picture: drawing.DagLayout

    @property
    def layers(self) -> dict[str, int]:
        """Each step's layer, by step name."""
        return self.picture.layers

    @property
    def nodes(self) -> dict[str, drawing.DagNode]:
        """The boxes, by node key (``s:<step>``, ``a:<step>/<output>``)."""
        return self.picture.nodes

    @property
    def edges(self) -> list[tuple[str, str, str]]:
        """``(from key, to key, label)``."""
        return self.picture.edges

    @property
    def lanes(self) -> dict[tuple[str, str], float]:
        """The lane below the nodes of each edge that skips columns."""
        return self.picture.lanes

    @property
    def width(self) -> float:
        """Width of the picture in pixels."""
        return self.picture.width

    @property
    def height(self) -> float:
        """Height of the picture in pixels."""
        return self.picture.height


def layout(run: PipelineRunView) -> DagLayout:
    """Layers and pixel positions of ``run``'s steps and artifacts."""
    steps = run.steps
    outputs = {s.name: list(s.outputs.values()) for s in steps}
    return DagLayout(steps, outputs, drawing.layout(run_graph(run)))


def dag_svg(
    run: PipelineRunView,
    *,
    selected: str | None = None,
    explanations: dict[str, StepExplanation] | None = None,
) -> str:
    """The SVG of ``run``'s DAG; ``selected`` outlines that step."""
    why = explanations if explanations is not None else explain_run(run)
    return drawing.dag_svg(run_graph(run, why), selected=selected)


def dag_text(run: PipelineRunView, explanations: dict[str, StepExplanation]) -> str:
    """The DAG as plain text: one line per step, by layer, with its outputs and explanation."""
    return drawing.dag_text(run_graph(run, explanations))


class RunDag:
    """A run's DAG ready to show: ``svg``, ``text`` and the step ``explanations``."""

    def __init__(self, run: PipelineRunView, selected: str | None = None) -> None:
        self.run = run
        self.selected = selected
        self.explanations = explain_run(run)
        graph = run_graph(run, self.explanations)
        self.svg = drawing.dag_svg(graph, selected=selected)
        self.text = drawing.dag_text(graph)
        self._shown_in_cell = False

    def __repr__(self) -> str:
        return f"<RunDag of run {self.run.name!r}: {len(self.explanations)} steps>"

    @property
    def html(self) -> str:
        """The SVG in a container as wide as the cell (the DAG shrinks to fit it)."""
        return dag_html(self.svg)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self._shown_in_cell:
            return {"text/plain": repr(self) + " (shown above)"}
        bundle = {"text/plain": self.text, "text/html": self.html}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include or k == "text/plain"}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude or k == "text/plain"}
        return bundle


class PipelineRunDagVisualizer(BaseVisualizer):
    """Draws a run's steps and artifacts as an inline SVG DAG (no JavaScript, no network)."""

    def visualize(self, obj: Any, *args: Any, selected: str | None = None, **kwargs: Any) -> RunDag:
        """Show the DAG of run ``obj``; in a notebook it is displayed right away.

        Args:
            obj: a ``PipelineRunView``.
            selected: a step name to outline.
            *args: unused; accepted for the ``BaseVisualizer`` interface.
            **kwargs: unused; accepted for the ``BaseVisualizer`` interface.

        Returns:
            The ``RunDag`` (its ``svg``, ``text`` and ``explanations``).
        """
        if not hasattr(obj, "steps") or not hasattr(obj, "pipeline"):
            raise TypeError(
                f"PipelineRunDagVisualizer draws runs; got a {type(obj).__name__}. "
                "Pass a run, e.g. pipeline.runs[-1]."
            )
        dag = RunDag(obj, selected)
        shell = _kernel_shell()
        if shell is not None:
            _display_once(shell, dag)
        return dag

    def svg(self, run: PipelineRunView, selected: str | None = None) -> str:
        """Just the SVG text of ``run``'s DAG."""
        return dag_svg(run, selected=selected)


def _kernel_shell() -> Any:
    """The running Jupyter kernel's shell, or ``None`` (never imports IPython itself)."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    names = {cls.__name__ for cls in type(shell).__mro__} if shell is not None else set()
    return shell if "ZMQInteractiveShell" in names else None


def _display_once(shell: Any, dag: RunDag) -> None:
    """Display now; the same object as the cell's result then shows as one line of text."""
    import IPython.display

    ipython_display: Any = IPython.display
    ipython_display.display(dag)
    dag._shown_in_cell = True

    def _next_cell(*_: Any) -> None:
        dag._shown_in_cell = False
        with contextlib.suppress(ValueError):
            shell.events.unregister("pre_run_cell", _next_cell)

    shell.events.register("pre_run_cell", _next_cell)
