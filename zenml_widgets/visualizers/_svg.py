"""Small inline SVG charts: a numeric histogram and a top-values bar chart, per dataset row.

Charts carry ``<title>`` tooltips and need neither JavaScript nor fonts from the network.
Every text that reaches the SVG is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from zenml_widgets.visualizers._format import ValueFormat, count, percent, truncate

HIST_WIDTH = 150
HIST_HEIGHT = 34
AXIS_HEIGHT = 11
BAR_GAP = 1
TOP_WIDTH = 270
TOP_ROW_HEIGHT = 13
TOP_LABEL_CHARS = 16


def _num(x: float) -> str:
    """An SVG coordinate: short and deterministic."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def histogram_span(histograms: Sequence[Any]) -> tuple[float, float]:
    """The finite value range covered by several datasets' histograms (a shared x axis)."""
    edges = [
        edge
        for hist in histograms
        for bucket in hist.buckets
        for edge in (bucket.low_value, bucket.high_value)
        if math.isfinite(edge)
    ]
    return (min(edges), max(edges)) if edges else (0.0, 1.0)


def histogram_peak(histograms: Sequence[Any]) -> float:
    """The largest bucket share among several histograms (bars are scaled to it)."""
    peak = 0.0
    for hist in histograms:
        total = sum(bucket.sample_count for bucket in hist.buckets)
        if total:
            peak = max(peak, max(bucket.sample_count for bucket in hist.buckets) / total)
    return peak


def histogram_svg(
    hist: Any,
    *,
    color: str,
    span: tuple[float, float],
    peak: float,
    fmt: ValueFormat,
) -> str:
    """Bars of an equal-width histogram on a shared axis ``span``, heights relative to ``peak``."""
    buckets = list(hist.buckets)
    total = sum(bucket.sample_count for bucket in buckets)
    low, high = span
    width = high - low
    parts = [
        f'<svg class="zwfs-chart" width="{HIST_WIDTH}" height="{HIST_HEIGHT + AXIS_HEIGHT}" '
        f'viewBox="0 0 {HIST_WIDTH} {HIST_HEIGHT + AXIS_HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="0" y1="{HIST_HEIGHT}" x2="{HIST_WIDTH}" y2="{HIST_HEIGHT}" stroke="#bbb" '
        'stroke-width="1"/>',
    ]
    for index, bucket in enumerate(buckets):
        if width > 0:
            start = (_clamp(bucket.low_value, low, high) - low) / width * HIST_WIDTH
            end = (_clamp(bucket.high_value, low, high) - low) / width * HIST_WIDTH
        else:
            start = index * HIST_WIDTH / len(buckets)
            end = (index + 1) * HIST_WIDTH / len(buckets)
        share = bucket.sample_count / total if total else 0.0
        height = share / peak * (HIST_HEIGHT - 2) if peak else 0.0
        tip = (
            f"[{fmt.value(bucket.low_value)}, {fmt.value(bucket.high_value)}]: "
            f"{count(bucket.sample_count)} ({percent(bucket.sample_count, total)})"
        )
        bar_width = max(end - start - BAR_GAP, 1.0)
        parts.append(
            f'<rect x="{_num(start)}" y="{_num(HIST_HEIGHT - height)}" width="{_num(bar_width)}" '
            f'height="{_num(height)}" fill="{escape(color)}"><title>{escape(tip)}</title></rect>'
        )
    baseline = HIST_HEIGHT + AXIS_HEIGHT - 2
    parts.append(
        f'<text x="0" y="{baseline}" font-size="9" fill="#666">{escape(fmt.short(low))}</text>'
        f'<text x="{HIST_WIDTH}" y="{baseline}" font-size="9" fill="#666" text-anchor="end">'
        f"{escape(fmt.short(high))}</text></svg>"
    )
    return "".join(parts)


def top_values_svg(buckets: Sequence[Any], *, total: float, color: str, limit: int) -> str:
    """Horizontal bars of the ``limit`` most frequent values; bar length is the share of rows."""
    shown = list(buckets)[:limit]
    if not shown:
        return ""
    height = TOP_ROW_HEIGHT * len(shown)
    label_width = 100
    bar_space = TOP_WIDTH - label_width - 44
    parts = [
        f'<svg class="zwfs-chart" width="{TOP_WIDTH}" height="{height}" '
        f'viewBox="0 0 {TOP_WIDTH} {height}" role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, bucket in enumerate(shown):
        label = bucket.label
        y = row * TOP_ROW_HEIGHT
        share = bucket.sample_count / total if total else 0.0
        tip = f"{label}: {count(bucket.sample_count)} ({percent(bucket.sample_count, total)})"
        parts.append(
            f"<g><title>{escape(tip)}</title>"
            f'<text x="{label_width - 4}" y="{y + 10}" font-size="10" fill="#333" '
            f'text-anchor="end">{escape(truncate(label, TOP_LABEL_CHARS))}</text>'
            f'<rect x="{label_width}" y="{y + 2}" width="{_num(max(share * bar_space, 1.0))}" '
            f'height="{TOP_ROW_HEIGHT - 4}" fill="{escape(color)}"/>'
            f'<text x="{_num(label_width + share * bar_space + 4)}" y="{y + 10}" font-size="9" '
            f'fill="#666">{escape(percent(bucket.sample_count, total))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _clamp(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)
