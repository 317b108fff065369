"""Materializers: how step outputs are written to and read from the artifact store.

``BaseMaterializer`` is the base class; ``PandasMaterializer``, ``NumpyMaterializer`` and
``BuiltInMaterializer`` are built in, ``KerasMaterializer`` lives in
``zenml_widgets.integrations.tensorflow.materializers.keras_materializer``.
"""

from __future__ import annotations

from zenml_widgets.materializers.base import BaseMaterializer
from zenml_widgets.materializers.builtin import BuiltInMaterializer
from zenml_widgets.materializers.numpy_materializer import NumpyMaterializer
from zenml_widgets.materializers.pandas_materializer import PandasMaterializer
from zenml_widgets.materializers.registry import MaterializerRegistry, default_registry

__all__ = [
    "BaseMaterializer",
    "BuiltInMaterializer",
    "MaterializerRegistry",
    "NumpyMaterializer",
    "PandasMaterializer",
    "default_registry",
]
