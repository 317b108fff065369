"""The IPython extension: ``%load_ext zenml_widgets`` adds ``%zenml_history`` and display hooks.

Views already render through their ``_repr_mimebundle_``; the extension adds a ``text/html``
formatter for Keras models (registered by type name, so Keras is never imported here).
``zenml_widgets.extension.autoload`` is the variant that installation loads in every kernel.
"""

from __future__ import annotations

from typing import Any

# Where Keras 3, Keras 2 and tf-keras define ``Model``; subclasses match through their MRO.
KERAS_MODELS = (
    "keras.src.models.model.Model",
    "keras.src.engine.training.Model",
    "keras.engine.training.Model",
    "tf_keras.src.engine.training.Model",
)


def keras_model_html(model: Any) -> str | None:
    """The model's layer summary as HTML, or ``None`` (plain repr) without the summary module."""
    try:
        from zenml_widgets.display.keras_summary import model_summary_html
    except ImportError:
        return None
    return model_summary_html(model)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%zenml_history`` and the Keras model formatter with ``ipython``."""
    from zenml_widgets.magics import HistoryMagics

    ipython.register_magics(HistoryMagics)
    html = ipython.display_formatter.formatters["text/html"]
    for path in KERAS_MODELS:
        module, name = path.rsplit(".", 1)
        html.for_type_by_name(module, name, keras_model_html)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what ``load_ipython_extension`` registered."""
    ipython.magics_manager.magics["line"].pop("zenml_history", None)
    html = ipython.display_formatter.formatters["text/html"]
    for path in KERAS_MODELS:
        html.pop(path, None)
