"""The HTML building blocks, at the path they had before they moved to
:mod:`zenml_widgets.visualizers.html` (their one home, the lowest layer that uses them)."""

from __future__ import annotations

from zenml_widgets.visualizers.html import (
    CSS_CLASS,
    STYLE,
    block,
    esc,
    fmt_duration,
    fmt_size,
    fmt_time,
    key_values,
    status_badge,
    table,
    text_table,
)

__all__ = [
    "CSS_CLASS",
    "STYLE",
    "block",
    "esc",
    "fmt_duration",
    "fmt_size",
    "fmt_time",
    "key_values",
    "status_badge",
    "table",
    "text_table",
]
