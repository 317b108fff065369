"""A model's summary (layers, output shapes, parameter counts) as escaped HTML or plain text.

The summary is plain data (:class:`ModelSummary`); a model type's materializer makes one from a
model (``BaseMaterializer.model_summary``, e.g. Keras models). The output is deterministic (no
object ids, no memory addresses), so it can be compared and cached.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from zenml_widgets.visualizers.html import STYLE

__all__ = ["LayerSummary", "ModelSummary", "summary_html", "summary_text"]

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


def summary_text(summary: ModelSummary) -> str:
    """A model's summary as a fixed-width text table.

    Args:
        summary: What to show.

    Returns:
        Multi-line text: title, layer table, input/output shapes and parameter counts.
    """
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


def summary_html(summary: ModelSummary) -> str:
    """A model's summary as an HTML fragment; every string in it is escaped.

    Args:
        summary: What to show.

    Returns:
        A ``<div class="zw zw-keras-summary">`` holding a title, the layer table and a table of
        input/output shapes and parameter counts.
    """
    head = (
        "".join(f"<th>{_esc(h)}</th>" for h in _HEADERS[:3])
        + f'<th class="zw-num">{_HEADERS[3]}</th>'
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_esc(cell)}</td>" for cell in _row_cells(layer)[:3])
        + f'<td class="zw-num">{_esc(_row_cells(layer)[3])}</td>'
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
