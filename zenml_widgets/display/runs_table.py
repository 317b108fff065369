"""Rich displays of runs as data: the runs table and small offline SVG charts of its columns.

Plain HTML and inline SVG (hover text is SVG ``<title>``), so they show in JupyterLab, VS Code and
exported HTML without JavaScript. Every name and value is escaped.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zenml_widgets.visualizers.html import (
    BORDER,
    MUTED,
    TEXT,
    block,
    esc,
    fmt_time,
    status_badge,
    text_table,
)

if TYPE_CHECKING:
    from zenml_widgets.views.runs_table import RunsChart, RunsTable

MAX_ROWS = 200
WIDTH, HEIGHT = 520, 220
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 56, 12, 12, 34


def format_value(column: str, value: Any) -> str:
    """A cell as text: numbers to 6 significant digits, times in UTC, ``-`` when missing."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return fmt_time(value)
    if column == "duration" and isinstance(value, float):
        return f"{value:.2f} s"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def header_label(table: RunsTable, column: str) -> str:
    """The column name with an arrow when the table is sorted by it."""
    if column != table.sort:
        return column
    return f"{column} {'▼' if table.descending else '▲'}"


def table_html(table: RunsTable, *, max_rows: int = MAX_ROWS) -> str:
    """The rows as an escaped HTML table (status as a badge, numbers right-aligned)."""
    head = "".join(
        f'<th title="{esc(kind)}">{esc(header_label(table, c))}</th>'
        for c, kind in zip(table.columns, table.kinds, strict=True)
    )
    body = []
    for row in table.rows[:max_rows]:
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            if column == "status" and isinstance(value, str):
                cells.append(f"<td>{status_badge(value)}</td>")
            elif isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(f'<td class="zw-num">{esc(format_value(column, value))}</td>')
            else:
                cells.append(f"<td>{esc(format_value(column, value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    # One line per run: a wide table scrolls sideways in its own box instead of wrapping
    # names and times over several lines; the run names stay in view (a sticky column).
    return (
        '<div class="zw-scroll">'
        '<table class="zw-runs-table zw-sticky" style="white-space:nowrap">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _summary(table: RunsTable, shown: int) -> str:
    plus = "+" if table.total_is_lower_bound else ""
    total = f" of {table.total:,}{plus}" if table.total is not None else ""
    more = f" (first {shown} shown)" if shown < len(table) else ""
    return f"{len(table)}{total} runs{more}"


def runs_table_bundle(table: RunsTable) -> dict[str, Any]:
    """HTML table plus a text table of the same rows."""
    shown = min(len(table), MAX_ROWS)
    rows = [
        [format_value(c, v) for c, v in zip(table.columns, row, strict=True)]
        for row in table.rows[:shown]
    ]
    plain = f"{table!r}\n" + text_table([header_label(table, c) for c in table.columns], rows)
    title = f"Runs of {esc(table.title)}: {esc(_summary(table, shown))}"
    inner = table_html(table, max_rows=shown) if len(table) else "<i>No runs match.</i>"
    return {"text/plain": plain, "text/html": block(title, inner)}


# -- charts ----------------------------------------------------------------------------------------


def _ticks(low: float, high: float) -> tuple[float, float]:
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


def chart_svg(chart: RunsChart, *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """The chart as a self-contained SVG; each point's ``<title>`` names its run."""
    points = chart.points()
    x_label = chart.x if chart.x is not None else "runs (start order)"
    plot_w = width - _PAD_LEFT - _PAD_RIGHT
    plot_h = height - _PAD_TOP - _PAD_BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="zw-runs-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(chart.y)} against {esc(x_label)}">',
        f'<rect x="{_PAD_LEFT}" y="{_PAD_TOP}" width="{plot_w}" height="{plot_h}" '
        f'fill="none" style="stroke:{BORDER}"/>',
    ]
    if not points:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" '
            f'font-size="12" style="fill:{MUTED}">no numeric values of {esc(chart.y)}</text></svg>'
        )
        return "".join(parts)
    x0, x1 = _ticks(min(p[0] for p in points), max(p[0] for p in points))
    y0, y1 = _ticks(min(p[1] for p in points), max(p[1] for p in points))

    def sx(x: float) -> float:
        return _PAD_LEFT + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return _PAD_TOP + (1 - (y - y0) / (y1 - y0)) * plot_h

    # The axes are labelled with the data's own extremes, where they are drawn (not with the
    # padded bounds of the plot area).
    low, high = min(p[1] for p in points), max(p[1] for p in points)
    for value in (high, low) if high != low else (high,):
        parts.append(_tick(_PAD_LEFT - 4, sy(value) + 4, "end", value))
    if chart.x is not None:
        left, right = min(p[0] for p in points), max(p[0] for p in points)
        for value in (left, right) if left != right else (left,):
            parts.append(_tick(sx(value), _PAD_TOP + plot_h + 12, "middle", value))
    parts.append(_axis_names(x_label, chart.y, plot_w, plot_h, height))
    if chart.x is None and len(points) > 1:
        line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1565c0" stroke-width="1.5"/>')
    radius = 3.0 if len(points) <= 300 else 1.5
    for x, y, name in points:
        shown_x = "" if chart.x is None else f"{chart.x} = {x:.6g}, "
        parts.append(
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{radius}" fill="#1565c0">'
            f"<title>{esc(f'{name}: {shown_x}{chart.y} = {y:.6g}')}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _tick(x: float, y: float, anchor: str, value: float) -> str:
    """An axis label: ``value`` at ``(x, y)``."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="10" '
        f'style="fill:{MUTED}">{esc(f"{value:.4g}")}</text>'
    )


def _axis_names(x: str, y: str, plot_w: float, plot_h: float, height: int) -> str:
    """The names of the axes: ``x`` under the plot, ``y`` along its left side."""
    middle = _PAD_TOP + plot_h / 2
    return (
        f'<text x="{_PAD_LEFT + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" '
        f'font-size="11" style="fill:{TEXT}">{esc(x)}</text>'
        f'<text x="12" y="{middle:.1f}" text-anchor="middle" font-size="11" '
        f'style="fill:{TEXT}" transform="rotate(-90 12 {middle:.1f})">{esc(y)}</text>'
    )


def runs_chart_bundle(chart: RunsChart) -> dict[str, Any]:
    """The SVG chart in HTML, and a text summary."""
    points = chart.points()
    if chart.x is None:
        title = f"{chart.y} over {len(points)} runs of {chart.table.title}"
    else:
        title = f"{chart.y} against {chart.x}: {len(points)} runs of {chart.table.title}"
    plain = f"{chart!r}"
    if points:
        ys = [p[1] for p in points]
        best = max(points, key=lambda p: p[1])
        plain += (
            f"\n{chart.y}: min {min(ys):.6g}, max {max(ys):.6g} (run {best[2]}), "
            f"last {points[-1][1]:.6g} (run {points[-1][2]})"
        )
    return {"text/plain": plain, "text/html": block(esc(title), chart_svg(chart))}
