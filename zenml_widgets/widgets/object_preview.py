"""A short, escaped HTML preview of an object read from an artifact, and a one-line description.

What an object shows is up to its type: the materializer found for it along its MRO
(``default_registry``, see :mod:`zenml_widgets.materializers.capabilities`) previews it
(DataFrames: shape, dtypes and head; Keras models: their layer summary; containers and values:
their truncated JSON or repr). This module only asks it, and turns a failing preview into a
short message. No library is imported to decide: pandas, numpy or Keras objects exist only once
their library is loaded.
"""

from __future__ import annotations

from typing import Any

from zenml_widgets.materializers import capabilities
from zenml_widgets.materializers.base import type_path
from zenml_widgets.visualizers.html import block, error_html, esc

__all__ = ["describe", "is_keras_model", "is_model", "object_preview_html", "type_path"]


def is_model(obj: Any) -> bool:
    """Whether ``obj``'s type is a model type (it shows a layer summary, e.g. Keras)."""
    return capabilities.MODEL in capabilities.capabilities_of(obj)


#: The name this check had when Keras was the only model type.
is_keras_model = is_model


def object_preview_html(obj: Any) -> str:
    """The preview of a read object; a failure shows as a short message, never an exception."""
    try:
        return capabilities.preview_html(obj)
    except Exception as e:
        return block(
            f"<code>{esc(type_path(obj))}</code>",
            error_html(f"Preview failed: {type(e).__name__}: {e}"),
        )


def describe(obj: Any) -> str:
    """A one-line plain description, e.g. ``DataFrame (50 rows, 2 columns)``."""
    return capabilities.describe(obj)
