"""Learning curves as inline SVG: metrics over their step index, from plain data.

:func:`curves_svg` draws one chart of one or more curves (a step's metric, or one metric of
several runs overlaid, with a legend); :func:`curves_html` lays several charts out side by side
with a log-scale switch. Pure functions of the points they are given: no history, no
JavaScript, nothing from the network, every name escaped. A curve's hover text (SVG
``<title>``) names it and its last value; on a log scale, points that are not above zero are
left out and the chart says how many.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from zenml_widgets.visualizers.html import BORDER, MUTED, TEXT, esc

WIDTH, HEIGHT = 360, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 10, 10, 30
#: Line colours, in legend order (distinct on light and dark backgrounds).
PALETTE = (
    "#1565c0", "#e65100", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#ad1457", "#4e342e",
    "#f9a825", "#283593", "#558b2f", "#d84315", "#00695c", "#8e24aa", "#37474f", "#9e9d24",
    "#0277bd", "#bf360c", "#1b5e20", "#880e4f",
)  # fmt: skip


@dataclass(frozen=True)
class Curve:
    """One line: its label (a metric or a run name), step indexes and values (NaN allowed)."""

    label: str
    steps: Sequence[float]
    values: Sequence[float]


@dataclass(frozen=True)
class _Frame:
    """The data range of a chart and how it maps to the plot area."""

    x0: float
    x1: float
    y0: float
    y1: float
    log: bool
    width: int
    height: int

    def x(self, value: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return _LEFT + (value - self.x0) / span * (self.width - _LEFT - _RIGHT)

    def y(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        span = self.y1 - self.y0 or 1.0
        return _TOP + (1 - (v - self.y0) / span) * (self.height - _TOP - _BOTTOM)


def _shown(curve: Curve, log: bool) -> list[tuple[float, float]]:
    """The points a chart can place: finite, and above zero on a log scale."""
    return [
        (float(s), float(v))
        for s, v in zip(curve.steps, curve.values, strict=True)
        if math.isfinite(v) and (v > 0 or not log)
    ]


def _frame(points: list[list[tuple[float, float]]], log: bool, width: int, height: int) -> _Frame:
    xs = [p[0] for ps in points for p in ps]
    ys = [math.log10(p[1]) if log else p[1] for ps in points for p in ps]
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.05 or (abs(y0) * 0.1 or 1.0)
    return _Frame(min(xs), max(xs), y0 - pad, y1 + pad, log, width, height)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _axes(frame: _Frame, x_label: str, y_label: str) -> str:
    w, h = frame.width, frame.height
    low, high = frame.y0, frame.y1
    ticks = []
    for v in (high, (low + high) / 2, low):
        shown = 10**v if frame.log else v
        at = frame.y(shown)
        ticks.append(
            f'<text x="{_LEFT - 4}" y="{at + 3:.1f}" text-anchor="end" font-size="9" '
            f'style="fill:{MUTED}">{esc(_fmt(shown))}</text>'
        )
    for v in (frame.x0, frame.x1) if frame.x0 != frame.x1 else (frame.x0,):
        ticks.append(
            f'<text x="{frame.x(v):.1f}" y="{h - _BOTTOM + 11}" text-anchor="middle" '
            f'font-size="9" style="fill:{MUTED}">{esc(_fmt(v))}</text>'
        )
    middle = _TOP + (h - _TOP - _BOTTOM) / 2
    scale = " (log)" if frame.log else ""
    return (
        f'<rect x="{_LEFT}" y="{_TOP}" width="{w - _LEFT - _RIGHT}" height="{h - _TOP - _BOTTOM}" '
        f'fill="none" style="stroke:{BORDER}"/>' + "".join(ticks)
        + f'<text x="{_LEFT + (w - _LEFT - _RIGHT) / 2:.1f}" y="{h - 4}" text-anchor="middle" '
        f'font-size="10" style="fill:{TEXT}">{esc(x_label)}</text>'
        f'<text x="10" y="{middle:.1f}" text-anchor="middle" font-size="10" style="fill:{TEXT}" '
        f'transform="rotate(-90 10 {middle:.1f})">{esc(y_label + scale)}</text>'
    )  # fmt: skip


def _line(curve: Curve, points: list[tuple[float, float]], frame: _Frame, colour: str) -> str:
    last_step, last_value = curve.steps[-1], curve.values[-1]
    count = len(curve.steps)
    hover = f"{curve.label}: {_fmt(last_value)} at step {_fmt(last_step)} (last of {count})"
    if len(points) == 1:
        x, y = points[0]
        shape = f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="3" fill="{colour}"/>'
    else:
        path = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in points)
        shape = (
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            f'<polyline points="{path}" fill="none" stroke="transparent" stroke-width="8"/>'
        )
    label = esc(curve.label)
    return f'<g class="zw-curve" data-label="{label}"><title>{esc(hover)}</title>{shape}</g>'


def curves_svg(
    curves: Sequence[Curve],
    *,
    title: str,
    log_scale: bool = False,
    x_label: str = "step",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """One chart of ``curves`` (their colours in order of :data:`PALETTE`), titled ``title``
    (the metric). Self-contained SVG: each line's hover text names it."""
    shown = [_shown(c, log_scale) for c in curves]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="zw-curves-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(title)} over {esc(x_label)}{" (log scale)" if log_scale else ""}">'
    )
    dropped = sum(len(c.steps) for c in curves) - sum(len(p) for p in shown)
    if not any(shown):
        why = "no values above zero" if log_scale else "no finite values"
        return head + (
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" font-size="11" '
            f'style="fill:{MUTED}">{esc(title)}: {why}</text></svg>'
        )
    frame = _frame([p for p in shown if p], log_scale, width, height)
    lines = [
        _line(c, p, frame, PALETTE[i % len(PALETTE)])
        for i, (c, p) in enumerate(zip(curves, shown, strict=True))
        if p
    ]
    note = ""
    if dropped:
        what = "not above zero or not finite" if log_scale else "NaN or infinite"
        note = (
            f'<text x="{width - _RIGHT}" y="{_TOP + 10}" text-anchor="end" font-size="9" '
            f'style="fill:{MUTED}">{dropped} points {what} not shown</text>'
        )
    return head + _axes(frame, x_label, title) + "".join(lines) + note + "</svg>"


def legend_html(labels: Sequence[str]) -> str:
    """The colour of each curve and its label (escaped), in the order of :func:`curves_svg`."""
    items = "".join(
        f'<span class="zw-legend-item" style="margin-right:10px;white-space:nowrap">'
        f'<span style="display:inline-block;width:10px;height:10px;margin-right:3px;'
        f'background:{PALETTE[i % len(PALETTE)]}"></span>{esc(label)}</span>'
        for i, label in enumerate(labels)
    )
    return f'<div class="zw-legend" style="font-size:11px;line-height:1.6">{items}</div>'


def _charts(charts: Sequence[tuple[str, Sequence[Curve]]], log_scale: bool, x_label: str) -> str:
    return "".join(
        f'<div class="zw-curves-cell" style="display:inline-block;vertical-align:top">'
        f"{curves_svg(curves, title=title, log_scale=log_scale, x_label=x_label)}</div>"
        for title, curves in charts
    )


def curves_html(
    charts: Sequence[tuple[str, Sequence[Curve]]],
    *,
    log_scale: bool | None = None,
    legend: Sequence[str] = (),
    x_label: str = "step",
) -> str:
    """Charts side by side (wrapping), each ``(title, curves)``, with a ``legend`` when given.

    ``log_scale`` ``True`` / ``False`` draws that scale only (a caller with its own switch, such
    as the explorer's); ``None`` draws both with a "log scale" checkbox that shows one or the
    other by CSS alone (no JavaScript), for static displays.
    """
    top = legend_html(legend) if legend else ""
    if log_scale is not None:
        body = _charts(charts, log_scale, x_label)
        return f'<div class="zw-curves">{top}{body}</div>'
    linear, log = _charts(charts, False, x_label), _charts(charts, True, x_label)
    key = "zw-log-" + hashlib.sha1((linear + top).encode()).hexdigest()[:10]  # noqa: S324
    style = (
        f"<style>#{key}:checked~.zw-linear{{display:none}}"
        f"#{key}:not(:checked)~.zw-logscale{{display:none}}</style>"
    )
    switch = (
        f'<input type="checkbox" id="{key}" class="zw-log-switch">'
        f'<label for="{key}" style="font-size:11px;margin-left:3px">log scale</label>'
    )
    return (
        f'<div class="zw-curves">{style}{top}{switch}<div class="zw-linear">{linear}</div>'
        f'<div class="zw-logscale">{log}</div></div>'
    )
