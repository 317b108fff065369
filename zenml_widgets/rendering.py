"""The renderer registry: views say *what* they are, ``zenml_widgets.display`` says *how*.

Views call ``mimebundle(self, kind)``. The first call imports ``zenml_widgets.display``, which
registers the built-in renderers; users may ``register`` their own for a kind. A renderer that
fails never hides the object: the bundle then holds its repr and a short error.
"""

from __future__ import annotations

import html
import importlib
import traceback
from collections.abc import Callable
from typing import Any

MimeBundle = dict[str, Any]
Renderer = Callable[[Any], MimeBundle]

_renderers: dict[str, Renderer] = {}
_loaded = False


def register(kind: str, renderer: Renderer) -> None:
    """Use ``renderer(obj) -> mimebundle`` for objects of ``kind`` (e.g. ``"run"``)."""
    _renderers[kind] = renderer


def get(kind: str) -> Renderer | None:
    """The renderer for ``kind``, loading the built-in ones on first use."""
    global _loaded
    if not _loaded:
        # Marked loaded only once the import worked: a failing import is reported by every
        # display (see ``mimebundle``), never swallowed after the first.
        importlib.import_module("zenml_widgets.display")
        _loaded = True
    return _renderers.get(kind)


def mimebundle(
    obj: Any,
    kind: str,
    include: Any = None,
    exclude: Any = None,
) -> MimeBundle:
    """The mimebundle of ``obj``; always has ``text/plain``."""
    bundle: MimeBundle
    try:
        renderer = get(kind)
        bundle = renderer(obj) if renderer is not None else {}
    except Exception as e:
        short = "".join(traceback.format_exception_only(type(e), e)).strip()
        bundle = {
            "text/plain": f"{obj!r}\n(rich display failed: {short})",
            "text/html": (
                f"<pre>{html.escape(repr(obj))}</pre>"
                f"<pre style='color:#b00'>rich display failed: {html.escape(short)}</pre>"
            ),
        }
    bundle.setdefault("text/plain", repr(obj))
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include or k == "text/plain"}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude or k == "text/plain"}
    return bundle
