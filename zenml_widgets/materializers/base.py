"""Materializers turn a step's return value into files in an artifact folder and back.

A materializer is constructed with an *artifact*: any object with a ``uri`` attribute naming a
folder (absolute local path). ``handle_return(data)`` writes ``data`` into that folder;
``handle_input(data_type)`` reads it back as ``data_type``. The runner gives a materializer a
fresh temporary folder to write into and moves it into place only when writing succeeded, so a
materializer never needs to worry about half-written artifacts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol

from zenml_widgets.materializers.registry import default_registry


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
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = ()
    ASSOCIATED_TYPE_NAMES: ClassVar[tuple[str, ...]] = ()
    REGISTER: ClassVar[bool] = True

    def __init__(self, artifact: ArtifactLike) -> None:
        self.artifact = artifact

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("REGISTER", True) and (
            cls.ASSOCIATED_TYPES or cls.ASSOCIATED_TYPE_NAMES
        ):
            default_registry.register(cls)

    @property
    def path(self) -> Path:
        """The artifact folder as a ``Path``."""
        return Path(self.artifact.uri)

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


def type_names(data_type: type[Any]) -> list[str]:
    """Dotted paths of ``data_type`` and every class in its MRO, most specific first."""
    mro = getattr(data_type, "__mro__", (data_type,))
    return [f"{t.__module__}.{t.__qualname__}" for t in mro]


def _is_subclass(a: type[Any], b: type[Any]) -> bool:
    try:
        return issubclass(a, b)
    except TypeError:
        return False
