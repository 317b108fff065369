"""Small, escaped HTML building blocks shared by every rendering: tables, key/value tables,
titled blocks, status badges, formatted times and sizes, and their plain-text counterparts.

This is the one home of the package's HTML helpers (``zenml_widgets.display.html`` re-exports
those the notebook layer uses). It imports only the standard library, so drawing a run or
previewing an object never imports pandas. The Facets statistics rendering lives in
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
    "BORDER",
    "COLORS",
    "CSS_CLASS",
    "ERROR",
    "MAX_TEXT",
    "MUTED",
    "SCOPE",
    "STATUS_COLOURS",
    "STYLE",
    "TEXT",
    "block",
    "error_html",
    "esc",
    "fmt_duration",
    "fmt_size",
    "fmt_time",
    "key_values",
    "muted_html",
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
#: Colours: JupyterLab's theme variables (light and dark themes, Notebook 7 too), with light
#: fallbacks for exported HTML and plain pages.
TEXT = "var(--jp-ui-font-color1,#1f1f1f)"
MUTED = "var(--jp-ui-font-color2,#616161)"
ERROR = "var(--jp-error-color1,#b00020)"
BORDER = "var(--jp-border-color2,#e0e0e0)"
#: Badge colours by status: white text on them has a contrast of at least 4.5:1.
STATUS_COLOURS = {
    "completed": "#2e7d32",
    "cached": "#1565c0",
    "failed": "#c62828",
    "running": "#b34d00",
    "pending": "#5e35b1",
    "skipped": "#616161",
}
#: Every rule starts with this. ``:not(#zw-scope)`` counts as an id: the rules outrank the
#: front end's own (JupyterLab's ``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`` aligns
#: cells right, its tables are ``table-layout:fixed`` with auto margins, its ``code`` and ``pre``
#: get backgrounds and sizes), in JupyterLab 4, Notebook 7 and VS Code alike.
SCOPE = "div.zw:not(#zw-scope)"
_BADGES = "".join(f"{SCOPE} .zw-{k}{{background:{v}}}" for k, v in STATUS_COLOURS.items())
STYLE = (
    "<style>"
    f"{SCOPE}{{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;"
    f"line-height:1.4;color:{TEXT};text-align:left;max-width:100%;overflow-x:auto}}"
    f"{SCOPE} table{{border-collapse:collapse;margin:4px 0;table-layout:auto;width:auto;"
    "max-width:100%;color:inherit;font-size:inherit;border:none}"
    f"{SCOPE} th,{SCOPE} td,{SCOPE} tr{{text-align:left;vertical-align:top;white-space:normal;"
    "line-height:1.4;max-width:none}"
    f"{SCOPE} th,{SCOPE} td{{padding:2px 8px;border:none;border-bottom:1px solid {BORDER};"
    "overflow-wrap:break-word;word-break:normal}"
    f"{SCOPE} tbody tr,{SCOPE} tbody tr:nth-child(odd),{SCOPE} tbody tr:nth-child(even)"
    "{background:transparent}"
    f"{SCOPE} tbody tr:hover{{background:rgba(127,127,127,.08)}}"
    f"{SCOPE} th{{font-weight:600;background:rgba(127,127,127,.08)}}"
    f"{SCOPE} td.zw-num,{SCOPE} th.zw-num{{text-align:right;white-space:nowrap}}"
    f"{SCOPE} .zw-title{{font-weight:600;margin:2px 0}}"
    f"{SCOPE} .zw-muted{{color:{MUTED}}}"
    f"{SCOPE} .zw-error{{color:{ERROR}}}"
    f"{SCOPE} code{{font-family:var(--jp-code-font-family,monospace);font-size:12px;"
    "color:inherit;background:rgba(127,127,127,.12);padding:0 3px;border-radius:3px;"
    "overflow-wrap:anywhere}"
    f"{SCOPE} pre{{margin:0;padding:0;border:none;white-space:pre-wrap;overflow-wrap:break-word;"
    "word-break:normal;font-family:var(--jp-code-font-family,monospace);font-size:12px;"
    "color:inherit;background:transparent;text-align:left}"
    f"{SCOPE} pre code{{background:transparent;padding:0}}"
    f"{SCOPE} .zw-status{{display:inline-block;padding:0 6px;border-radius:8px;color:#fff;"
    "font-size:11px;line-height:1.5;white-space:nowrap}"
    f"{SCOPE} .zw-scroll{{overflow-x:auto;max-width:100%}}"
    f"{SCOPE} table.zw-sticky th:first-child,{SCOPE} table.zw-sticky td:first-child"
    "{position:sticky;left:0;z-index:1;background:var(--jp-layout-color0,#fff);"
    f"box-shadow:1px 0 0 {BORDER}}}"
    f"{SCOPE} table.zw-sticky th:first-child{{background:linear-gradient(rgba(127,127,127,.08),"
    "rgba(127,127,127,.08)),var(--jp-layout-color0,#fff)}"
    f"{_BADGES}</style>"
)


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


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    raw: bool = False,
    numeric: Iterable[int] = (),
) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then the caller escaped them). The
    columns at the ``numeric`` positions are aligned right."""
    right = set(numeric)

    def cell(tag: str, index: int, text: str) -> str:
        css = ' class="zw-num"' if index in right else ""
        return f"<{tag}{css}>{text}</{tag}>"

    head = "".join(cell("th", i, esc(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c if raw else esc(c)) for i, c in enumerate(row)) + "</tr>"
        for row in rows
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


def error_html(text: str) -> str:
    """``text`` (escaped here) as an error message that keeps its line breaks; readable in light
    and dark themes, with or without ``STYLE``."""
    style = f"color:{ERROR};white-space:pre-wrap;overflow-wrap:break-word"
    return f"<div class='zw-error' style='{style}'>{esc(text)}</div>"


def muted_html(text: str) -> str:
    """``text`` (escaped here) in the muted colour, with or without ``STYLE``."""
    return f"<span class='zw-muted' style='color:{MUTED}'>{esc(text)}</span>"


def __getattr__(name: str) -> Any:
    if name in _STATISTICS_HTML:
        import zenml_widgets.visualizers.statistics_html as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
