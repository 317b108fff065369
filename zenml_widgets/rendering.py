"""The renderer registry: views say *what* they are, ``zenml_widgets.display`` says *how*.

Views call ``mimebundle(self, kind)``. This module is in the Visual layer, below the views; the
displays are above them, because they read views. The built-in renderers are therefore plug-ins:
:data:`BUILTIN_RENDERERS` names each one by its dotted path (``"module:function"``), and their
modules are imported the first time something is displayed. Nothing else here imports the display
layer. ``tests/test_layers.py`` reads this table: its entries are the only upward edge it allows
from this module, it counts them as registrations (not dependencies) when it looks for import
circles, and it checks that each one resolves to a function.

Users ``register`` their own renderer for a kind; theirs is used instead of the built-in one. A
renderer that fails never hides the object: the bundle then holds its repr and a short error.
"""

from __future__ import annotations

import html
import importlib
import traceback
from collections.abc import Callable
from typing import Any

MimeBundle = dict[str, Any]
Renderer = Callable[[Any], MimeBundle]

#: The built-in renderer of each kind of object, as ``"module:function"``.
BUILTIN_RENDERERS: dict[str, str] = {
    "repository": "zenml_widgets.display.views:repository_bundle",
    "pipeline": "zenml_widgets.display.views:pipeline_bundle",
    "run": "zenml_widgets.display.views:run_bundle",
    "step": "zenml_widgets.display.views:step_bundle",
    "artifact": "zenml_widgets.display.views:artifact_bundle",
    "run_comparison": "zenml_widgets.display.compare:run_comparison_bundle",
    "output_comparison": "zenml_widgets.display.compare:output_comparison_bundle",
    "runs_table": "zenml_widgets.display.runs_table:runs_table_bundle",
    "runs_chart": "zenml_widgets.display.runs_table:runs_chart_bundle",
    "step_curves": "zenml_widgets.display.curves:step_curves_bundle",
    "run_curves": "zenml_widgets.display.curves:run_curves_bundle",
}

_renderers: dict[str, Renderer] = {}
_builtin: dict[str, Renderer] = {}
_loaded = False


def register(kind: str, renderer: Renderer) -> None:
    """Use ``renderer(obj) -> mimebundle`` for objects of ``kind`` (e.g. ``"run"``)."""
    _renderers[kind] = renderer


def load(path: str) -> Renderer:
    """The function that the dotted ``"module:function"`` path names, importing its module."""
    module, _, name = path.partition(":")
    renderer: Renderer = getattr(importlib.import_module(module), name)
    return renderer


def get(kind: str) -> Renderer | None:
    """The renderer for ``kind``: a registered one, else the built-in one (``None``: none)."""
    global _loaded
    if kind in _renderers:
        return _renderers[kind]
    if not _loaded:
        # Marked loaded only once every import worked: a failing import is reported by every
        # display (see ``mimebundle``), never swallowed after the first.
        _builtin.update({k: load(path) for k, path in BUILTIN_RENDERERS.items()})
        _loaded = True
    return _builtin.get(kind)


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
                f"<pre style='color:var(--jp-error-color1,#b00020)'>rich display failed: "
                f"{html.escape(short)}</pre>"
            ),
        }
    bundle.setdefault("text/plain", repr(obj))
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include or k == "text/plain"}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude or k == "text/plain"}
    return bundle
