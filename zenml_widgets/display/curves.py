"""Displays of learning curves: a step's metrics, and one metric of several runs overlaid.

Both turn curves already read (``views/metrics.py``) into the drawing's plain data and draw it
with :mod:`zenml_widgets.visualizers.curves`: inline SVG, no JavaScript, names escaped. The
explorer calls :func:`step_curves_html` with its own log-scale switch; a cell's display carries
a CSS-only switch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml_widgets.visualizers.curves import Curve, curves_html
from zenml_widgets.visualizers.html import block, esc, muted_html

if TYPE_CHECKING:
    from zenml_widgets.views.metrics import RunCurves, StepCurves

#: Charts a step's display draws (its first metrics by name); the rest are listed.
MAX_CHARTS = 12


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def step_curves_html(curves: StepCurves, *, log_scale: bool | None = None) -> str:
    """A step's metrics as small charts side by side (the first :data:`MAX_CHARTS`), or a note
    that it logged none. ``log_scale`` as for ``curves_html``."""
    if not curves.series:
        return muted_html("No metrics logged (log_metric) in this step.")
    shown = curves.series[:MAX_CHARTS]
    charts = []
    for series in shown:
        points = curves.points.get(series.name)
        if points is not None:
            charts.append((series.name, [Curve(series.name, points.steps, points.values)]))
    html = curves_html(charts, log_scale=log_scale)
    rest = [s.name for s in curves.series[MAX_CHARTS:]]
    if rest:
        html += muted_html(f"and {len(rest)} more: {', '.join(rest)}")
    return html


def _plain_step(curves: StepCurves) -> str:
    lines = [repr(curves)]
    for s in curves.series:
        lines.append(f"  {s.name}: {s.points} points, last {_fmt(s.last_value)} at {s.last_step}")
    return "\n".join(lines)


def step_curves_bundle(curves: StepCurves) -> dict[str, Any]:
    """The step's learning curves (inline SVG with a log-scale switch) and a text summary."""
    title = (
        f"Metrics of step <code>{esc(curves.step_name)}</code> "
        f"<span class='zw-muted'>run {esc(curves.run_name)} · {esc(curves.status)}</span>"
    )
    return {"text/plain": _plain_step(curves), "text/html": block(title, step_curves_html(curves))}


def run_curves_html(curves: RunCurves, *, log_scale: bool | None = None) -> str:
    """One metric of several runs in one chart, run names in the legend and on hover."""
    if not curves.curves:
        return muted_html(f"No run here logged {curves.column}.")
    lines = [Curve(name, p.steps, p.values) for name, p in curves.curves.items()]
    return curves_html([(curves.column, lines)], log_scale=log_scale, legend=list(curves.curves))


def run_curves_bundle(curves: RunCurves) -> dict[str, Any]:
    """The overlay (inline SVG, a log-scale switch) and each run's last value as text."""
    plain = [repr(curves)]
    for name, points in curves.curves.items():
        last = points.values[-1] if points.values else None
        plain.append(f"  {name}: {len(points.steps)} points, last {_fmt(last)}")
    title = f"{esc(curves.column)} <span class='zw-muted'>{len(curves.curves)} runs</span>"
    return {"text/plain": "\n".join(plain), "text/html": block(title, run_curves_html(curves))}
