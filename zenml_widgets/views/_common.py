"""Shared pieces of the accessor views: identity, error messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from zenml_widgets import rendering
from zenml_widgets.exceptions import did_you_mean, listing

__all__ = ["TimedView", "View", "did_you_mean", "duration", "listing"]

if TYPE_CHECKING:
    from zenml_widgets.stack import Stack


def duration(start: datetime | None, end: datetime | None) -> timedelta | None:
    """``end - start`` or ``None`` while unfinished."""
    if start is None or end is None:
        return None
    return end - start


class View:
    """Base of the read-only views: identity is (store, kind, record id)."""

    _kind: str = "view"

    def __init__(self, stack: Stack, record_id: int) -> None:
        self._stack = stack
        self._id = record_id

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            raise AttributeError(f"{type(self).__name__} is read-only; cannot set {name!r}.")
        object.__setattr__(self, name, value)

    def _identity(self) -> tuple[str, str, int]:
        return (self._stack.metadata_url, self._kind, self._id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, View) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    @property
    def id(self) -> int:
        """The record's id in its metadata store."""
        return self._id

    @property
    def stack_key(self) -> str:
        """The name of the stack this object lives in."""
        return self._stack.key

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return rendering.mimebundle(self, self._kind, include, exclude)


class _TimedRecord(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def start_time(self) -> datetime: ...
    @property
    def end_time(self) -> datetime | None: ...


R = TypeVar("R", bound=_TimedRecord)


class TimedView(View, Generic[R]):
    """A view of a record that runs for a while (a run, a step): re-read while it is running,
    never again once finished."""

    _record: R
    #: Read once and kept as it was (``PipelineRunView.snapshot``): not asked again.
    _frozen = False

    def _reload(self) -> R:
        raise NotImplementedError

    def _current(self) -> R:
        if self._record.status in ("running", "pending") and not self._frozen:
            object.__setattr__(self, "_record", self._reload())
        return self._record

    @property
    def start_time(self) -> datetime:
        """When it started (UTC)."""
        return self._record.start_time

    @property
    def end_time(self) -> datetime | None:
        """When it ended (UTC), ``None`` while it runs."""
        return self._current().end_time

    @property
    def duration(self) -> timedelta | None:
        """How long it took, ``None`` while it runs."""
        return duration(self.start_time, self.end_time)
