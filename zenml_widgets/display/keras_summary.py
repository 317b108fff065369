"""A Keras model's summary as escaped HTML or plain text, for notebook display.

The model is taken duck-typed (``layers``, ``weights``, ``inputs``...), so this module never
imports Keras: it only runs on a model that the caller already has. The output is
deterministic (no object ids, no memory addresses), so it can be compared and cached.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from zenml_widgets.visualizers.html import STYLE

_UNKNOWN = "?"
_HEADERS = ("Layer", "Type", "Output shape", "Params")


@dataclass(frozen=True)
class LayerSummary:
    """One row of the layer table.

    Attributes:
        name: The layer's name.
        type_name: The layer's class name, e.g. ``Dense``.
        output_shape: The output shape, e.g. ``(None, 8)``, or ``?`` when Keras does not know it
            (unbuilt layers, layers of subclassed models).
        params: The number of parameters, or ``None`` when the layer is not built yet.
    """

    name: str
    type_name: str
    output_shape: str
    params: int | None


@dataclass(frozen=True)
class ModelSummary:
    """What the HTML and text summaries show.

    Attributes:
        name: The model's name.
        type_name: The model's class name (``Sequential``, ``Functional`` or a subclass).
        layers: The top-level layers, in the model's order.
        input_shapes: Shape of each input (``?`` when unknown).
        output_shapes: Shape of each output (``?`` when unknown).
        trainable_params: Parameters updated by training.
        non_trainable_params: Other parameters (e.g. batch normalization statistics).
        built: Whether the model has created its weights.
    """

    name: str
    type_name: str
    layers: tuple[LayerSummary, ...]
    input_shapes: tuple[str, ...]
    output_shapes: tuple[str, ...]
    trainable_params: int
    non_trainable_params: int
    built: bool

    @property
    def total_params(self) -> int:
        """Trainable plus non-trainable parameters."""
        return self.trainable_params + self.non_trainable_params


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


def model_summary_text(model: Any) -> str:
    """The model's summary as a fixed-width text table.

    Args:
        model: A Keras model.

    Returns:
        Multi-line text: title, layer table, input/output shapes and parameter counts.
    """
    summary = summarize(model)
    rows = [_row_cells(layer) for layer in summary.layers]
    widths = [max(len(cell) for cell in column) for column in zip(_HEADERS, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        left = [cell.ljust(width) for cell, width in zip(cells[:3], widths, strict=False)]
        return "  ".join([*left, cells[3].rjust(widths[3])])

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    parts = [_title(summary), rule, line(_HEADERS), rule]
    parts += [line(row) for row in rows] or ["(no layers)"]
    parts.append(rule)
    parts += [f"{label}: {value}" for label, value in _facts(summary)]
    return "\n".join(parts)


def model_summary_html(model: Any) -> str:
    """The model's summary as an HTML fragment; every string in it is escaped.

    Args:
        model: A Keras model.

    Returns:
        A ``<div class="zw zw-keras-summary">`` holding a title, the layer table and a table of
        input/output shapes and parameter counts.
    """
    summary = summarize(model)
    head = "".join(f"<th>{_esc(h)}</th>" for h in _HEADERS)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_esc(cell)}</td>" for cell in _row_cells(layer)[:3])
        + f'<td style="text-align:right">{_esc(_row_cells(layer)[3])}</td>'
        + "</tr>"
        for layer in summary.layers
    )
    if not summary.layers:
        body = f'<tr><td colspan="{len(_HEADERS)}">(no layers)</td></tr>'
    facts = "".join(
        f"<tr><th>{_esc(label)}</th><td>{_esc(value)}</td></tr>" for label, value in _facts(summary)
    )
    return (
        STYLE + '<div class="zw zw-keras-summary">'
        f'<div class="zw-title">{_esc(_title(summary))}</div>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<table><tbody>{facts}</tbody></table>"
        "</div>"
    )


def _title(summary: ModelSummary) -> str:
    suffix = "" if summary.built else ", not built yet"
    return f"Model '{summary.name}' ({summary.type_name}{suffix})"


def _row_cells(layer: LayerSummary) -> tuple[str, str, str, str]:
    params = "unbuilt" if layer.params is None else f"{layer.params:,}"
    return (layer.name, layer.type_name, layer.output_shape, params)


def _facts(summary: ModelSummary) -> list[tuple[str, str]]:
    return [
        ("Inputs", ", ".join(summary.input_shapes)),
        ("Outputs", ", ".join(summary.output_shapes)),
        ("Total params", f"{summary.total_params:,}"),
        ("Trainable params", f"{summary.trainable_params:,}"),
        ("Non-trainable params", f"{summary.non_trainable_params:,}"),
    ]


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


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
