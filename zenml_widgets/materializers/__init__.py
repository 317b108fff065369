"""Materializers: how step outputs are written to and read from the artifact store.

``BaseMaterializer`` is the base class; ``PandasMaterializer``, ``NumpyMaterializer`` and
``BuiltInMaterializer`` are built in, ``KerasMaterializer`` lives in
``zenml_widgets.integrations.tensorflow.materializers.keras_materializer``. The pandas and numpy
materializers are imported on first use, so reading history never pays for importing pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zenml_widgets.materializers.base import BaseMaterializer
from zenml_widgets.materializers.builtin import BuiltInMaterializer
from zenml_widgets.materializers.registry import MaterializerRegistry, default_registry

if TYPE_CHECKING:
    from zenml_widgets.materializers.numpy_materializer import NumpyMaterializer
    from zenml_widgets.materializers.pandas_materializer import PandasMaterializer

_LAZY = {
    "PandasMaterializer": "zenml_widgets.materializers.pandas_materializer",
    "NumpyMaterializer": "zenml_widgets.materializers.numpy_materializer",
}

__all__ = [
    "BaseMaterializer",
    "BuiltInMaterializer",
    "MaterializerRegistry",
    "NumpyMaterializer",
    "PandasMaterializer",
    "default_registry",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zenml_widgets.materializers' has no attribute {name!r}")
