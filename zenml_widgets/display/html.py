"""The HTML building blocks that the notebook layer uses, re-exported from their one home,
:mod:`zenml_widgets.visualizers.html` (widgets reach the visual layer only through displays)."""

from __future__ import annotations

from zenml_widgets.visualizers.html import STYLE, block, esc, fmt_duration, fmt_size, fmt_time

__all__ = ["STYLE", "block", "esc", "fmt_duration", "fmt_size", "fmt_time"]
