"""The registry that maps types to materializers, looked up along the type's MRO."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import MaterializerNotFoundError

if TYPE_CHECKING:
    from zenml_widgets.materializers.base import BaseMaterializer

# Materializers that live in optional integrations. They are imported only when a type with one
# of these dotted names is written or shown, or an artifact naming the materializer is read, so
# that ``import zenml_widgets`` never imports TensorFlow.
# pandas and numpy are lazy too: reading history (listing runs, steps) never needs them.
LAZY_MATERIALIZERS: dict[str, str] = {
    "keras.src.models.model.Model": (
        "zenml_widgets.integrations.tensorflow.materializers.keras_materializer"
    ),
    # Keras 2 and tf-keras models: shown (summary, preview), not written
    "keras.src.engine.training.Model": (
        "zenml_widgets.integrations.tensorflow.materializers.keras_materializer"
    ),
    "keras.engine.training.Model": (
        "zenml_widgets.integrations.tensorflow.materializers.keras_materializer"
    ),
    "tf_keras.src.engine.training.Model": (
        "zenml_widgets.integrations.tensorflow.materializers.keras_materializer"
    ),
    # pandas 3 names its classes `pandas.DataFrame`; pandas 2.x `pandas.core.frame.DataFrame`
    "pandas.DataFrame": "zenml_widgets.materializers.pandas_materializer",
    "pandas.Series": "zenml_widgets.materializers.pandas_materializer",
    "pandas.core.frame.DataFrame": "zenml_widgets.materializers.pandas_materializer",
    "pandas.core.series.Series": "zenml_widgets.materializers.pandas_materializer",
    "numpy.ndarray": "zenml_widgets.materializers.numpy_materializer",
}

# Of those, the types whose materializer has ``NOTEBOOK_PREVIEW``: the IPython extension shows
# them with the materializer's preview, registering them by name so that nothing is imported.
LAZY_NOTEBOOK_PREVIEWS: tuple[str, ...] = (
    "keras.src.models.model.Model",
    "keras.src.engine.training.Model",
    "keras.engine.training.Model",
    "tf_keras.src.engine.training.Model",
)

Listener = Callable[["type[BaseMaterializer]"], None]


class MaterializerRegistry:
    """Types -> materializer classes.

    ``get(data_type)`` walks ``data_type.__mro__`` and returns the materializer registered for the
    most specific class (by class object, or by dotted name for lazily imported libraries).
    """

    def __init__(self) -> None:
        self._by_type: dict[type[Any], type[BaseMaterializer]] = {}
        self._by_name: dict[str, type[BaseMaterializer]] = {}
        self._shown_by_name: dict[str, type[BaseMaterializer]] = {}
        self._by_path: dict[str, type[BaseMaterializer]] = {}
        self._listeners: list[Listener] = []

    def register(self, materializer: type[BaseMaterializer]) -> None:
        """Register ``materializer`` for its ``ASSOCIATED_TYPES``, ``ASSOCIATED_TYPE_NAMES`` and
        (to show, not to write) ``PREVIEW_TYPE_NAMES``; then tell the subscribers."""
        for t in materializer.ASSOCIATED_TYPES:
            self._by_type[t] = materializer
        for name in materializer.ASSOCIATED_TYPE_NAMES:
            self._by_name[name] = materializer
        for name in materializer.PREVIEW_TYPE_NAMES:
            self._shown_by_name[name] = materializer
        self._by_path[materializer.dotted_path()] = materializer
        for listener in list(self._listeners):
            listener(materializer)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(materializer)`` for every materializer registered from now on."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def find(self, data_type: type[Any]) -> type[BaseMaterializer] | None:
        """The materializer that writes and reads ``data_type``, or ``None``."""
        return self._lookup(data_type, shown=False)

    def find_preview(self, data_type: type[Any]) -> type[BaseMaterializer] | None:
        """The materializer that shows ``data_type``: the one that writes it, or one that only
        shows it (``PREVIEW_TYPE_NAMES``); ``None`` if there is none."""
        return self._lookup(data_type, shown=True)

    def _lookup(self, data_type: type[Any], shown: bool) -> type[BaseMaterializer] | None:
        for klass in getattr(data_type, "__mro__", (data_type,)):
            name = f"{klass.__module__}.{klass.__qualname__}"
            found = self._known(klass, name, shown)
            if found is None and name in LAZY_MATERIALIZERS:
                importlib.import_module(LAZY_MATERIALIZERS[name])
                found = self._known(klass, name, shown)
            if found is not None:
                return found
        return None

    def _known(self, klass: type[Any], name: str, shown: bool) -> type[BaseMaterializer] | None:
        found = self._by_type.get(klass) or self._by_name.get(name)
        if found is None and shown:
            found = self._shown_by_name.get(name)
        return found

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

    def notebook_previews(self) -> tuple[list[type[Any]], list[str]]:
        """The types notebook cells show with their materializer's preview: the classes and
        the dotted names (``LAZY_NOTEBOOK_PREVIEWS`` included) of materializers registered with
        ``NOTEBOOK_PREVIEW``."""
        classes: list[type[Any]] = []
        names = list(LAZY_NOTEBOOK_PREVIEWS)
        for materializer in dict.fromkeys(self._by_path.values()):
            more_classes, more_names = notebook_preview_types(materializer)
            classes += [c for c in more_classes if c not in classes]
            names += [n for n in more_names if n not in names]
        return classes, names

    def __contains__(self, data_type: object) -> bool:
        return isinstance(data_type, type) and self.find(data_type) is not None


def notebook_preview_types(
    materializer: type[BaseMaterializer],
) -> tuple[list[type[Any]], list[str]]:
    """The classes and dotted names ``materializer`` shows in notebook cells (none without
    ``NOTEBOOK_PREVIEW``)."""
    if not materializer.NOTEBOOK_PREVIEW:
        return [], []
    names = [*materializer.ASSOCIATED_TYPE_NAMES, *materializer.PREVIEW_TYPE_NAMES]
    return list(materializer.ASSOCIATED_TYPES), names


default_registry = MaterializerRegistry()
