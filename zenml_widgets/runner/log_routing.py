"""The process's router of output: ``sys.stdout``, ``sys.stderr`` and the root logger send
what a running step writes to its attempt's log (``runner/capture.py``), anything else where it
went before.

Installed once per process, the first time a step captures its output (and again if something
replaced ``sys.stdout`` since); never swapped per step. A write finds its attempt's log in a
``ContextVar`` that ``capture`` sets in the step's context, which the threads the step starts
inherit (``runner/context.py``); ``sys.stdout.write`` finds the C ``write`` of the attempt's
stdout stream in another, through a property whose getter is ``ContextVar.get`` itself, so a
printing step runs no Python code per line (:class:`StdoutRouter`). While steps run, the
root logger's level is lowered to the lowest level they keep; the root's other handlers get a
filter so that they see only what they saw before.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zenml_widgets.runner.capture import AttemptLog

_capture: contextvars.ContextVar[AttemptLog | None] = contextvars.ContextVar(
    "zenml_widgets_logs", default=None
)
_capture_get = _capture.get
#: In a step's context, the C ``write`` of its attempt's stdout text stream (``AttemptLog.out``)
_stdout_write: contextvars.ContextVar[Callable[[str], int]] = contextvars.ContextVar(
    "zenml_widgets_stdout"
)
#: What ``Routing.enter`` set, for ``Routing.leave`` to reset.
Tokens = tuple[contextvars.Token["AttemptLog | None"], contextvars.Token[Callable[[str], int]]]


def current_log() -> AttemptLog | None:
    """The log of the step attempt this thread runs for, if its output is captured."""
    return _capture_get()


class StreamRouter:
    """``sys.stdout`` / ``sys.stderr``: a write from a running step goes to its attempt's log,
    any other to the stream that was there before (``original``)."""

    def __init__(self, name: str, original: IO[str]) -> None:
        self.name = name
        self.original = original
        self._buffer = BytesRouter(self)

    def write(self, text: str) -> int:
        log = _capture_get()
        if log is None:
            return self.original.write(text)
        if type(text) is not str and not isinstance(text, str):
            what = "None" if text is None else type(text).__name__  # as io.TextIOWrapper says
            raise TypeError(f"write() argument must be str, not {what}")
        if self.name == "stdout":
            return log.out.write(text)
        return log.write_err(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if _capture_get() is None:
            self.original.flush()

    @property
    def buffer(self) -> BytesRouter:
        """The binary side (``sys.stdout.buffer.write(b"...")``), routed the same way."""
        return self._buffer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class StdoutRouter(StreamRouter):
    """``sys.stdout``. A printing step's hot path (``print`` looks ``write`` up twice a call, for
    the text and for ``"\\n"``) runs no Python code: ``write`` is a property whose getter is the
    C ``ContextVar.get``; in a step it gives the C ``write`` of the attempt's text stream, and
    elsewhere its default, this router, whose ``__call__`` writes where the text goes."""

    def __call__(self, text: str) -> int:
        return StreamRouter.write(self, text)

    def _assign_write(self, value: Callable[[str], int]) -> None:
        """``sys.stdout.write = f``, as IPython does around every cell (to keep the cell's
        output in its history, calling the ``write`` it read before): from then on ``write``
        is ``f``, for every thread, until the router's own is given back (the router itself,
        which ``sys.stdout.write`` is outside a step), which brings the fast path back."""
        if value is not self:
            self.__class__ = AssignedWrite
            self.__dict__["write"] = value

    write = property(_stdout_write.get, _assign_write)


class AssignedWrite(StdoutRouter):
    """``sys.stdout`` while someone else's ``write`` is assigned to it (see
    :meth:`StdoutRouter._assign_write`): writes go to that ``write``, which in turn calls the
    router (a step's text still goes to its log, through the Python path)."""

    write = StreamRouter.write  # the instance's assigned one shadows it

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "write" and value is self:  # the router's own given back
            self.__dict__.pop("write", None)
            self.__class__ = StdoutRouter
            return
        super().__setattr__(name, value)


class BytesRouter:
    """``sys.stdout.buffer``: bytes from a running step go to its log, decoded as UTF-8."""

    def __init__(self, router: StreamRouter) -> None:
        self._router = router

    def write(self, data: bytes) -> int:
        log = _capture_get()
        if log is not None:
            log.add_bytes(self._router.name, data)
            return len(data)
        original = self._router.original
        binary = getattr(original, "buffer", None)
        if binary is not None:
            return int(binary.write(data))
        original.write(bytes(data).decode("utf-8", "backslashreplace"))
        return len(data)

    def flush(self) -> None:
        binary = getattr(self._router.original, "buffer", None)
        if _capture_get() is None and binary is not None:
            binary.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(getattr(self._router.original, "buffer", None), name)


class LoggingRouter(logging.Handler):
    """A handler of the root logger: records of a running step go to its log (from its
    level up); others are left to the other handlers, as if this one were not there."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.gate = logging.WARNING  # the root's level before steps asked for lower ones

    def handle(self, record: logging.LogRecord) -> bool:
        log = _capture_get()
        if log is not None and not log.closed:
            if record.levelno >= log.level:
                log.add_record(record)
            return True
        last = logging.lastResort
        outside = record.levelno >= self.gate and not _other_handlers(record.name, self)
        if last is not None and outside:  # what Python does when no handler takes a record
            last.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - handle() decides
        self.handle(record)


class _Gate(logging.Filter):
    """Put on the root's other handlers while steps lowered the root's level: they see what
    they saw before."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def _other_handlers(name: str, mine: logging.Handler) -> bool:
    """Whether a record of logger ``name`` reaches a handler other than ``mine``."""
    node: Any = logging.getLogger(name)
    while node is not None:
        if any(h is not mine for h in node.handlers):
            return True
        if not node.propagate:
            return False
        node = node.parent
    return False


class Routing:
    """The process's routers, and the root logger's level while steps run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.handler = LoggingRouter()
        self.levels: Counter[int] = Counter()
        self.saved_level: int | None = None
        self.gates: list[tuple[logging.Handler, _Gate]] = []

    def original(self, name: str) -> IO[str] | None:
        """The stream ``sys.<name>`` was before the router (``None`` if there is none)."""
        stream: Any = getattr(sys, name, None)
        while isinstance(stream, StreamRouter):
            stream = stream.original
        return stream  # type: ignore[no-any-return]

    def enter(self, log: AttemptLog) -> Tokens:
        """Route this context's output to ``log`` (until ``leave``)."""
        with self.lock:
            for name, router in (("stdout", StdoutRouter), ("stderr", StreamRouter)):
                stream = getattr(sys, name, None)
                if stream is not None and not isinstance(stream, StreamRouter):
                    setattr(sys, name, router(name, stream))
            self.levels[log.level] += 1
            self._set_level()
        return _capture.set(log), _stdout_write.set(log.out.write)

    def leave(self, log: AttemptLog, tokens: Tokens) -> None:
        """Stop routing to ``log`` (the attempt ended)."""
        _capture.reset(tokens[0])
        _stdout_write.reset(tokens[1])
        with self.lock:
            self.levels[log.level] -= 1
            if self.levels[log.level] <= 0:
                del self.levels[log.level]
            self._set_level()

    def _set_level(self) -> None:
        root = logging.getLogger()
        if not self.levels:
            if self.saved_level is not None:
                root.removeHandler(self.handler)
                for handler, gate in self.gates:
                    handler.removeFilter(gate)
                self.gates = []
                root.setLevel(self.saved_level)
                self.saved_level = None
            return
        if self.saved_level is None:
            self.saved_level = root.level
            self.handler.gate = root.getEffectiveLevel() or logging.NOTSET
            self.gates = [(h, _Gate(self.handler.gate)) for h in root.handlers]
            for handler, gate in self.gates:
                handler.addFilter(gate)
            root.addHandler(self.handler)
        root.setLevel(min(self.saved_level, *self.levels))


ROUTING = Routing()
