"""Notebook widgets: ``HistoryExplorer`` browses pipeline -> run -> step -> output.

This package imports ipywidgets; ``import zenml_widgets`` does not (it reaches this package
lazily, on first use of ``zenml_widgets.HistoryExplorer``).
"""

from __future__ import annotations

from zenml_widgets.widgets.explorer import HistoryExplorer

__all__ = ["HistoryExplorer"]
