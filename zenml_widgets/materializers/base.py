"""Materializers turn a step's return value into files in an artifact folder and back.

A materializer is constructed with an *artifact*: an object with a ``uri`` attribute naming a
folder. The artifact stores hand over a folder handle (``zenml_widgets.artifacts.ArtifactFolder``)
that also opens files, so the same materializer writes to a local folder or to object storage:
use ``self.open(name, mode)`` for streams, ``self.exists(name)``, and ``self.local_path()`` only
for libraries that need a real path (it downloads or uploads when the artifact is remote).
A plain object with only a local ``uri`` works too. ``handle_return(data)`` writes ``data`` into
the folder; ``handle_input(data_type)`` reads it back as ``data_type``. The runner gives a
materializer a fresh temporary folder to write into and publishes it only when writing
succeeded, so a materializer never needs to worry about half-written artifacts.

A materializer also says what its types can show (see
:mod:`zenml_widgets.materializers.capabilities`): ``preview_html`` and ``describe`` for every
type, and ``capabilities(data_type)`` with what goes with them: ``table()`` and
``table_preview_html`` for tables, ``model_summary`` for models. A stored artifact previews its
content cheaply, without being read whole: ``stored_model_summary`` (models: from the files, no
framework import) and ``stored_preview_html`` (anything else that is cheap to show).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Protocol, cast

from zenml_widgets.materializers.registry import default_registry
from zenml_widgets.visualizers.html import block, esc, preformatted

if TYPE_CHECKING:
    from zenml_widgets.materializers.capabilities import TableFacts, TableReader
    from zenml_widgets.visualizers.model_summary import ModelSummary


class ArtifactLike(Protocol):
    """What a materializer needs to know about an artifact: where its folder is."""

    @property
    def uri(self) -> str: ...


class BaseMaterializer:
    """Base class of all materializers.

    Subclasses list the types they handle in ``ASSOCIATED_TYPES`` (classes) or, for types whose
    library is heavy and must not be imported eagerly, in ``ASSOCIATED_TYPE_NAMES`` (dotted
    paths such as ``"keras.src.models.model.Model"``). Defining a subclass registers it; set
    ``REGISTER = False`` on a subclass that should not be picked automatically.

    Attributes:
        PREVIEW_TYPE_NAMES: Dotted paths of types this materializer shows (previews,
            summaries) but does not write, e.g. models of older Keras versions.
        NOTEBOOK_PREVIEW: Whether notebook cells show objects of these types with
            :meth:`preview_html` once the IPython extension is loaded; for types whose own
            display is a plain repr (a DataFrame keeps its own).
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = ()
    ASSOCIATED_TYPE_NAMES: ClassVar[tuple[str, ...]] = ()
    PREVIEW_TYPE_NAMES: ClassVar[tuple[str, ...]] = ()
    REGISTER: ClassVar[bool] = True
    NOTEBOOK_PREVIEW: ClassVar[bool] = False

    def __init__(self, artifact: ArtifactLike) -> None:
        self.artifact = artifact
        #: Shape of what ``handle_return`` wrote, when it is a table (recorded in the metadata
        #: store so previews need not open the file); ``None`` otherwise.
        self.num_rows: int | None = None
        self.num_columns: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("REGISTER", True) and (
            cls.ASSOCIATED_TYPES or cls.ASSOCIATED_TYPE_NAMES
        ):
            default_registry.register(cls)

    @property
    def is_local(self) -> bool:
        """Whether the artifact folder is on the local file system (``self.path`` is real)."""
        return bool(getattr(self.artifact, "is_local", True))

    @property
    def path(self) -> Path:
        """The artifact folder as a local ``Path`` (only for local artifacts)."""
        if not self.is_local:
            raise ValueError(
                f"{type(self).__name__}: artifact {self.artifact.uri} is not on the local file "
                "system; use self.open(name, mode) or self.local_path()."
            )
        return Path(self.artifact.uri)

    def open(self, name: str, mode: str = "rb") -> IO[Any]:
        """Open file ``name`` inside the artifact folder (text modes use UTF-8)."""
        opener = getattr(self.artifact, "open", None)
        if opener is not None:
            return cast("IO[Any]", opener(name, mode))
        path = self.path / name
        return path.open(mode) if "b" in mode else path.open(mode, encoding="utf-8")

    def exists(self, name: str | None = None) -> bool:
        """Whether file ``name`` (or, without a name, the artifact folder) exists."""
        check = getattr(self.artifact, "exists", None)
        if check is not None:
            return bool(check(name))
        return self.path.is_dir() if name is None else (self.path / name).is_file()

    def local_path(self, write: bool = False) -> AbstractContextManager[Path]:
        """The artifact folder as a real local folder, for libraries that need a path.

        Local artifacts: the folder itself. Remote ones: a temporary copy (``write=False``), or
        an empty temporary folder that is uploaded when the block succeeds (``write=True``).
        """
        local_dir = getattr(self.artifact, "local_dir", None)
        if local_dir is not None:
            return cast("AbstractContextManager[Path]", local_dir(write))
        return _itself(self.path)

    def can_read(self, data_type: type[Any]) -> bool:
        """Whether this materializer can produce ``data_type``."""
        return any(_is_subclass(data_type, t) for t in self.ASSOCIATED_TYPES) or any(
            name in self.ASSOCIATED_TYPE_NAMES for name in type_names(data_type)
        )

    def handle_input(self, data_type: type[Any]) -> Any:
        """Read the artifact folder and return an object of ``data_type``."""
        raise NotImplementedError(f"{type(self).__name__} cannot read artifacts")

    def handle_return(self, data: Any) -> None:
        """Write ``data`` into the artifact folder."""
        raise NotImplementedError(f"{type(self).__name__} cannot write artifacts")

    @classmethod
    def dotted_path(cls) -> str:
        """``module.ClassName`` of this materializer, as recorded in the metadata store."""
        return f"{cls.__module__}.{cls.__qualname__}"

    # --- what the types can show -------------------------------------------------------------

    @classmethod
    def capabilities(cls, data_type: type[Any]) -> frozenset[str]:
        """What objects of ``data_type`` can show besides a preview: ``"table"``, ``"model"``
        (see :mod:`zenml_widgets.materializers.capabilities`). Nothing, unless overridden."""
        return frozenset()

    @classmethod
    def preview_html(cls, obj: Any) -> str:
        """A short HTML preview of ``obj`` (an object read back), every string in it escaped.

        The default shows the type and the (truncated) repr.
        """
        return block(f"<code>{esc(type_path(obj))}</code>", preformatted(repr(obj)))

    @classmethod
    def describe(cls, obj: Any) -> str:
        """One line of plain text saying what ``obj`` is; the default is its class name."""
        return type(obj).__name__

    def table(self) -> TableReader:
        """Tables: parts of the stored table without reading it whole."""
        raise NotImplementedError(f"{type(self).__name__} stores no tables")

    @classmethod
    def table_preview_html(cls, table: TableFacts) -> str:
        """Tables: a preview of a stored table from its facts (shape, schema, first rows)."""
        raise NotImplementedError(f"{cls.__name__} stores no tables")

    @classmethod
    def model_summary(cls, model: Any) -> ModelSummary:
        """Models: ``model``'s layers, output shapes and parameter counts."""
        raise NotImplementedError(f"{cls.__name__} stores no models")

    def stored_model_summary(self) -> ModelSummary:
        """Models: the stored model's summary, read from its files without loading the model
        (and without importing its framework)."""
        raise NotImplementedError(f"{type(self).__name__} stores no models")

    def stored_preview_html(self) -> str:
        """A preview of the stored artifact that is cheap to make (a few kB read at most), or
        ``""`` when there is none; tables and models have their own (``table_preview_html``,
        ``stored_model_summary``). The default is ``""``."""
        return ""


def type_path(obj: Any) -> str:
    """``module.Name`` of ``obj``'s class."""
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def type_names(data_type: type[Any]) -> list[str]:
    """Dotted paths of ``data_type`` and every class in its MRO, most specific first."""
    mro = getattr(data_type, "__mro__", (data_type,))
    return [f"{t.__module__}.{t.__qualname__}" for t in mro]


def _is_subclass(a: type[Any], b: type[Any]) -> bool:
    try:
        return issubclass(a, b)
    except TypeError:
        return False


@contextmanager
def _itself(path: Path) -> Iterator[Path]:
    yield path
