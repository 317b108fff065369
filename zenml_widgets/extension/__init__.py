"""The IPython extension: ``%load_ext zenml_widgets`` adds ``%zenml_history`` and display hooks.

Views already render through their ``_repr_mimebundle_``. Objects whose own display is a plain
repr, and whose materializer asks for it (``NOTEBOOK_PREVIEW``: Keras models, say), are shown with
that materializer's preview: the extension gives IPython a ``text/html`` formatter for each such
type, by dotted name for the package's lazily imported integrations (Keras is never imported
here), and for materializers defined after the extension was loaded as they are registered.
``zenml_widgets.extension.autoload`` is the variant that installation loads in every kernel.
"""

from __future__ import annotations

from typing import Any

from zenml_widgets.materializers.base import BaseMaterializer
from zenml_widgets.materializers.capabilities import preview_html
from zenml_widgets.materializers.registry import default_registry, notebook_preview_types

_ipython: Any = None
#: What ``load_ipython_extension`` registered with IPython's HTML formatter: classes and
#: ``module.Name`` strings.
_registered: list[Any] = []


def notebook_preview_html(obj: Any) -> str:
    """The HTML IPython shows for ``obj``: its materializer's preview."""
    return preview_html(obj)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%zenml_history`` and the preview formatters with ``ipython``."""
    global _ipython
    from zenml_widgets.magics import HistoryMagics

    ipython.register_magics(HistoryMagics)
    _ipython = ipython
    classes, names = default_registry.notebook_previews()
    _add_formatters(classes, names)
    default_registry.subscribe(_on_register)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what ``load_ipython_extension`` registered."""
    global _ipython
    ipython.magics_manager.magics["line"].pop("zenml_history", None)
    default_registry.unsubscribe(_on_register)
    html = ipython.display_formatter.formatters["text/html"]
    for key in _registered:
        html.pop(key, None)
    _registered.clear()
    _ipython = None


def _on_register(materializer: type[BaseMaterializer]) -> None:
    """A materializer defined after the extension was loaded: its types too."""
    _add_formatters(*notebook_preview_types(materializer))


def _add_formatters(classes: list[type[Any]], names: list[str]) -> None:
    if _ipython is None:
        return
    html = _ipython.display_formatter.formatters["text/html"]
    for cls in classes:
        html.for_type(cls, notebook_preview_html)
        _registered.append(cls)
    for path in names:
        module, name = path.rsplit(".", 1)
        html.for_type_by_name(module, name, notebook_preview_html)
        _registered.append(path)
