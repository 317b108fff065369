"""What a stored type can show, as its materializer declares it, and the lookups that use it.

Every type shows a short HTML preview of an object read back (``preview_html``) and a one-line
description (``describe``). Beyond that, a materializer's ``capabilities(data_type)`` names what
objects of a type can show:

* :data:`TABLE`: a table (pandas DataFrames). Its materializer opens a stored one as a
  :class:`TableReader` (schema, row and column counts, head, column / row / filter reads, chunks),
  and previews it from those facts without reading it whole. Statistics (Facets) and the
  comparison of two outputs' columns work on every table.
* :data:`MODEL`: a model (Keras). Its materializer summarizes one
  (:class:`~zenml_widgets.visualizers.model_summary.ModelSummary`: layers, output shapes,
  parameter counts).

Nothing tests class names. An object is looked up by its type (``default_registry.find_preview``
walks the MRO and imports the pandas, numpy or Keras materializer only when a class there has one
of their names); an artifact by the materializer that wrote it (``default_registry.by_path``,
which never imports a path read from a database unless it is one of the package's own).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final, Protocol

from zenml_widgets.exceptions import MaterializerNotFoundError
from zenml_widgets.materializers.base import BaseMaterializer, type_names
from zenml_widgets.materializers.registry import default_registry

__all__ = [
    "MODEL",
    "TABLE",
    "TableFacts",
    "TableReader",
    "capabilities_of",
    "describe",
    "materializer_of",
    "preview_html",
    "stored_capabilities",
    "stored_type",
]

#: A table: schema, head, subset reads, statistics, comparison (see the module docstring).
TABLE: Final = "table"
#: A model: a summary of its layers, output shapes and parameter counts.
MODEL: Final = "model"


class TableReader(Protocol):
    """Parts of a stored table without reading it whole; reads return pandas objects."""

    def facts(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        ...

    def schema(self) -> Any:
        """Column labels and dtypes, like ``DataFrame.dtypes``."""
        ...

    def head(self, n: int = 5) -> Any:
        """The first ``n`` rows."""
        ...

    def read(
        self,
        columns: Sequence[Any] | None = None,
        rows: slice | None = None,
        filters: Any = None,
    ) -> Any:
        """Only these columns, row positions and rows matching ``filters``."""
        ...

    def iter_frames(self, columns: Sequence[Any] | None = None) -> Iterator[Any]:
        """The table in chunks, with bounded memory."""
        ...


class TableFacts(Protocol):
    """What a table preview is made of (an ``ArtifactView`` of a table has all of it)."""

    @property
    def num_rows(self) -> int:
        """Rows of the table."""
        ...

    @property
    def num_columns(self) -> int:
        """Columns of the table."""
        ...

    @property
    def schema(self) -> Any:
        """Column labels and dtypes, like ``DataFrame.dtypes``."""
        ...

    def head(self, n: int = 5) -> Any:
        """The first ``n`` rows."""
        ...


def materializer_of(obj: Any) -> type[BaseMaterializer]:
    """The materializer that shows ``obj``: the one for its type, found along its MRO (also
    those that only show a type, ``PREVIEW_TYPE_NAMES``), else ``BaseMaterializer``."""
    return default_registry.find_preview(type(obj)) or BaseMaterializer


def capabilities_of(obj: Any) -> frozenset[str]:
    """What ``obj`` can show besides a preview (``TABLE``, ``MODEL``...)."""
    return materializer_of(obj).capabilities(type(obj))


def preview_html(obj: Any) -> str:
    """A short, escaped HTML preview of ``obj``, by the materializer of its type."""
    return materializer_of(obj).preview_html(obj)


def describe(obj: Any) -> str:
    """One line saying what ``obj`` is, e.g. ``DataFrame (50 rows, 2 columns)``."""
    return materializer_of(obj).describe(obj)


def stored_type(materializer_class: type[BaseMaterializer], data_type: str) -> type[Any]:
    """Which of ``materializer_class``'s own types the recorded ``data_type`` names; a type path
    read from a database is never imported.

    A name from the same package with the same class name matches too: pandas 2.x records
    ``pandas.core.frame.DataFrame`` where pandas 3 says ``pandas.DataFrame``. Anything else (a
    subclass, say) is the materializer's first type.
    """
    own = materializer_class.ASSOCIATED_TYPES
    for t in own:
        if data_type == type_names(t)[0]:
            return t
    package, _, rest = data_type.partition(".")
    for t in own:
        same_package = t.__module__.partition(".")[0] == package
        if same_package and f".{rest}".endswith(f".{t.__qualname__}"):
            return t
    return own[0] if own else object


def stored_capabilities(materializer: str, data_type: str) -> frozenset[str]:
    """What an artifact that ``materializer`` (a dotted class path) wrote as ``data_type`` can
    show; nothing when that materializer is not registered in this process."""
    try:
        cls = default_registry.by_path(materializer)
    except (MaterializerNotFoundError, ImportError):
        return frozenset()
    return cls.capabilities(stored_type(cls, data_type))
