"""A Keras model's summary as escaped HTML or plain text, from the model.

The summary is collected by :mod:`zenml_widgets.integrations.tensorflow.model_summary` (what a
Keras model shows as a model type) and drawn by :mod:`zenml_widgets.visualizers.model_summary`;
these functions join the two for callers that hold a model. Keras is never imported here.
"""

from __future__ import annotations

from typing import Any

from zenml_widgets.integrations.tensorflow.model_summary import format_shape, summarize
from zenml_widgets.visualizers.model_summary import (
    LayerSummary,
    ModelSummary,
    summary_html,
    summary_text,
)

__all__ = [
    "LayerSummary",
    "ModelSummary",
    "format_shape",
    "model_summary_html",
    "model_summary_text",
    "summarize",
]


def model_summary_text(model: Any) -> str:
    """The model's summary as a fixed-width text table.

    Args:
        model: A Keras model.

    Returns:
        Multi-line text: title, layer table, input/output shapes and parameter counts.
    """
    return summary_text(summarize(model))


def model_summary_html(model: Any) -> str:
    """A Keras ``model``'s summary as escaped HTML (see
    :func:`~zenml_widgets.visualizers.model_summary.summary_html` for what it holds)."""
    return summary_html(summarize(model))
