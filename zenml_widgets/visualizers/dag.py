"""A pipeline run's DAG drawn from plain data: steps and the artifacts between them, left to right.

The input is a :class:`DagRun`: steps in execution order, each with the outputs it wrote, the
outputs of earlier steps it read, and why it ran (text). Nothing here reads history;
``zenml_widgets.display.dag`` builds a ``DagRun`` from a run's view.

Layout: a step's layer is one more than the deepest step whose outputs it reads (layer 0 reads
nothing); steps sit in column ``2 * layer`` and their outputs in the column after, so every edge
goes right. Within a column, steps keep execution order and outputs follow their step. Nodes are
coloured by status. The picture is as wide as the cell, down to any size (its nodes have tooltips);
the explorer's interactive DAG (``zenml_widgets.widgets.dag_widget``) zooms and pans. The output is
plain SVG with every name escaped: no script, no network, and the same data gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from zenml_widgets.visualizers.html import MUTED, TEXT, esc, fmt_duration

__all__ = [
    "COLOURS",
    "DagArtifact",
    "DagInput",
    "DagLayout",
    "DagNode",
    "DagRun",
    "DagStep",
    "dag_html",
    "dag_svg",
    "dag_text",
    "layout",
]

#: Stroke and fill colours by status; the stroke colour is also the status text on the fill
#: (a contrast of at least 4.5:1). The interactive DAG (``zenml_widgets.widgets.dag_widget``)
#: takes its colours from here too.
COLOURS = {
    "completed": ("#2e7d32", "#e8f5e9"),
    "cached": ("#1565c0", "#e3f2fd"),
    "failed": ("#c62828", "#ffebee"),
    "running": ("#b34d00", "#fff3e0"),
    "pending": ("#5e35b1", "#ede7f6"),
    "skipped": ("#616161", "#f5f5f5"),
}
#: Always in the legend; the other statuses only when a step of the run has them.
LEGEND_ALWAYS = ("completed", "cached", "failed", "running")
#: A status without a colour of its own.
OTHER = ("#455a64", "#eceff1")
#: Text inside the (light) nodes.
NODE_TEXT = "#1a1a1a"
NODE_MUTED = "#4a4a4a"
STEP_W, STEP_H = 210, 66
ART_W, ART_H = 160, 40
COL_GAP, ROW_GAP, MARGIN = 46, 18, 12
CHARS_STEP, CHARS_ART = 30, 24
LEGEND_H = 26
LEGEND_STEP = 86
LANE_GAP = 10


@dataclass(frozen=True)
class DagArtifact:
    """An output as the drawing shows it.

    Attributes:
        name: the output name.
        data_type: dotted type path of the stored object.
        key: where it is stored (shown in its tooltip).
        is_cached: reused from an earlier run (drawn dashed).
    """

    name: str
    data_type: str
    key: str
    is_cached: bool = False


@dataclass(frozen=True)
class DagInput:
    """An output of an earlier step of the same run, read by a step.

    Attributes:
        name: the input's name in the reading step.
        step: the name of the step that wrote it.
        output: that step's output name.
    """

    name: str
    step: str
    output: str


@dataclass(frozen=True)
class DagStep:
    """A step as the drawing shows it.

    Attributes:
        name: the step's name.
        status: ``completed``, ``cached``, ``failed``, ``running``, ``pending`` or ``skipped``.
        entrypoint: the step function's name.
        duration: how long it took, ``None`` while it runs.
        position: its place in execution order.
        outputs: what it wrote.
        inputs: what it read from earlier steps of the run (other inputs are not drawn).
        reason: why it ran or was cached, in a few words (drawn in the node).
        explanation: why, in a sentence (its tooltip); ``None`` when unknown.
    """

    name: str
    status: str
    entrypoint: str
    duration: timedelta | None
    position: int
    outputs: tuple[DagArtifact, ...] = ()
    inputs: tuple[DagInput, ...] = ()
    reason: str = ""
    explanation: str | None = None


@dataclass(frozen=True)
class DagRun:
    """A run to draw: its name and status, and its steps in execution order."""

    name: str
    status: str
    steps: tuple[DagStep, ...]


@dataclass(frozen=True)
class DagNode:
    """A step (key ``s:<step>``) or an artifact (key ``a:<step>/<output>``) and its box."""

    key: str
    column: int
    row: int
    width: int
    height: int
    x: float = 0
    y: float = 0


@dataclass
class DagLayout:
    """Where every step and artifact goes (pixel boxes), and the edges between them.

    Attributes:
        steps: the run's steps, in execution order.
        layers: each step's layer (by step name).
        nodes: the boxes, by node key.
        edges: ``(from key, to key, label)``; the label names an input read under another name.
        lanes: the height of the lane below the nodes taken by each edge that skips columns.
    """

    steps: list[DagStep]
    layers: dict[str, int]
    nodes: dict[str, DagNode] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)
    lanes: dict[tuple[str, str], float] = field(default_factory=dict)
    width: float = 0
    height: float = 0


def layout(run: DagRun) -> DagLayout:
    """Layers and pixel positions of ``run``'s steps and artifacts."""
    steps = list(run.steps)
    layers: dict[str, int] = {}
    for s in steps:  # execution order: parents come first
        layers[s.name] = 1 + max((layers[i.step] for i in s.inputs), default=-1)
    dag = DagLayout(steps, layers)
    columns: dict[int, list[DagNode]] = {}
    for s in steps:
        col = 2 * layers[s.name]
        columns.setdefault(col, []).append(
            DagNode(f"s:{s.name}", col, len(columns.get(col, [])), STEP_W, STEP_H)
        )
    for s in steps:
        col = 2 * layers[s.name] + 1
        for a in s.outputs:
            key = f"a:{s.name}/{a.name}"
            columns.setdefault(col, []).append(DagNode(key, col, len(columns[col]), ART_W, ART_H))
            dag.edges.append((f"s:{s.name}", key, ""))
    for s in steps:
        for i in s.inputs:
            label = "" if i.name == i.output else i.name
            dag.edges.append((f"a:{i.step}/{i.output}", f"s:{s.name}", label))
    _place(dag, columns, len(legend_statuses(run)))
    return dag


def legend_statuses(run: DagRun) -> list[str]:
    """The statuses the legend explains: the usual four, and any other a step of ``run`` has."""
    present = {s.status for s in run.steps}
    return [k for k in COLOURS if k in LEGEND_ALWAYS or k in present]


def _place(dag: DagLayout, columns: dict[int, list[DagNode]], legend_entries: int) -> None:
    """Pixel positions of the nodes, lanes of the edges that skip columns, and the size."""
    heights = {c: sum(n.height for n in ns) + ROW_GAP * (len(ns) - 1) for c, ns in columns.items()}
    tallest = max(heights.values(), default=0)
    x = float(MARGIN)
    for col in sorted(columns):
        y = MARGIN + (tallest - heights[col]) / 2
        width = max(n.width for n in columns[col])
        for n in columns[col]:
            dag.nodes[n.key] = DagNode(n.key, n.column, n.row, n.width, n.height, x, y)
            y += n.height + ROW_GAP
        x += width + COL_GAP
    # An edge that skips columns runs below the nodes (in its own lane) instead of through them.
    lane_y = MARGIN + tallest + LANE_GAP
    for src, dst, _ in dag.edges:
        if dag.nodes[dst].column - dag.nodes[src].column > 1:
            dag.lanes[(src, dst)] = lane_y
            lane_y += LANE_GAP
    dag.width = max(x - COL_GAP + MARGIN, _narrowest(legend_entries))
    dag.height = lane_y - LANE_GAP + 2 * MARGIN + LEGEND_H


def _narrowest(legend_entries: int) -> float:
    """The width below which the legend (one entry per status it shows) would not fit."""
    return 2 * MARGIN + legend_entries * LEGEND_STEP


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(x: float, y: float, text: str, limit: int, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in sorted(attrs.items()))
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{esc(_clip(text, limit))}</text>'


def _edge(a: DagNode, b: DagNode, label: str, lane: float | None) -> str:
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
        path += _text(label_x, label_y, label, 14, font_size="10", style=f"fill:{MUTED}",
                      text_anchor="middle")  # fmt: skip
    return path


def _step_node(node: DagNode, step: DagStep, selected: bool) -> str:
    status = step.status
    stroke, fill = COLOURS.get(status, OTHER)
    duration = fmt_duration(step.duration)
    tooltip = f"{step.name} ({step.entrypoint}): {status}, {duration}"
    if step.explanation is not None:
        tooltip += f"\n{step.explanation}"
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
        + _text(x + 12, y + 18, step.name, CHARS_STEP, font_weight="600", fill=NODE_TEXT)
        + _text(x + 12, y + 35, f"{status} · {duration}", CHARS_STEP, fill=stroke)
        + _text(x + 12, y + 53, step.reason, CHARS_STEP + 6, font_size="10", fill=NODE_MUTED)
        + "</g>"
    )


def _artifact_node(node: DagNode, artifact: DagArtifact) -> str:
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
        + _text(x + 12, y + 16, artifact.name, CHARS_ART, font_weight="600", fill=NODE_TEXT)
        + _text(x + 12, y + 31, short_type, CHARS_ART, font_size="10", fill=NODE_MUTED)
        + "</g>"
    )


def _legend(y: float, statuses: list[str]) -> str:
    parts, x = [], float(MARGIN)
    for status in statuses:
        stroke, fill = COLOURS[status]
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" rx="2" fill="{fill}" '
            f'stroke="{stroke}"/>'
            + _text(x + 16, y + 10, status, 12, font_size="11", style=f"fill:{TEXT}")
        )
        x += LEGEND_STEP
    return "".join(parts)


def dag_svg(run: DagRun, *, selected: str | None = None) -> str:
    """The SVG of ``run``'s DAG; ``selected`` outlines that step."""
    dag = layout(run)
    body = [
        _edge(dag.nodes[a], dag.nodes[b], label, dag.lanes.get((a, b))) for a, b, label in dag.edges
    ]
    for s in dag.steps:
        body.append(_step_node(dag.nodes[f"s:{s.name}"], s, s.name == selected))
        for a in s.outputs:
            body.append(_artifact_node(dag.nodes[f"a:{s.name}/{a.name}"], a))
    body.append(_legend(dag.height - LEGEND_H, legend_statuses(run)))
    w, h = f"{dag.width:.0f}", f"{dag.height:.0f}"
    # Natural size when it fits; a narrower cell scales it down to its width (viewBox keeps the
    # proportions). The interactive DAG of the explorer zooms and pans instead.
    style = f"width:100%;max-width:{w}px;height:auto"
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
    """``svg`` in a container as wide as the cell: the DAG shrinks to fit it.

    ``contain:inline-size`` keeps the SVG's natural width from widening the container's
    ancestors (JupyterLab's output area and an ipywidgets ``HTML`` widget are flex layouts that
    would grow to it, and then the cell would cut the DAG at its right edge).
    """
    style = "max-width:100%;contain:inline-size"
    return f'<div class="zw-dag-container" style="{style}">{svg}</div>'


def dag_text(run: DagRun) -> str:
    """The DAG as plain text: one line per step, by layer, with its outputs and explanation."""
    dag = layout(run)
    lines = [f"DAG of run {run.name!r} ({run.status})"]
    for s in sorted(dag.steps, key=lambda s: (dag.layers[s.name], s.position)):
        outs = ", ".join(f"{a.name}: {a.data_type.rsplit('.', 1)[-1]}" for a in s.outputs)
        why = f"\n      {s.explanation}" if s.explanation is not None else ""
        lines.append(
            f"  [{dag.layers[s.name]}] {s.name} ({s.status}, {fmt_duration(s.duration)})"
            f" -> {outs or 'no outputs'}" + why
        )
    return "\n".join(lines)
