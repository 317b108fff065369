"""A step's log lines as HTML: every text escaped, each stream in its own colour, ANSI colour
codes (``\\x1b[31m``...) rendered as colours and every other escape sequence dropped.

Used by the explorer's Logs panel (``widgets/logs_panel.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from zenml_widgets.artifacts.step_logs import SPLIT, STREAMS, LogLine, line_text
from zenml_widgets.visualizers.html import ERROR, MUTED, TEXT, esc

#: Colours of the lines by stream (a logging record's by its level).
STREAM_COLOURS = {
    "stdout": TEXT,
    "stderr": ERROR,
    "WARNING": "#b34d00",
    "ERROR": ERROR,
    "CRITICAL": ERROR,
    "cut": MUTED,
    "note": MUTED,
}
#: The colour of logging records of the other levels (INFO, DEBUG).
RECORD_COLOUR = "#1565c0"
#: The ANSI foreground colours (30-37, and 90-97 bright), readable on light and dark themes.
ANSI = ("#616161", "#c62828", "#2e7d32", "#b38600", "#1565c0", "#8e24aa", "#00838f", "#9e9e9e")
_ESCAPE = re.compile(
    r"\x1b\[([0-9;?]*)([A-Za-z])"  # CSI: colours (m), cursor moves, clears
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: a window title, a link
    r"|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]"  # other escapes, control characters
)


def stream_colour(stream: str) -> str:
    """The colour of a line of ``stream`` (``stdout``, ``stderr`` or a logging level)."""
    if stream in STREAM_COLOURS:
        return STREAM_COLOURS[stream]
    return RECORD_COLOUR


def strip_ansi(text: str) -> str:
    """``text`` without escape sequences and control characters (but tabs)."""
    return _ESCAPE.sub("", text)


def ansi_html(text: str) -> str:
    """``text`` escaped, its SGR colour codes (30-37, 90-97, bold, reset) as ``<span>``s,
    every other escape sequence and control character dropped."""
    out: list[str] = []
    open_spans = 0
    pos = 0
    for match in _ESCAPE.finditer(text):
        out.append(esc(text[pos : match.start()]))
        pos = match.end()
        if match.group(2) != "m":
            continue  # cursor moves, clears, ...: nothing to show
        style = _sgr_style(match.group(1))
        if style is None:  # a reset
            out.append("</span>" * open_spans)
            open_spans = 0
        elif style:
            out.append(f"<span style='{style}'>")
            open_spans += 1
    out.append(esc(text[pos:]))
    out.append("</span>" * open_spans)
    return "".join(out)


def _sgr_style(params: str) -> str | None:
    """The CSS of an SGR sequence's parameters; ``None`` for a reset, ``""`` for nothing."""
    codes = [int(c) for c in params.split(";") if c.isdigit()] or [0]
    styles = []
    for code in codes:
        if code == 0:
            return None
        if code == 1:
            styles.append("font-weight:600")
        elif 30 <= code <= 37:
            styles.append(f"color:{ANSI[code - 30]}")
        elif 90 <= code <= 97:
            styles.append(f"color:{ANSI[code - 90]}")
    return ";".join(styles)


def joined(lines: Iterable[LogLine]) -> list[LogLine]:
    """``lines`` with the pieces of a split line joined again (one line each)."""
    out: list[LogLine] = []
    for line in lines:
        if line.flag == SPLIT and out:
            last = out[-1]
            out[-1] = LogLine(last.time, last.stream, last.logger, last.message + line.message)
        else:
            out.append(line)
    return out


def log_html(lines: Sequence[LogLine], *, ansi: bool = True) -> str:
    """``lines`` as one ``<pre>`` in a box scrolled to its end: each line in its stream's
    colour, logging records as ``LEVEL:logger:message``; ANSI colours rendered (``ansi``) or
    stripped."""
    rows = []
    for line in lines:
        text = line.message if line.stream in STREAMS else line_text(line)
        body = ansi_html(text) if ansi else esc(strip_ansi(text))
        stream = esc(line.stream)
        rows.append(
            f"<span class='zw-log-line' data-stream='{stream}' "
            f"style='color:{stream_colour(line.stream)}'>{body}</span>"
        )
    # column-reverse: the box opens scrolled to its end, where new lines come
    return (
        "<div class='zw-logs-scroll' style='max-height:360px;overflow:auto;display:flex;"
        "flex-direction:column-reverse'><pre class='zw-logs' style='margin:0;"
        "white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;line-height:1.35'>"
        + "\n".join(rows)
        + "</pre></div>"
    )
