"""Notebook widgets: ``HistoryExplorer`` browses pipeline -> run -> step -> output.

``HistoryExplorer`` (and so ipywidgets) is imported on first use, so that the explorer's state
(``zenml_widgets.widgets.state``) can be used and tested without any widget. ``import
zenml_widgets`` does not import this package either (it reaches it lazily, on first use of
``zenml_widgets.HistoryExplorer``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zenml_widgets.widgets.explorer import HistoryExplorer

__all__ = ["HistoryExplorer"]


def __getattr__(name: str) -> Any:
    if name == "HistoryExplorer":
        from zenml_widgets.widgets.explorer import HistoryExplorer

        return HistoryExplorer
    raise AttributeError(f"module 'zenml_widgets.widgets' has no attribute {name!r}")
