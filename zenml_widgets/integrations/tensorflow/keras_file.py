"""A Keras model's summary read from its ``.keras`` file, without importing Keras or TensorFlow.

A ``.keras`` file is a zip of ``config.json`` (the architecture) and ``model.weights.h5`` (the
weights). :func:`summarize_file` reads the layers and their configs from the first, the shape of
every weight from the second (with ``h5py``, which Keras itself installs; no weight is read) and
computes the output shapes (:mod:`keras_shapes`, or the shapes a functional model's config records
between its layers). That takes milliseconds where importing TensorFlow takes seconds, and it
writes nothing to the kernel's stderr. The result is the same :class:`ModelSummary` that a loaded
model gives (:func:`~zenml_widgets.integrations.tensorflow.model_summary.summarize`).

Which weights are trainable is not in the file; it follows Keras's rules for the layers that
have both kinds (``Normalization``, ``BatchNormalization``) and ``trainable: false`` in a config.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from zenml_widgets.integrations.tensorflow.keras_shapes import Shape, output_shape
from zenml_widgets.integrations.tensorflow.model_summary import format_shape
from zenml_widgets.visualizers.model_summary import LayerSummary, ModelSummary

__all__ = ["read_weight_shapes", "snake_case", "summarize_file"]

_UNKNOWN = "?"
WEIGHTS = "model.weights.h5"


def snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: how a layer's class names its group in the weights file."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def summarize_file(file: IO[bytes]) -> ModelSummary:
    """The summary of the model in the ``.keras`` file ``file`` (a binary file object).

    Raises:
        ValueError: not a ``.keras`` file (no ``config.json``).
    """
    with zipfile.ZipFile(file) as archive:
        names = set(archive.namelist())
        if "config.json" not in names:
            raise ValueError("not a .keras file: it has no config.json")
        config = json.loads(archive.read("config.json"))
        weights: dict[str, list[tuple[int, ...]]] = {}
        if WEIGHTS in names:
            with archive.open(WEIGHTS) as h5:
                weights = read_weight_shapes(h5)
    built = bool(weights) or WEIGHTS in names
    if not list(_layer_configs(config.get("config", {}))):
        return _subclassed_summary(config, weights, built)
    return _summary(config, weights, built)


def read_weight_shapes(file: IO[bytes]) -> dict[str, list[tuple[int, ...]]]:
    """The shape of every weight in a Keras weights file, by the path of its layer's group
    (``layers/dense``); the optimizer's are left out. ``{}`` when ``h5py`` is missing."""
    try:
        import h5py
    except ImportError:
        return {}
    shapes: dict[str, list[tuple[int, ...]]] = {}

    def visit(path: str, item: Any) -> None:
        if not isinstance(item, h5py.Dataset) or path.startswith("optimizer/"):
            return
        if "seed_generator" in path:  # random state, not a weight
            return
        owner = path.rsplit("/vars/", 1)[0] if "/vars/" in path else path.rsplit("/", 1)[0]
        shapes.setdefault(owner, []).append(tuple(int(d) for d in item.shape))

    with h5py.File(file, "r") as h5:
        h5.visititems(visit)
    return shapes


def _summary(
    config: dict[str, Any], weights: dict[str, list[tuple[int, ...]]], built: bool
) -> ModelSummary:
    model = config.get("config", {})
    class_name = str(config.get("class_name", _UNKNOWN))
    layers = list(_layer_configs(model))
    groups = _layer_groups(layers)
    shapes = _output_shapes(class_name, model, layers)
    rows, trainable, frozen = [], 0, 0
    for layer in layers:
        if layer["class_name"] == "InputLayer" and class_name == "Sequential":
            continue  # Keras lists no input layer in a Sequential model
        params = _params(weights, groups[id(layer)])
        kept, fixed = _split(layer, params)
        trainable, frozen = trainable + kept, frozen + fixed
        shape = shapes.get(_name(layer))
        rows.append(
            LayerSummary(
                name=_name(layer),
                type_name=str(layer["class_name"]),
                output_shape=format_shape(shape) if shape is not None else _UNKNOWN,
                params=sum(math.prod(s) for s in params) if built else None,
            )
        )
    inputs = [_batch_shape(layer) for layer in layers if layer["class_name"] == "InputLayer"]
    outputs = [shapes.get(name) for name in _output_names(class_name, model, layers)]
    return ModelSummary(
        name=str(model.get("name", _UNKNOWN)),
        type_name=class_name,
        layers=tuple(rows),
        input_shapes=tuple(format_shape(s) if s else _UNKNOWN for s in inputs) or (_UNKNOWN,),
        output_shapes=tuple(format_shape(s) if s else _UNKNOWN for s in outputs) or (_UNKNOWN,),
        trainable_params=trainable,
        non_trainable_params=frozen,
        built=built,
    )


def _subclassed_summary(
    config: dict[str, Any], weights: dict[str, list[tuple[int, ...]]], built: bool
) -> ModelSummary:
    """A subclassed model keeps no list of layers in its config: its weight groups stand in for
    them (named as in the file; their types and output shapes are not recorded)."""
    rows = tuple(
        LayerSummary(
            name=path.removeprefix("layers/"),
            type_name=_UNKNOWN,
            output_shape=_UNKNOWN,
            params=sum(math.prod(s) for s in shapes),
        )
        for path, shapes in weights.items()
        if path != "vars"
    )
    build = _shape((config.get("build_config") or {}).get("input_shape"))
    total = sum(math.prod(s) for shapes in weights.values() for s in shapes)
    return ModelSummary(
        name=str(config.get("config", {}).get("name", _UNKNOWN)),
        type_name=str(config.get("class_name", _UNKNOWN)),
        layers=rows,
        input_shapes=(f"{format_shape(build)} (as built)",) if build else (_UNKNOWN,),
        output_shapes=(_UNKNOWN,),
        trainable_params=total,
        non_trainable_params=0,
        built=built,
    )


def _layer_configs(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for layer in model.get("layers", ()):
        if isinstance(layer, dict) and "class_name" in layer:
            yield layer


def _name(layer: dict[str, Any]) -> str:
    return str(layer.get("name") or layer.get("config", {}).get("name") or _UNKNOWN)


def _layer_groups(layers: list[dict[str, Any]]) -> dict[int, str]:
    """Each layer's group in the weights file: its class in snake case, numbered from the
    second layer of a class on (``dense``, ``dense_1``...), in the model's order."""
    used: dict[str, int] = {}
    groups = {}
    for layer in layers:
        base = snake_case(str(layer["class_name"]))
        if base in used:
            used[base] += 1
            groups[id(layer)] = f"layers/{base}_{used[base]}"
        else:
            used[base] = 0
            groups[id(layer)] = f"layers/{base}"
    return groups


def _params(weights: dict[str, list[tuple[int, ...]]], group: str) -> list[tuple[int, ...]]:
    """The weight shapes of a layer's group and of everything nested in it, in file order."""
    return [s for path, shapes in weights.items() for s in shapes if _inside(path, group)]


def _inside(path: str, group: str) -> bool:
    return path == group or path.startswith(group + "/")


def _split(layer: dict[str, Any], shapes: list[tuple[int, ...]]) -> tuple[int, int]:
    """(trainable, non-trainable) parameters of a layer, by Keras's rules."""
    sizes = [math.prod(s) for s in shapes]
    config = layer.get("config", {})
    if config.get("trainable") is False or layer["class_name"] == "Normalization":
        return 0, sum(sizes)
    if layer["class_name"] == "BatchNormalization":  # moving mean and variance come last
        return sum(sizes[:-2]), sum(sizes[-2:])
    return sum(sizes), 0


def _batch_shape(layer: dict[str, Any]) -> Shape | None:
    config = layer.get("config", {})
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    return _shape(shape)


def _shape(value: Any) -> Shape | None:
    if isinstance(value, list | tuple) and all(d is None or isinstance(d, int) for d in value):
        return tuple(value)
    return None


def _output_names(
    class_name: str, model: dict[str, Any], layers: list[dict[str, Any]]
) -> list[str]:
    if class_name == "Sequential":
        return [_name(layers[-1])] if layers else []
    entries = model.get("output_layers") or []
    if entries and isinstance(entries[0], str):  # a single output: ["dense", 0, 0]
        entries = [entries]
    return [str(entry[0]) for entry in entries if entry]


def _output_shapes(
    class_name: str, model: dict[str, Any], layers: list[dict[str, Any]]
) -> dict[str, Shape | None]:
    if class_name == "Sequential":
        return _sequential_shapes(model, layers)
    return _functional_shapes(layers)


def _sequential_shapes(
    model: dict[str, Any], layers: list[dict[str, Any]]
) -> dict[str, Shape | None]:
    """Each layer's output from the one before; where no rule is known, what the next layer
    was built with."""
    shapes: dict[str, Shape | None] = {}
    build = model.get("build_input_shape") or (model.get("build_config") or {}).get("input_shape")
    current = _shape(build)
    for index, layer in enumerate(layers):
        if layer["class_name"] == "InputLayer":
            current = _batch_shape(layer)
            shapes[_name(layer)] = current
            continue
        config = layer.get("config", {})
        shape = None if current is None else output_shape(layer["class_name"], config, [current])
        if shape is None and index + 1 < len(layers):
            built = (layers[index + 1].get("build_config") or {}).get("input_shape")
            shape = _shape(built)
        shapes[_name(layer)] = current = shape
    return shapes


def _functional_shapes(layers: list[dict[str, Any]]) -> dict[str, Shape | None]:
    """The shapes the config records on the tensors between layers; computed for the rest."""
    recorded: dict[str, Shape | None] = {}
    inputs: dict[str, list[Shape]] = {}
    for layer in layers:
        for tensor in _tensors(layer.get("inbound_nodes", ())):
            history = tensor.get("keras_history") or [None]
            shape = _shape(tensor.get("shape"))
            recorded.setdefault(str(history[0]), shape)
            if shape is not None:
                inputs.setdefault(_name(layer), []).append(shape)
    shapes: dict[str, Shape | None] = {}
    for layer in layers:
        name = _name(layer)
        if layer["class_name"] == "InputLayer":
            shapes[name] = _batch_shape(layer)
        elif name in recorded:
            shapes[name] = recorded[name]
        else:
            shapes[name] = output_shape(
                layer["class_name"], layer.get("config", {}), inputs.get(name, [])
            )
    return shapes


def _tensors(value: Any) -> Iterator[dict[str, Any]]:
    """Every ``__keras_tensor__`` config inside a layer's inbound nodes."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            yield value.get("config", {})
            return
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item)
