"""Output shapes of common Keras layers from their config and input shape, with no Keras.

A ``.keras`` file stores each layer's config and, for functional models, the shapes of the
tensors between layers; it does not store every layer's output shape. :func:`output_shape`
computes it for the layers most models are made of, the way Keras does; ``None`` means "not
known here" (the caller then shows ``?`` or uses what the file says elsewhere). Shapes are
tuples of ``int`` / ``None`` (the batch dimension first); nothing here imports Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["SAME_SHAPE", "Shape", "output_shape"]

Shape = tuple[int | None, ...]

#: Layers whose output has the shape of their (first) input.
SAME_SHAPE = frozenset(
    {
        "Activation", "ActivityRegularization", "AlphaDropout", "BatchNormalization",
        "Dropout", "ELU", "GaussianDropout", "GaussianNoise", "GroupNormalization",
        "LayerNormalization", "LeakyReLU", "Masking", "Normalization", "PReLU", "ReLU",
        "Rescaling", "Softmax", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
        "UnitNormalization", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    }
)  # fmt: skip


def output_shape(class_name: str, config: dict[str, Any], inputs: Sequence[Shape]) -> Shape | None:
    """The output shape of a layer of class ``class_name`` with ``config``, given the shapes of
    its inputs; ``None`` when it is not known here (an unusual layer, a list of outputs)."""
    if not inputs:
        return None
    if class_name in SAME_SHAPE:
        return inputs[0]
    rule = _RULES.get(class_name) or _RULES.get(class_name.rstrip("123D"))
    if rule is None:
        return None
    try:
        return rule(config, inputs)
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
        return None


def _dense(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    return (*inputs[0][:-1], int(config["units"]))


def _embedding(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    return (*inputs[0], int(config["output_dim"]))


def _flatten(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    rest = inputs[0][1:]
    size = None if any(d is None for d in rest) else math.prod(d for d in rest if d is not None)
    return (inputs[0][0], size)


def _reshape(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    target = [int(d) for d in config["target_shape"]]
    if -1 in target:
        rest = inputs[0][1:]
        known = math.prod(d for d in target if d != -1)
        total = None if any(d is None for d in rest) else math.prod(d for d in rest if d)
        fill = None if total is None else total // known
        return (inputs[0][0], *[fill if d == -1 else d for d in target])
    return (inputs[0][0], *target)


def _channels_last(config: dict[str, Any]) -> bool:
    return config.get("data_format", "channels_last") in (None, "channels_last")


def _window(n: int | None, size: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    if n is None:
        return None
    if padding == "same":
        return -(-n // stride)
    return (n - dilation * (size - 1) - 1) // stride + 1


def _spatial(
    config: dict[str, Any], shape: Shape, sizes: Sequence[int], strides: Sequence[int]
) -> list[int | None]:
    dims = shape[1:-1] if _channels_last(config) else shape[2:]
    dilations = config.get("dilation_rate") or [1] * len(dims)
    if isinstance(dilations, int):
        dilations = [dilations] * len(dims)
    padding = str(config.get("padding", "valid")).lower()
    return [
        _window(n, k, s, padding, d)
        for n, k, s, d in zip(dims, sizes, strides, dilations, strict=True)
    ]


def _as_list(value: Any, length: int) -> list[int]:
    return [int(value)] * length if isinstance(value, int) else [int(v) for v in value]


def _conv(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    shape = inputs[0]
    rank = len(shape) - 2
    sizes = _as_list(config["kernel_size"], rank)
    strides = _as_list(config.get("strides", 1), rank)
    dims = _spatial(config, shape, sizes, strides)
    filters = int(config["filters"])
    if _channels_last(config):
        return (shape[0], *dims, filters)
    return (shape[0], filters, *dims)


def _pool(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    shape = inputs[0]
    rank = len(shape) - 2
    sizes = _as_list(config["pool_size"], rank)
    strides = _as_list(config.get("strides") or sizes, rank)
    dims = _spatial(config, shape, sizes, strides)
    if _channels_last(config):
        return (shape[0], *dims, shape[-1])
    return (shape[0], shape[1], *dims)


def _global_pool(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    shape = inputs[0]
    channels = shape[-1] if _channels_last(config) else shape[1]
    if config.get("keepdims"):
        ones = [1] * (len(shape) - 2)
        return (
            (shape[0], *ones, channels) if _channels_last(config) else (shape[0], channels, *ones)
        )
    return (shape[0], channels)


def _recurrent(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    if config.get("return_state"):
        raise ValueError("several outputs")
    shape, units = inputs[0], int(config["units"])
    return (shape[0], shape[1], units) if config.get("return_sequences") else (shape[0], units)


def _concatenate(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    axis = int(config.get("axis", -1))
    first = list(inputs[0])
    axis = axis % len(first)
    sizes = [s[axis] for s in inputs]
    first[axis] = None if any(d is None for d in sizes) else sum(d for d in sizes if d)
    return tuple(first)


def _repeat_vector(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    return (inputs[0][0], int(config["n"]), inputs[0][-1])


def _permute(config: dict[str, Any], inputs: Sequence[Shape]) -> Shape:
    shape = inputs[0]
    return (shape[0], *[shape[int(d)] for d in config["dims"]])


_RULES: dict[str, Callable[[dict[str, Any], Sequence[Shape]], Shape]] = {
    "Dense": _dense,
    "Embedding": _embedding,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Conv": _conv,
    "MaxPooling": _pool,
    "AveragePooling": _pool,
    "GlobalAveragePooling": _global_pool,
    "GlobalMaxPooling": _global_pool,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "SimpleRNN": _recurrent,
    "Concatenate": _concatenate,
    "RepeatVector": _repeat_vector,
    "Permute": _permute,
}
