"""The step attempt that running code belongs to.

``execute_step`` (``runner/attempts.py``) enters :func:`running` around each call of a step
function; the step's code, and the threads it starts, find that attempt with :func:`current`
(``None`` outside a running step). What happens inside a step hangs off it: the output it
prints and logs, and the metrics it logs. A Dask worker runs several steps at once, each in a
thread of its own, so the attempt is found per thread (a ``contextvars.ContextVar``), never
through process-wide state; threads started while a step runs inherit it (``threading.Thread``
is taught to carry the starting thread's context, once, the first time a step runs).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from zenml_widgets.stack import Stack

T = TypeVar("T")


@dataclass
class StepContext:
    """One running attempt of a step: where it records, and what hangs off it.

    Attributes:
        stack: the stack the run records on.
        pipeline_name, run_id, run_name, step_id, step_name: the step's run and record.
        attempt: the attempt's number (1 for the first execution).
    """

    stack: Stack
    pipeline_name: str
    run_id: int
    run_name: str
    step_id: int
    step_name: str
    attempt: int
    ended: bool = False
    _parts: dict[str, Any] = field(default_factory=dict, repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def part(self, key: str, make: Callable[[], T]) -> T:
        """The attempt's ``key`` part (its log capture, its metric buffer...), made by
        ``make()`` the first time it is asked for; ``close`` ends the parts, newest first, when
        the attempt ends (a part that has a ``close()`` method)."""
        with self._lock:
            if key not in self._parts:
                made = make()
                self._parts[key] = made
                closer = getattr(made, "close", None)
                if callable(closer):
                    self._closers.append(closer)
            found: T = self._parts[key]
            return found

    def close(self) -> None:
        """End the attempt: its parts are closed (flushed), newest first; the first error of
        a part is raised once every part had its turn."""
        with self._lock:
            self.ended = True
            closers, self._closers = self._closers[::-1], []
        errors: list[BaseException] = []
        for closer in closers:
            try:
                closer()
            except BaseException as e:
                errors.append(e)
        if errors:
            raise errors[0]


_current: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "zenml_widgets_step", default=None
)


def current() -> StepContext | None:
    """The step attempt this thread runs for, or ``None`` outside a running step."""
    return _current.get()


@contextmanager
def running(context: StepContext) -> Iterator[StepContext]:
    """Run the block as ``context``'s attempt (and the threads it starts); its parts are closed
    when the block ends, however it ends."""
    _carry_context_into_threads()
    token = _current.set(context)
    try:
        yield context
    finally:
        try:
            context.close()
        finally:
            _current.reset(token)


_patched = False
_patch_lock = threading.Lock()


def _carry_context_into_threads() -> None:
    """Make ``threading.Thread.start`` run the new thread in a copy of the starting thread's
    context when that thread runs a step (otherwise threads start as Python starts them)."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        original = threading.Thread.start

        def start(self: threading.Thread) -> None:
            if _current.get() is not None and not getattr(self, "_zw_carried", False):
                context = contextvars.copy_context()
                run = self.run
                self.run = lambda: context.run(run)  # type: ignore[method-assign]
                self._zw_carried = True  # type: ignore[attr-defined]
            original(self)

        threading.Thread.start = start  # type: ignore[method-assign]
        _patched = True
