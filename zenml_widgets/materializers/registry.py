"""The registry that maps types to materializers, looked up along the type's MRO."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import MaterializerNotFoundError

if TYPE_CHECKING:
    from zenml_widgets.materializers.base import BaseMaterializer

# Materializers that live in optional integrations. They are imported only when a type with one
# of these dotted names is written, or an artifact naming the materializer is read, so that
# ``import zenml_widgets`` never imports TensorFlow.
# pandas and numpy are lazy too: reading history (listing runs, steps) never needs them.
LAZY_MATERIALIZERS: dict[str, str] = {
    "keras.src.models.model.Model": (
        "zenml_widgets.integrations.tensorflow.materializers.keras_materializer"
    ),
    # pandas 3 names its classes `pandas.DataFrame`; pandas 2.x `pandas.core.frame.DataFrame`
    "pandas.DataFrame": "zenml_widgets.materializers.pandas_materializer",
    "pandas.Series": "zenml_widgets.materializers.pandas_materializer",
    "pandas.core.frame.DataFrame": "zenml_widgets.materializers.pandas_materializer",
    "pandas.core.series.Series": "zenml_widgets.materializers.pandas_materializer",
    "numpy.ndarray": "zenml_widgets.materializers.numpy_materializer",
}


class MaterializerRegistry:
    """Types -> materializer classes.

    ``get(data_type)`` walks ``data_type.__mro__`` and returns the materializer registered for the
    most specific class (by class object, or by dotted name for lazily imported libraries).
    """

    def __init__(self) -> None:
        self._by_type: dict[type[Any], type[BaseMaterializer]] = {}
        self._by_name: dict[str, type[BaseMaterializer]] = {}
        self._by_path: dict[str, type[BaseMaterializer]] = {}

    def register(self, materializer: type[BaseMaterializer]) -> None:
        """Register ``materializer`` for its ``ASSOCIATED_TYPES`` and ``ASSOCIATED_TYPE_NAMES``."""
        for t in materializer.ASSOCIATED_TYPES:
            self._by_type[t] = materializer
        for name in materializer.ASSOCIATED_TYPE_NAMES:
            self._by_name[name] = materializer
        self._by_path[materializer.dotted_path()] = materializer

    def find(self, data_type: type[Any]) -> type[BaseMaterializer] | None:
        """The materializer for ``data_type`` or ``None``."""
        for klass in getattr(data_type, "__mro__", (data_type,)):
            if klass in self._by_type:
                return self._by_type[klass]
            name = f"{klass.__module__}.{klass.__qualname__}"
            if name in self._by_name:
                return self._by_name[name]
            if name in LAZY_MATERIALIZERS:
                importlib.import_module(LAZY_MATERIALIZERS[name])
                if klass in self._by_type:
                    return self._by_type[klass]
                if name in self._by_name:
                    return self._by_name[name]
        return None

    def get(self, data_type: type[Any]) -> type[BaseMaterializer]:
        """The materializer for ``data_type``; a clear error saying how to add one if none."""
        found = self.find(data_type)
        if found is None:
            name = f"{data_type.__module__}.{data_type.__qualname__}"
            raise MaterializerNotFoundError(
                f"No materializer is registered for type '{name}'. zenml_widgets never pickles "
                "step outputs; register one by subclassing "
                "zenml_widgets.materializers.BaseMaterializer with "
                f"ASSOCIATED_TYPES = ({data_type.__qualname__},) and implementing "
                "handle_return(data) and handle_input(data_type) (see the README, "
                "'Your own materializer')."
            )
        return found

    def by_path(self, dotted_path: str) -> type[BaseMaterializer]:
        """The registered materializer whose class path is ``dotted_path``.

        Only registered materializers (and the package's own optional integrations) are
        resolved: a path read from a metadata store is never imported blindly.
        """
        if dotted_path in self._by_path:
            return self._by_path[dotted_path]
        module = dotted_path.rpartition(".")[0]
        if module in LAZY_MATERIALIZERS.values():
            importlib.import_module(module)
            if dotted_path in self._by_path:
                return self._by_path[dotted_path]
        raise MaterializerNotFoundError(
            f"The materializer '{dotted_path}' that wrote this artifact is not registered in this "
            f"process. Import the module that defines it (import {module}) before reading, or "
            "pass materializer_class=... to read()."
        )

    def __contains__(self, data_type: object) -> bool:
        return isinstance(data_type, type) and self.find(data_type) is not None


default_registry = MaterializerRegistry()
