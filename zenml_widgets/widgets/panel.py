"""``Panel``: what the explorer asks of each of its panels (DAG, comparison, runs table...).

A panel owns one box of widgets (``widget``) and renders the state's current selection into it
(``show(state)``, called once after each settled change of the selection). What it does on a
click goes to callables it was given when it was made: a panel never imports the explorer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import ipywidgets as w

    from zenml_widgets.widgets.state import ExplorerState


@runtime_checkable
class Panel(Protocol):
    """A box of the explorer that shows something of the current selection."""

    @property
    def widget(self) -> w.Widget:
        """The panel's box, placed in the explorer's layout."""
        ...

    def show(self, state: ExplorerState) -> None:
        """Render for the state's current selection (runs once per settled change)."""
        ...

    def close(self) -> None:
        """Close the panel's widgets (the explorer is closed)."""
        ...


def close_all(widget: Any) -> None:
    """Close ``widget`` and every widget in it (the children of boxes, recursively)."""
    for child in getattr(widget, "children", ()):
        close_all(child)
    widget.close()
