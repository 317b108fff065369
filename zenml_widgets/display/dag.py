"""A run's DAG as inline SVG: steps and the artifacts between them, left to right.

    from zenml_widgets.display.dag import PipelineRunDagVisualizer

    PipelineRunDagVisualizer().visualize(run)            # in a notebook: shown inline
    svg = PipelineRunDagVisualizer().svg(run, selected="trainer")

Layout: a step's layer is one more than the deepest step whose outputs it reads (layer 0 reads
nothing); steps sit in column ``2 * layer`` and their outputs in the column after, so every edge
goes right. Within a column, steps keep execution order and outputs follow their step. Nodes are
coloured by status and say why the step ran or was cached (``zenml_widgets.views.lineage``).
The output is plain SVG with every name escaped: no script, no network, and the same run gives
the same bytes.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zenml_widgets.views.lineage import StepExplanation, explain_run
from zenml_widgets.visualizers.base import BaseVisualizer
from zenml_widgets.visualizers.html import esc, fmt_duration

if TYPE_CHECKING:
    from zenml_widgets.views import ArtifactView, PipelineRunView, StepView

#: Stroke and fill colours by status.
COLOURS = {
    "completed": ("#2e7d32", "#e8f5e9"),
    "cached": ("#1565c0", "#e3f2fd"),
    "failed": ("#c62828", "#ffebee"),
    "running": ("#ef6c00", "#fff3e0"),
}
STEP_W, STEP_H = 210, 66
ART_W, ART_H = 160, 40
COL_GAP, ROW_GAP, MARGIN = 46, 18, 12
CHARS_STEP, CHARS_ART = 30, 24
LEGEND_H = 26
LANE_GAP = 10
#: A wide DAG shrinks to fit its cell down to this scale (12 px text: ~8 px); then it scrolls.
MIN_SCALE = 0.7


@dataclass(frozen=True)
class _Node:
    key: str
    column: int
    row: int
    width: int
    height: int
    x: float = 0
    y: float = 0


@dataclass
class DagLayout:
    """Where every step and artifact goes (pixel boxes), and the edges between them."""

    steps: list[StepView]
    outputs: dict[str, list[ArtifactView]]
    layers: dict[str, int]
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)
    lanes: dict[tuple[str, str], float] = field(default_factory=dict)
    width: float = 0
    height: float = 0


def layout(run: PipelineRunView) -> DagLayout:
    """Layers and pixel positions of ``run``'s steps and artifacts."""
    steps = run.steps
    by_id = {s.id: s for s in steps}
    layers: dict[str, int] = {}
    inputs: dict[str, dict[str, ArtifactView]] = {}
    for s in steps:  # execution order: parents come first
        inputs[s.name] = s.inputs
        parents = [by_id[a.step.id].name for a in inputs[s.name].values() if a.step.id in by_id]
        layers[s.name] = 1 + max((layers[p] for p in parents), default=-1)
    outputs = {s.name: list(s.outputs.values()) for s in steps}
    dag = DagLayout(steps, outputs, layers)
    columns: dict[int, list[_Node]] = {}
    for s in steps:
        col = 2 * layers[s.name]
        columns.setdefault(col, []).append(
            _Node(f"s:{s.name}", col, len(columns.get(col, [])), STEP_W, STEP_H)
        )
    for s in steps:
        col = 2 * layers[s.name] + 1
        for a in outputs[s.name]:
            key = f"a:{s.name}/{a.name}"
            columns.setdefault(col, []).append(_Node(key, col, len(columns[col]), ART_W, ART_H))
            dag.edges.append((f"s:{s.name}", key, ""))
    for s in steps:
        for input_name, a in inputs[s.name].items():
            producer = by_id.get(a.step.id)
            if producer is not None:
                label = "" if input_name == a.name else input_name
                dag.edges.append((f"a:{producer.name}/{a.name}", f"s:{s.name}", label))
    heights = {c: sum(n.height for n in ns) + ROW_GAP * (len(ns) - 1) for c, ns in columns.items()}
    tallest = max(heights.values(), default=0)
    x = float(MARGIN)
    for col in sorted(columns):
        y = MARGIN + (tallest - heights[col]) / 2
        width = max(n.width for n in columns[col])
        for n in columns[col]:
            dag.nodes[n.key] = _Node(n.key, n.column, n.row, n.width, n.height, x, y)
            y += n.height + ROW_GAP
        x += width + COL_GAP
    # An edge that skips columns runs below the nodes (in its own lane) instead of through them.
    lane_y = MARGIN + tallest + LANE_GAP
    for src, dst, _ in dag.edges:
        if dag.nodes[dst].column - dag.nodes[src].column > 1:
            dag.lanes[(src, dst)] = lane_y
            lane_y += LANE_GAP
    dag.width = max(x - COL_GAP + MARGIN, 2 * MARGIN + 420)
    dag.height = lane_y - LANE_GAP + 2 * MARGIN + LEGEND_H
    return dag


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(x: float, y: float, text: str, limit: int, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in sorted(attrs.items()))
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{esc(_clip(text, limit))}</text>'


def _edge(a: _Node, b: _Node, label: str, lane: float | None) -> str:
    x1, y1 = a.x + a.width, a.y + a.height / 2
    x2, y2 = b.x - 2, b.y + b.height / 2
    mid = (x1 + x2) / 2
    label_x, label_y = mid, (y1 + y2) / 2 - 4
    if lane is None:
        d = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    else:  # down into the lane, along it, and up into the target
        g = COL_GAP / 2
        d = (
            f"M{x1:.1f},{y1:.1f} C{x1 + g:.1f},{y1:.1f} {x1 + g:.1f},{lane:.1f} "
            f"{x1 + 2 * g:.1f},{lane:.1f} L{x2 - 2 * g:.1f},{lane:.1f} "
            f"C{x2 - g:.1f},{lane:.1f} {x2 - g:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        )
        label_x, label_y = x2 - 2 * g - 30, lane - 3
    path = (
        f'<path d="{d}" fill="none" stroke="#888" stroke-width="1.3" '
        'marker-end="url(#zw-dag-arrow)"/>'
    )
    if label:
        path += _text(label_x, label_y, label, 14, font_size="10", fill="#555",
                      text_anchor="middle")  # fmt: skip
    return path


def _step_node(node: _Node, step: StepView, why: StepExplanation | None, selected: bool) -> str:
    status = step.status
    stroke, fill = COLOURS.get(status, ("#555", "#f5f5f5"))
    duration = fmt_duration(step.duration)
    reason = why.short() if why is not None else ""
    tooltip = f"{step.name} ({step.entrypoint_name}): {status}, {duration}"
    if why is not None:
        tooltip += f"\n{why.summary}"
    width = "3.5" if selected else "1.5"
    outline = "#111" if selected else stroke
    x, y = node.x, node.y
    return (
        f'<g class="zw-dag-step{" zw-dag-selected" if selected else ""}" '
        f'data-step="{esc(step.name)}" data-status="{esc(status)}">'
        f"<title>{esc(tooltip)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{node.width}" height="{node.height}" rx="6" '
        f'fill="{fill}" stroke="{outline}" stroke-width="{width}"/>'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="6" height="{node.height}" rx="3" fill="{stroke}"/>'
        + _text(x + 12, y + 18, step.name, CHARS_STEP, font_weight="600")
        + _text(x + 12, y + 35, f"{status} · {duration}", CHARS_STEP, fill=stroke)
        + _text(x + 12, y + 53, reason, CHARS_STEP + 6, font_size="10", fill="#555")
        + "</g>"
    )


def _artifact_node(node: _Node, artifact: ArtifactView) -> str:
    short_type = artifact.data_type.rsplit(".", 1)[-1]
    tooltip = f"{artifact.name}: {artifact.data_type}\n{artifact.key}"
    if artifact.is_cached:
        tooltip += "\n(cached: reused from an earlier run)"
    dashed = ' stroke-dasharray="4 3"' if artifact.is_cached else ""
    x, y = node.x, node.y
    return (
        f'<g class="zw-dag-artifact" data-artifact="{esc(artifact.name)}">'
        f"<title>{esc(tooltip)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{node.width}" height="{node.height}" rx="16" '
        f'fill="#fafafa" stroke="#999"{dashed}/>'
        + _text(x + 12, y + 16, artifact.name, CHARS_ART, font_weight="600")
        + _text(x + 12, y + 31, short_type, CHARS_ART, font_size="10", fill="#555")
        + "</g>"
    )


def _legend(y: float) -> str:
    parts, x = [], float(MARGIN)
    for status, (stroke, fill) in COLOURS.items():
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" rx="2" fill="{fill}" '
            f'stroke="{stroke}"/>' + _text(x + 16, y + 10, status, 12, font_size="11")
        )
        x += 100
    return "".join(parts)


def dag_svg(
    run: PipelineRunView,
    *,
    selected: str | None = None,
    explanations: dict[str, StepExplanation] | None = None,
) -> str:
    """The SVG of ``run``'s DAG; ``selected`` outlines that step."""
    dag = layout(run)
    why = explanations if explanations is not None else explain_run(run)
    body = [
        _edge(dag.nodes[a], dag.nodes[b], label, dag.lanes.get((a, b))) for a, b, label in dag.edges
    ]
    for s in dag.steps:
        body.append(_step_node(dag.nodes[f"s:{s.name}"], s, why.get(s.name), s.name == selected))
        for a in dag.outputs[s.name]:
            body.append(_artifact_node(dag.nodes[f"a:{s.name}/{a.name}"], a))
    body.append(_legend(dag.height - LEGEND_H))
    w, h = f"{dag.width:.0f}", f"{dag.height:.0f}"
    # Natural size when it fits; narrower cells scale it down (viewBox keeps the proportions),
    # but never below MIN_SCALE: then the container (see ``dag_html``) scrolls sideways.
    smallest = min(dag.width, max(dag.width * MIN_SCALE, 2 * MARGIN + 420))
    style = f"max-width:100%;height:auto;min-width:{smallest:.0f}px"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="zw-dag" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" style="{style}" preserveAspectRatio="xMinYMin meet" '
        'font-family="system-ui, sans-serif" font-size="12" '
        f'role="img" aria-label="{esc(f"DAG of run {run.name}")}">'
        '<defs><marker id="zw-dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>' + "".join(body) + "</svg>"
    )


def dag_html(svg: str) -> str:
    """``svg`` in a container that scrolls sideways when the DAG cannot shrink enough.

    ``contain:inline-size`` keeps the SVG's minimum width from widening the container's
    ancestors (JupyterLab's output area and an ipywidgets ``HTML`` widget are flex layouts that
    would grow to it, and then the cell cuts the DAG at its right edge instead of scrolling).
    """
    style = "overflow-x:auto;max-width:100%;contain:inline-size"
    return f'<div class="zw-dag-container" style="{style}">{svg}</div>'


def dag_text(run: PipelineRunView, explanations: dict[str, StepExplanation]) -> str:
    """The DAG as plain text: one line per step, by layer, with its outputs and explanation."""
    dag = layout(run)
    lines = [f"DAG of run {run.name!r} ({run.status})"]
    for s in sorted(dag.steps, key=lambda s: (dag.layers[s.name], s.position)):
        outs = ", ".join(f"{a.name}: {a.data_type.rsplit('.', 1)[-1]}" for a in dag.outputs[s.name])
        why = explanations.get(s.name)
        lines.append(
            f"  [{dag.layers[s.name]}] {s.name} ({s.status}, {fmt_duration(s.duration)})"
            f" -> {outs or 'no outputs'}" + (f"\n      {why.summary}" if why else "")
        )
    return "\n".join(lines)


class RunDag:
    """A run's DAG ready to show: ``svg``, ``text`` and the step ``explanations``."""

    def __init__(self, run: PipelineRunView, selected: str | None = None) -> None:
        self.run = run
        self.selected = selected
        self.explanations = explain_run(run)
        self.svg = dag_svg(run, selected=selected, explanations=self.explanations)
        self.text = dag_text(run, self.explanations)
        self._shown_in_cell = False

    def __repr__(self) -> str:
        return f"<RunDag of run {self.run.name!r}: {len(self.explanations)} steps>"

    @property
    def html(self) -> str:
        """The SVG in a container that scrolls when the DAG cannot shrink to the cell."""
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
