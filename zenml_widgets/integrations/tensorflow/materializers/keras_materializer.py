"""Keras models as artifacts, in the Keras 3 ``.keras`` format.

``KerasMaterializer`` stores any ``keras.Model`` (Sequential, functional or subclassed) as
``model.keras`` inside the artifact folder: architecture, weights and, for compiled models, the
compile configuration and optimizer state. It reads the file back with
``keras.models.load_model(..., safe_mode=True)``, so a stored artifact can never run arbitrary
Python code (such as a ``Lambda`` layer's bytecode) when it is read.

Keras (and therefore TensorFlow) is imported inside the methods that need it, never when this
module is imported: ``import zenml_widgets`` stays fast, and this module can be imported, for
instance to name ``KerasMaterializer`` in ``read(materializer_class=...)``, without TensorFlow
installed.

Subclassed models:
    Keras rebuilds a model from its class name, so a subclass of ``keras.Model`` (and every
    custom layer, loss or metric it uses) must be registered, and must be imported before the
    artifact is read::

        import keras

        @keras.saving.register_keras_serializable(package="my_project")
        class TwoLayerNet(keras.Model):
            def __init__(self, units: int = 16, **kwargs):
                super().__init__(**kwargs)
                self.units = units
                self.hidden = keras.layers.Dense(units, activation="relu")
                self.out = keras.layers.Dense(1)

            def call(self, inputs):
                return self.out(self.hidden(inputs))

            def get_config(self):
                return {**super().get_config(), "units": self.units}

    ``get_config`` is only needed when ``__init__`` takes arguments that Keras cannot serialize
    on its own (anything beyond numbers, strings, lists and dicts of them).

Every write is checked: after ``model.keras`` is written, its stored configuration is
deserialized the way a read would (``safe_mode`` included). A model that could be written but
not read back (an unregistered class, a ``Lambda`` layer wrapping a Python ``lambda``) fails the
step with Keras's reason, instead of leaving an artifact nobody can open. Set
``VERIFY_ON_WRITE = False`` on a subclass to skip the check for very large models.

Unsafe deserialization is never on by default. To store and read models that need it (for
example ``Lambda`` layers) and only for artifacts you trust, opt in explicitly, either per
instance, ``KerasMaterializer(artifact, safe_mode=False)``, or with an unregistered subclass
that you pass to ``read``::

    class TrustedKerasMaterializer(KerasMaterializer):
        REGISTER = False  # keep KerasMaterializer as the default for keras.Model
        SAFE_MODE = False

    model = output.read(materializer_class=TrustedKerasMaterializer)

A Keras model is a *model* type: it shows a summary of its layers, output shapes and parameter
counts (:mod:`zenml_widgets.integrations.tensorflow.model_summary`), which is also its preview,
in the explorer and, once the IPython extension is loaded, in notebook cells. A stored model shows
the same summary read from its ``.keras`` file alone (``stored_model_summary``: no TensorFlow
import, milliseconds instead of seconds). Models of Keras 2
and tf-keras are shown that way too, though not written.
"""

from __future__ import annotations

import json
import zipfile
from typing import TYPE_CHECKING, Any, ClassVar

from zenml_widgets.exceptions import ArtifactReadError
from zenml_widgets.materializers.base import BaseMaterializer, type_path
from zenml_widgets.materializers.capabilities import MODEL
from zenml_widgets.visualizers.html import block, esc, preformatted
from zenml_widgets.visualizers.model_summary import summary_html

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

    from zenml_widgets.materializers.base import ArtifactLike
    from zenml_widgets.visualizers.model_summary import ModelSummary

MODEL_FILENAME = "model.keras"
"""Name of the file written into the artifact folder."""

_INSTALL_HINT = 'pip install "zenml-widgets[tensorflow]"'


class KerasMaterializer(BaseMaterializer):
    """Stores a ``keras.Model`` as ``model.keras`` (the Keras 3 native format).

    Attributes:
        SAFE_MODE: Class-wide default for ``safe_mode``; ``True`` refuses to deserialize
            anything that could run arbitrary code. Only set it to ``False`` on a subclass of
            your own for artifacts you trust.
        VERIFY_ON_WRITE: Whether ``handle_return`` checks that the written model can be loaded
            back before the artifact is accepted.
    """

    ASSOCIATED_TYPE_NAMES: ClassVar[tuple[str, ...]] = ("keras.src.models.model.Model",)
    PREVIEW_TYPE_NAMES: ClassVar[tuple[str, ...]] = (
        "keras.src.engine.training.Model",
        "keras.engine.training.Model",
        "tf_keras.src.engine.training.Model",
    )
    NOTEBOOK_PREVIEW: ClassVar[bool] = True
    SAFE_MODE: ClassVar[bool] = True
    VERIFY_ON_WRITE: ClassVar[bool] = True

    def __init__(self, artifact: ArtifactLike, *, safe_mode: bool | None = None) -> None:
        """Creates a materializer for one artifact folder.

        Args:
            artifact: Anything with a ``uri`` attribute naming the artifact folder.
            safe_mode: Overrides ``SAFE_MODE`` for this instance. Pass ``False`` only for
                artifacts you trust: it lets Keras deserialize Python bytecode.
        """
        super().__init__(artifact)
        self.safe_mode = self.SAFE_MODE if safe_mode is None else safe_mode

    @classmethod
    def capabilities(cls, data_type: type[Any]) -> frozenset[str]:
        """Keras models are models (deciding so imports nothing)."""
        return frozenset({MODEL})

    @classmethod
    def model_summary(cls, model: Any) -> ModelSummary:
        """The model's layers, output shapes and parameter counts, read duck-typed."""
        # Imported here: a summary module that cannot be imported leaves the preview a repr.
        from zenml_widgets.integrations.tensorflow.model_summary import summarize

        return summarize(model)

    def stored_model_summary(self) -> ModelSummary:
        """The stored model's summary from ``model.keras`` alone: its config and the shapes of
        its weights (see :mod:`~zenml_widgets.integrations.tensorflow.keras_file`). Neither
        Keras nor TensorFlow is imported, and no weight is read."""
        from zenml_widgets.integrations.tensorflow.keras_file import summarize_file

        with self.open(MODEL_FILENAME, "rb") as f:
            return summarize_file(f)

    @classmethod
    def preview_html(cls, obj: Any) -> str:
        """The model's summary; its repr when the summary cannot be made."""
        try:
            summary = cls.model_summary(obj)
        except ImportError as e:
            return block(
                f"Keras model <code>{esc(type_path(obj))}</code>",
                "<div class='zw-muted'>The rich Keras summary is not available "
                f"({esc(e)}); showing the model's repr.</div>",
                preformatted(repr(obj)),
            )
        return summary_html(summary)

    @property
    def model_path(self) -> str:
        """Absolute path of the ``model.keras`` file in a local artifact folder."""
        return str(self.path / MODEL_FILENAME)

    def handle_return(self, data: Any) -> None:
        """Writes ``data`` to ``model.keras`` and checks that it can be read back.

        Args:
            data: A ``keras.Model``.

        Raises:
            ImportError: Keras / TensorFlow is not installed.
            TypeError: ``data`` is not a ``keras.Model``.
            ValueError: The model was written, but reading it back would fail (for example a
                subclassed model whose class is not registered, or a ``Lambda`` layer under
                ``safe_mode``). The message carries Keras's reason.
        """
        keras = _import_keras("write a Keras model")
        if not isinstance(data, keras.Model):
            raise TypeError(
                f"KerasMaterializer stores keras.Model objects, got "
                f"{type(data).__module__}.{type(data).__qualname__}."
            )
        # Keras writes to a path: for remote artifacts a local temporary folder, uploaded after.
        with self.local_path(write=True) as folder:
            model_path = str(folder / MODEL_FILENAME)
            try:
                data.save(model_path)
            except Exception as e:
                e.add_note(
                    f"KerasMaterializer could not write model {data.name!r} "
                    f"({type(data).__qualname__}) as {MODEL_FILENAME}."
                )
                raise
            if self.VERIFY_ON_WRITE:
                self._verify_readable(keras, data, model_path)

    def handle_input(self, data_type: type[Any]) -> Any:
        """Loads the model stored in the artifact folder.

        Args:
            data_type: The type requested by the reader (``keras.Model`` or a subclass); the
                model comes back as the class it was saved as.

        Returns:
            The ``keras.Model``, compiled with its optimizer state if it was compiled when saved.

        Raises:
            ImportError: Keras / TensorFlow is not installed; the message says what to install.
            ArtifactReadError: ``model.keras`` is missing, corrupt, or cannot be deserialized
                (for example an unregistered custom class); the message names the artifact URI.
        """
        keras = _import_keras("read this Keras model artifact")
        uri = self.artifact.uri
        if not self.exists():
            raise ArtifactReadError(
                f"The Keras model artifact at '{uri}' does not exist: the folder is missing "
                "from the artifact store."
            )
        if not self.exists(MODEL_FILENAME):
            raise ArtifactReadError(
                f"The Keras model artifact at '{uri}' has no {MODEL_FILENAME} file "
                f"(the folder holds: {self._listing()}). Was it written by another "
                "materializer? Its ArtifactView.materializer says which one."
            )
        # Keras reads from a path: remote artifacts are downloaded to a temporary folder first.
        with self.local_path() as folder:
            model_path = str(folder / MODEL_FILENAME)
            if not zipfile.is_zipfile(model_path):
                raise ArtifactReadError(
                    f"The Keras model artifact at '{uri}' is corrupt: {MODEL_FILENAME} is not a "
                    "valid .keras (zip) archive; it may be truncated or overwritten."
                )
            try:
                return keras.models.load_model(model_path, safe_mode=self.safe_mode)
            except Exception as e:
                raise ArtifactReadError(
                    f"Could not load the Keras model artifact at '{uri}': "
                    f"{type(e).__name__}: {e}{_read_hint(e)}"
                ) from e

    def _listing(self) -> str:
        listdir = getattr(self.artifact, "listdir", None)
        if listdir is None:
            return _listing(self.path)
        try:
            names: list[str] = listdir()
        except OSError as e:
            return f"<cannot list: {e.strerror or e}>"
        return ", ".join(names) if names else "nothing"

    def _verify_readable(self, keras: ModuleType, model: Any, model_path: str) -> None:
        """Rebuilds the model from the config just written, the way ``load_model`` would."""
        try:
            with zipfile.ZipFile(model_path) as archive:
                config = json.loads(archive.read("config.json"))
            keras.saving.deserialize_keras_object(config, safe_mode=self.safe_mode)
        except Exception as e:
            raise ValueError(
                f"KerasMaterializer cannot store model {model.name!r} "
                f"({type(model).__module__}.{type(model).__qualname__}): it can be saved but "
                f"not loaded back (safe_mode={self.safe_mode}), so the artifact would be "
                f"unreadable. Keras says: {type(e).__name__}: {e}"
            ) from e


def _import_keras(action: str) -> ModuleType:
    """Imports Keras, or explains what to install to ``action``."""
    try:
        import keras
    except ImportError as e:
        raise ImportError(
            f"TensorFlow / Keras is needed to {action}, but it could not be imported ({e}). "
            f"Install it with: {_INSTALL_HINT}"
        ) from e
    module: ModuleType = keras  # keras ships no type information
    return module


def _listing(folder: Path) -> str:
    try:
        names = sorted(p.name for p in folder.iterdir())
    except OSError as e:
        return f"<cannot list: {e.strerror or e}>"
    return ", ".join(names) if names else "nothing"


def _read_hint(error: Exception) -> str:
    text = str(error)
    if "register_keras_serializable" in text or "Could not locate" in text:
        return (
            ". Import the module that defines and registers the custom class "
            "(@keras.saving.register_keras_serializable) before reading."
        )
    return ""
