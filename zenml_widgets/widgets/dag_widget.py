"""``DagWidget``: a run's DAG that can be clicked, zoomed, panned and reached with the keyboard.

An anywidget widget (https://anywidget.dev): its ES module and CSS ship inside the package
(``static/dag.js``, ``static/dag.css``), so it works the same in JupyterLab, Notebook 7, VS Code
and Colab, needs no lab extension build and loads nothing from the network. The picture is the
SVG of :mod:`zenml_widgets.visualizers.dag` (every name escaped there, coloured by status from its
``COLOURS``); the module only adds what a picture cannot do: a click (or Enter / Space on a step
reached with Tab and the arrow keys) sets ``selected``; the DAG fits the cell's width, and zooms
(buttons, Ctrl/Cmd + wheel) and pans (drag) for large graphs.

Where no widget can run (an exported notebook, ``text/html``), the widget shows as that SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
from traitlets import Unicode

from zenml_widgets.visualizers.dag import dag_html

__all__ = ["DagWidget"]

STATIC = Path(__file__).parent / "static"


class DagWidget(anywidget.AnyWidget):
    """The interactive DAG of one run.

    Example:
        >>> from zenml_widgets.display.dag import dag_svg  # doctest: +SKIP
        >>> DagWidget(svg=dag_svg(run), key=run.name, title="DAG")  # doctest: +SKIP
    """

    _esm = (STATIC / "dag.js").read_text(encoding="utf-8")
    _css = (STATIC / "dag.css").read_text(encoding="utf-8")

    svg = Unicode("", help="The DAG's SVG (zenml_widgets.visualizers.dag), names escaped.").tag(
        sync=True
    )
    key = Unicode("", help="Which run is drawn: a new key fits the new picture to the cell.").tag(
        sync=True
    )
    title = Unicode("", help="The line above the picture (plain text).").tag(sync=True)
    selected = Unicode(
        None, allow_none=True, help="The selected step's name; set by a click or Enter."
    ).tag(sync=True)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, and the static SVG for front ends without widgets (exports)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict) and self.svg:
            data["text/html"] = dag_html(self.svg)
        return bundle
