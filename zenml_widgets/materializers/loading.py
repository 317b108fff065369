"""Loading a stored artifact back into an object, shared by the read-only views
(``ArtifactView.read``) and the runner (a step's inputs).

A :class:`StoredArtifact` is what loading needs to know of an artifact: the artifact store it lives
in, its key there, and the type and materializer recorded when it was written. It knows no
metadata store. It also gives what the artifact can show, as that materializer declares it for
the stored type (:mod:`zenml_widgets.materializers.capabilities`): its ``capabilities()`` and,
for tables, parts of the table (``with_table``). Every failure is an ``ArtifactReadError`` that
names the artifact and its URI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zenml_widgets.exceptions import (
    ArtifactReadError,
    ArtifactStoreError,
    MaterializerNotFoundError,
)
from zenml_widgets.materializers.base import BaseMaterializer
from zenml_widgets.materializers.capabilities import (
    MODEL,
    TABLE,
    TableFacts,
    TableReader,
    stored_capabilities,
    stored_type,
)
from zenml_widgets.materializers.registry import default_registry

if TYPE_CHECKING:
    from zenml_widgets.artifacts import ArtifactFolder, ArtifactStore
    from zenml_widgets.visualizers.model_summary import ModelSummary


@dataclass(frozen=True)
class StoredArtifact:
    """An artifact in an artifact store, as recorded when it was written.

    Attributes:
        store: the artifact store holding it.
        name: the output name (for messages).
        key: its location relative to ``store``.
        data_type: dotted type path of the stored object.
        materializer: dotted class path of the materializer that wrote it.
        writer: who wrote it, for messages (e.g. ``"step 12"``).
    """

    store: ArtifactStore
    name: str
    key: str
    data_type: str
    materializer: str
    writer: str = "a step"

    @property
    def uri(self) -> str:
        """Absolute location of the artifact's folder; refused if it would leave the store."""
        return self.store.uri(self.key)

    def materializer_class(
        self, materializer_class: type[BaseMaterializer] | None = None
    ) -> type[BaseMaterializer]:
        """``materializer_class``, or the registered materializer that wrote the artifact."""
        if materializer_class is not None:
            return materializer_class
        try:
            return default_registry.by_path(self.materializer)
        except MaterializerNotFoundError as e:
            raise ArtifactReadError(
                f"Cannot read artifact {self.name!r} at {self._uri()}: {e}"
            ) from e

    def folder(self) -> ArtifactFolder:
        """The artifact's folder, checked to exist (a clear error naming the URI otherwise)."""
        try:
            uri = self.store.uri(self.key)
            folder = self.store.folder(self.key)
        except ArtifactStoreError as e:
            raise ArtifactReadError(f"Refusing to read artifact {self.name!r}: {e}") from e
        try:
            present = folder.exists()
        except Exception as e:  # object storage unreachable, permissions, ...
            raise ArtifactReadError(
                f"Cannot reach artifact {self.name!r} at {uri}: {type(e).__name__}: {e}"
            ) from e
        if not present:
            raise ArtifactReadError(
                f"Artifact {self.name!r} is missing: nothing at its URI {uri} "
                f"(written by {self.writer} with {self.materializer})."
            )
        return folder

    def load(
        self,
        output_data_type: type[Any] | None = None,
        materializer_class: type[BaseMaterializer] | None = None,
    ) -> Any:
        """The whole object, read by ``materializer_class`` (default: the one that wrote it) as
        ``output_data_type`` (default: the stored type)."""
        # The URI is checked before the materializer is looked up: a key that would leave the
        # store is refused whatever wrote it.
        self._uri()
        cls = self.materializer_class(materializer_class)
        data_type = output_data_type or self.stored_type(cls)
        folder = self.folder()
        try:
            return cls(folder).handle_input(data_type)
        except ArtifactReadError:
            raise
        except ImportError as e:
            raise ArtifactReadError(
                f"Cannot read artifact {self.name!r} at {self._uri()}: {e}"
            ) from e
        except Exception as e:
            used = cls.dotted_path()
            detail = f"{type(e).__name__}: {e}"
            if used != self.materializer:
                raise ArtifactReadError(
                    f"{cls.__name__} cannot read artifact {self.name!r} at {self._uri()}, "
                    f"which {self.materializer} wrote ({self.data_type}): {detail}"
                ) from e
            raise ArtifactReadError(
                f"Artifact {self.name!r} at {self._uri()} is corrupt or unreadable by "
                f"{self.materializer}: {detail}"
            ) from e

    def with_materializer(self, use: Callable[[BaseMaterializer], Any]) -> Any:
        """Run ``use`` on the materializer that wrote the artifact, opened on its folder, with
        the errors of :meth:`load`.

        ``KeyError``, ``ValueError`` and ``TypeError`` (a wrong column, a bad argument) pass
        through as they are; anything else means the files are corrupt or unreadable.
        """
        cls = self.materializer_class()
        folder = self.folder()
        try:
            return use(cls(folder))
        except (KeyError, ValueError, TypeError):
            raise
        except Exception as e:
            raise ArtifactReadError(
                f"Artifact {self.name!r} at {self._uri()} is corrupt or unreadable: "
                f"{type(e).__name__}: {e}"
            ) from e

    def stored_type(self, materializer_class: type[BaseMaterializer]) -> type[Any]:
        """The stored type among the materializer's own types: a type path read from a
        database is never imported."""
        return stored_type(materializer_class, self.data_type)

    def capabilities(self) -> frozenset[str]:
        """What the artifact can show besides a preview (``"table"``, ``"model"``), as the
        materializer that wrote it declares for the stored type; nothing when that materializer
        is not registered in this process."""
        return stored_capabilities(self.materializer, self.data_type)

    def with_table(self, what: str, use: Callable[[TableReader], Any]) -> Any:
        """Run ``use`` on the artifact's table (see :meth:`with_materializer` for the errors).

        Raises:
            ArtifactReadError: the materializer is not registered, or the artifact is not a
                table (``what`` names what was asked of it).
        """
        cls = self.materializer_class()
        if TABLE not in cls.capabilities(self.stored_type(cls)):
            raise ArtifactReadError(
                f"Artifact {self.name!r} ({self.data_type}, written by {self.materializer}) is "
                f"not a table: {what} and subset reads work for DataFrame outputs only. "
                "Use read() to load it whole."
            )
        return self.with_materializer(lambda m: use(m.table()))

    def model_summary(self) -> ModelSummary:
        """A stored model's summary from its files, without loading it (Keras: the ``.keras``
        file's config and weight shapes; TensorFlow is not imported).

        Raises:
            ArtifactReadError: the artifact is not a model, or its files are unreadable.
        """
        cls = self.materializer_class()
        if MODEL not in cls.capabilities(self.stored_type(cls)):
            raise ArtifactReadError(
                f"Artifact {self.name!r} ({self.data_type}, written by {self.materializer}) is "
                "not a model: it has no layer summary."
            )
        summary: ModelSummary = self.with_materializer(lambda m: m.stored_model_summary())
        return summary

    def preview_html(self, facts: TableFacts | None = None) -> str:
        """A preview of the stored content, made cheaply: a table's shape, dtypes and first
        rows (``facts``: its recorded shape, schema and head; default: read from the file), a
        model's layers, a small value itself; ``""`` when there is nothing cheap to show.

        Raises:
            ArtifactReadError: the materializer is not registered, or the files are unreadable.
        """
        from zenml_widgets.visualizers.model_summary import summary_html

        cls = self.materializer_class()
        shows = cls.capabilities(self.stored_type(cls))
        if MODEL in shows:
            return summary_html(self.model_summary())
        preview: str
        if TABLE in shows:
            known = facts
            preview = self.with_materializer(
                lambda m: m.table_preview_html(
                    known if known is not None else _TableFacts(m.table())
                )
            )
        else:
            preview = self.with_materializer(lambda m: m.stored_preview_html())
        return preview

    def _uri(self) -> str:
        try:
            return self.store.uri(self.key)
        except ArtifactStoreError as e:
            raise ArtifactReadError(f"Refusing to read artifact {self.name!r}: {e}") from e


def _facts(materializer: BaseMaterializer, known: TableFacts | None) -> TableFacts:
    return known if known is not None else _TableFacts(materializer.table())


class _TableFacts:
    """A table's facts straight from its reader (when no recorded facts are at hand)."""

    def __init__(self, reader: TableReader) -> None:
        self._reader = reader
        self.num_rows, self.num_columns = reader.facts()
        self.schema = reader.schema()

    def head(self, n: int = 5) -> Any:
        """The first ``n`` rows."""
        return self._reader.head(n)
