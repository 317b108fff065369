"""Small, escaped HTML building blocks shared by every rendering: tables, key/value tables,
titled blocks, status badges, formatted times and sizes, and their plain-text counterparts.

This is the one home of the package's HTML helpers (``zenml_widgets.display.html`` re-exports
them). It imports only the standard library, so drawing a run or previewing an object never
imports pandas. The Facets statistics rendering lives in
:mod:`zenml_widgets.visualizers.statistics_html`; ``statistics_html``, ``standalone_html`` and
``COLORS`` can also be imported from here, and are loaded (with pandas) on first use.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zenml_widgets.visualizers.statistics_html import COLORS, standalone_html, statistics_html

__all__ = [
    "COLORS",
    "CSS_CLASS",
    "MAX_TEXT",
    "STYLE",
    "block",
    "esc",
    "fmt_duration",
    "fmt_size",
    "fmt_time",
    "key_values",
    "preformatted",
    "standalone_html",
    "statistics_html",
    "status_badge",
    "table",
    "text_table",
    "truncate_text",
]

_STATISTICS_HTML = ("COLORS", "standalone_html", "statistics_html")
#: Longest text a preview shows before cutting it (see :func:`preformatted`).
MAX_TEXT = 4000

CSS_CLASS = "zw"
# Selectors start with div.zw so that they outrank JupyterLab's own table rules
# (.jp-RenderedHTMLCommon tbody td aligns right and drops borders).
STYLE = """<style>
div.zw{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;color:var(--jp-ui-font-color1,#222)}
div.zw table{border-collapse:collapse;margin:4px 0;table-layout:auto}
div.zw table th,div.zw table td{padding:2px 8px;border:none;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top;white-space:normal}
div.zw table th{font-weight:600;background:rgba(127,127,127,.08)}
div.zw .zw-title{font-weight:600;margin:2px 0}
div.zw .zw-muted{color:#777}
div.zw code{font-family:var(--jp-code-font-family,monospace);font-size:12px}
div.zw pre{margin:0;white-space:pre-wrap}
div.zw .zw-status{padding:0 6px;border-radius:8px;color:#fff;font-size:11px}
div.zw .zw-completed{background:#2e7d32}div.zw .zw-cached{background:#1565c0}
div.zw .zw-failed{background:#c62828}div.zw .zw-running{background:#ef6c00}
</style>"""


def esc(value: Any) -> str:
    """``value`` as escaped HTML text (quotes included)."""
    return html.escape(str(value), quote=True)


def fmt_time(value: datetime | None) -> str:
    """A timestamp to the second, UTC, or ``-``."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def fmt_duration(value: timedelta | None) -> str:
    """``1.23 s``, ``2 min 03 s``, or ``-`` while unfinished."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fmt_size(value: int | None) -> str:
    """Bytes as ``12.3 MB``."""
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def status_badge(status: str) -> str:
    """A coloured status label."""
    return f'<span class="zw-status zw-{esc(status)}">{esc(status)}</span>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then the caller escaped them)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def key_values(pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column table of already-escaped values, keys escaped here."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f"<table><tbody>{body}</tbody></table>"


def block(title: str, *parts: str) -> str:
    """A styled container with an escaped title and raw (already escaped) parts."""
    inner = "".join(parts)
    return f'{STYLE}<div class="{CSS_CLASS}"><div class="zw-title">{title}</div>{inner}</div>'


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with aligned columns."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def truncate_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut after ``limit`` characters, saying how many more there were."""
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit:,} more)"


def preformatted(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` (escaped here, cut after ``limit`` characters) in a scrolling ``<pre>``."""
    style = "margin:2px 0;max-height:24em;overflow:auto"
    return f"<pre style='{style}'>{esc(truncate_text(text, limit))}</pre>"


def __getattr__(name: str) -> Any:
    if name in _STATISTICS_HTML:
        import zenml_widgets.visualizers.statistics_html as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
