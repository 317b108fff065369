"""What a Keras model shows as a *model* type: its summary (layers, output shapes, parameter
counts), collected from the model duck-typed (``layers``, ``weights``, ``inputs``...).

This module never imports Keras: it only runs on a model that the caller already has. The
summary is plain data (:class:`~zenml_widgets.visualizers.model_summary.ModelSummary`), drawn
by :mod:`zenml_widgets.visualizers.model_summary`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from zenml_widgets.visualizers.model_summary import LayerSummary, ModelSummary

__all__ = ["format_shape", "summarize"]

_UNKNOWN = "?"


def summarize(model: Any) -> ModelSummary:
    """Collects the facts shown by the summaries from a ``keras.Model``.

    Args:
        model: A Keras model (any object with the ``keras.Model`` attributes).

    Returns:
        A ``ModelSummary`` holding plain strings and numbers only.
    """
    layers = tuple(
        LayerSummary(
            name=str(getattr(layer, "name", _UNKNOWN)),
            type_name=type(layer).__name__,
            output_shape=_layer_output_shape(layer),
            params=_count(_attribute(layer, "weights", ())) if _is_built(layer) else None,
        )
        for layer in getattr(model, "layers", ())
    )
    return ModelSummary(
        name=str(getattr(model, "name", _UNKNOWN)),
        type_name=type(model).__name__,
        layers=layers,
        input_shapes=_model_shapes(model, "inputs"),
        output_shapes=_model_shapes(model, "outputs"),
        trainable_params=_count(_attribute(model, "trainable_weights", ())),
        non_trainable_params=_count(_attribute(model, "non_trainable_weights", ())),
        built=_is_built(model),
    )


def _attribute(obj: Any, name: str, default: Any) -> Any:
    """``getattr`` that also treats Keras's "not defined yet" errors as missing."""
    try:
        return getattr(obj, name, default)
    except (AttributeError, ValueError, RuntimeError):
        return default


def _is_built(layer: Any) -> bool:
    return bool(_attribute(layer, "built", True))


def _count(weights: Iterable[Any]) -> int:
    """Number of scalars in ``weights``, each variable counted once even if listed twice."""
    unique = {id(w): w for w in weights}
    return sum(math.prod(_dims(getattr(w, "shape", ()))) for w in unique.values())


def _dims(shape: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in shape)


def format_shape(shape: Any) -> str:
    """``(None, 8)``-style text for a shape, a nested structure of shapes, or ``?``.

    Args:
        shape: A tuple of ints / ``None``, or a list / dict of such tuples.

    Returns:
        The shape as text; ``?`` when ``shape`` is ``None``.
    """
    if shape is None:
        return _UNKNOWN
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {format_shape(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    dims = [_dim_text(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _dim_text(dim: Any) -> str:
    if dim is None:
        return "None"
    try:
        return str(int(dim))
    except (TypeError, ValueError):
        return str(dim)


def _tensor_shape(tensor: Any) -> Any:
    if isinstance(tensor, dict):
        return {k: _tensor_shape(v) for k, v in tensor.items()}
    if isinstance(tensor, list | tuple):
        return [_tensor_shape(t) for t in tensor]
    return getattr(tensor, "shape", None)


def _layer_output_shape(layer: Any) -> str:
    output = _attribute(layer, "output", None)
    return _UNKNOWN if output is None else format_shape(_tensor_shape(output))


def _model_shapes(model: Any, which: str) -> tuple[str, ...]:
    tensors = _attribute(model, which, None)
    if tensors:
        return tuple(format_shape(_tensor_shape(t)) for t in tensors)
    if which == "inputs":
        # Subclassed models have no symbolic inputs; their build shape is the best we know.
        get_build_config = getattr(model, "get_build_config", None)
        build_config = _call_quietly(get_build_config)
        if isinstance(build_config, dict) and "input_shape" in build_config:
            shape = format_shape(_as_shape(build_config["input_shape"]))
            return (f"{shape} (as built)",)
    return (_UNKNOWN,)


def _call_quietly(function: Any) -> Any:
    if not callable(function):
        return None
    try:
        return function()
    except (AttributeError, ValueError, RuntimeError, NotImplementedError, TypeError):
        return None


def _as_shape(value: Any) -> Any:
    """Build configs store shapes as lists; a list of numbers is one shape, not several."""
    if isinstance(value, list | tuple) and all(v is None or isinstance(v, int) for v in value):
        return tuple(value)
    if isinstance(value, list | tuple):
        return [_as_shape(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_shape(v) for k, v in value.items()}
    return value
