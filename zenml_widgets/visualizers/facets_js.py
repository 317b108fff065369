"""The official Facets Overview web component, fed with our statistics proto.

This follows the facets README for notebooks: it loads the webcomponents polyfill from cdnjs and
``facets-jupyter.html`` from raw.githubusercontent.com, then hands the base64-encoded proto to a
``<facets-overview>`` element. **It needs internet access** (and a notebook that runs output
scripts, i.e. a trusted one); without it, the element shows the note inside it instead.
The default, :func:`zenml_widgets.visualizers.statistics_html.statistics_html`, needs neither.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from zenml_widgets.visualizers.statistics import statistics_to_bytes

__all__ = ["FACETS_HTML_URL", "WEBCOMPONENTS_URL", "facets_overview_html"]

#: The web components polyfill (HTML imports) the facets README loads.
WEBCOMPONENTS_URL = (
    "https://cdnjs.cloudflare.com/ajax/libs/webcomponentsjs/1.3.3/webcomponents-lite.js"
)
#: The built Facets Overview / Dive component for notebooks.
FACETS_HTML_URL = (
    "https://raw.githubusercontent.com/PAIR-code/facets/1.0.0/facets-dist/facets-jupyter.html"
)


def facets_overview_html(statistics: Any, *, title: str | None = None) -> str:
    """HTML that shows ``statistics`` in the official ``<facets-overview>`` element.

    The element is found through a ``data-`` attribute derived from the statistics' hash, so the
    output is deterministic and two outputs on one page do not interfere.

    Args:
        statistics: a ``DatasetFeatureStatisticsList``.
        title: an optional heading.

    Returns:
        An HTML fragment with ``<script>`` and ``<link>`` tags pointing at the network.
    """
    data = statistics_to_bytes(statistics)
    encoded = base64.b64encode(data).decode("ascii")
    key = hashlib.sha256(data).hexdigest()[:16]
    heading = f"<div><strong>{escape(title)}</strong></div>\n" if title else ""
    return (
        f"{heading}"
        f'<script src="{WEBCOMPONENTS_URL}"></script>\n'
        f'<link rel="import" href="{FACETS_HTML_URL}">\n'
        f'<facets-overview data-zwfs-key="{key}">'
        "Facets Overview loads its code from the internet (cdnjs.cloudflare.com and "
        "raw.githubusercontent.com). If this text stays, you are offline or the notebook is not "
        "trusted: use use_facets_js=False for the built-in view.</facets-overview>\n"
        "<script>\n"
        f"document.querySelectorAll('facets-overview[data-zwfs-key=\"{key}\"]')"
        f'.forEach(function (el) {{ el.protoInput = "{encoded}"; }});\n'
        "</script>"
    )
