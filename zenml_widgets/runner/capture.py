"""What a step attempt prints and logs, kept in the artifact store while it runs.

One router per process, installed the first time a step runs and kept: ``sys.stdout`` and
``sys.stderr`` become :class:`StreamRouter` objects and the root logger gets a
:class:`LoggingRouter` handler. Each write asks the running attempt of its thread
(``runner/context.py``: a ``ContextVar``, inherited by the threads a step starts) for its
:class:`AttemptLog`; with none (no step runs in this thread) the write goes to the stream that
was there before, untouched. So the steps a Dask worker runs at once in its threads each keep
their own lines, and nothing else is captured.

The hot path runs no Python code: ``print`` in a step finds, as ``sys.stdout.write``, the C
``write`` of the attempt's own text stream (``AttemptLog.out``: an ``io.TextIOWrapper`` that
encodes and hands its bytes to a list every 64 KiB). stderr goes through the router (Python),
each write after what stdout holds. One background thread per process (:class:`_Flusher`)
cuts what was written every ``TICK`` seconds into blocks of lines (one join, one ``replace``
per block: never line by line), echoes them to the console prefixed with the step's name when
asked (``[trainer] epoch 3``), and writes them to the artifact store
(``artifacts/step_logs.py``) at least every ``FLUSH_INTERVAL`` seconds. A line's time is
exact for logging records and for the switches from stdout to stderr; a run of lines of one
stream has the time of its cut (within ``TICK``), a run of stderr lines that of its last line.

Not captured: output written straight to the file descriptors (C extensions, subprocesses).
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import io
import logging
import os
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast

from zenml_widgets.artifacts.step_logs import (
    DEFAULT_MAX_BYTES,
    MORE,
    NEW,
    SPLIT,
    Block,
    LogWriter,
    fmt_bytes,
    log_key,
)
from zenml_widgets.runner.log_routing import ROUTING, Tokens

if TYPE_CHECKING:
    from zenml_widgets.runner.context import StepContext

logger = logging.getLogger("zenml_widgets")

#: Seconds between the cuts of the lines being written (and their echo).
TICK = 0.1
#: Seconds between writes of an attempt's lines to the artifact store (at most).
FLUSH_INTERVAL = 1.0
#: The ``StepContext`` part of an attempt's logs.
PART = "logs"
#: Seconds a partial line (no line break yet) waits before it is written as it is.
PARTIAL_WAIT = 1.0
_STDOUT, _STDERR = "stdout", "stderr"
_ESCAPE = "backslashreplace"  # how text that is not valid UTF-8 (or bytes that are not) is kept


@dataclass(frozen=True)
class LogSettings:
    """How an attempt's output is kept.

    Attributes:
        capture: whether to keep it at all (``False``: the output goes where it went before).
        level: the lowest level of the logging records kept.
        max_bytes: the cap of one attempt's logs (head and tail kept).
        echo: print each line on this process's console too, prefixed ``[step] ``.
    """

    capture: bool = True
    level: int = logging.INFO
    max_bytes: int = DEFAULT_MAX_BYTES
    echo: bool = False

    @classmethod
    def from_options(cls, options: dict[str, Any], *, echo: bool = False) -> LogSettings:
        """Settings from a stack's ``log_options`` (checked already)."""
        level = options.get("level", "INFO")
        number = level if isinstance(level, int) else logging.getLevelName(level)
        return cls(
            capture=bool(options.get("capture", True)),
            level=int(number),
            max_bytes=int(options.get("max_bytes", DEFAULT_MAX_BYTES)),
            echo=echo,
        )


class AttemptLog:
    """One attempt's captured lines, on their way to the artifact store (a ``StepContext``
    part: closed, so flushed and finished, when the attempt ends)."""

    def __init__(self, context: StepContext, settings: LogSettings) -> None:
        self.name = context.step_name
        self.key = log_key(context.run_id, context.step_id, context.attempt)
        self.writer = LogWriter(context.stack.artifact_store, self.key, settings.max_bytes)
        self.level = settings.level
        self.echo = settings.echo
        # stdout: ``print`` in the step writes to ``out`` straight (``log_routing.py``), a C
        # text stream that encodes and hands ``out_items`` its bytes every 64 KiB (and on flush)
        self.out_items: list[bytes] = []
        self.out = _text_stream(self.out_items)
        # stderr (through the router): written after all that ``out`` holds (``write_err``)
        self.err_texts: list[str] = []
        self.err_time = 0.0  # when the last of them was written
        self.cut_lock = threading.Lock()
        self.segments: deque[tuple[float, str, Any]] = deque()
        self.ripe = 0  # segments cut before the last tick: no late append can reach them
        self.partial: dict[str, tuple[float, bytes]] = {}  # a line without its break yet
        self.continues: set[str] = set()  # streams whose next line goes on a written part
        self.decoders: dict[str, codecs.IncrementalDecoder] = {}
        self.pending: list[Block] = []  # lines not in the store yet
        self.pending_bytes = 0
        self.last_store = time.monotonic()
        self.failing_since: float | None = None
        self.failure = ""
        self.lost_lines = 0
        self.warnings: list[str] = []
        self.lock = threading.Lock()
        self.closed = False
        self._token: Tokens | None = None

    def start(self) -> AttemptLog:
        """Route this thread's output (and its new threads') here, until ``close``."""
        self._token = ROUTING.enter(self)
        _FLUSHER.watch(self)
        return self

    # -- the writing side (any thread of the step) ------------------------------------------

    def write_err(self, text: str) -> int:
        """Keep ``text`` written to stderr: after what stdout holds, cut off first if any."""
        self.out.flush()  # C: what ``out`` holds goes to ``out_items``
        if self.out_items:
            self.cut(time.time())
        self.err_texts.append(text)
        self.err_time = time.time()
        return len(text)

    def cut(self, now: float) -> None:
        """Cut what was written so far off into segments: stderr's (of the time of its last
        write: all of it came before stdout's), then stdout's (of time ``now``). Writers only
        append, so taking the first ``n`` items and deleting them loses no late write."""
        with self.cut_lock:
            err = self.err_texts
            n = len(err)
            if n:
                self.segments.append((self.err_time, _STDERR, err[:n]))
                del err[:n]
            self.out.flush()
            items = self.out_items
            n = len(items)
            if n:
                self.segments.append((now, _STDOUT, b"".join(items[:n])))
                del items[:n]

    def add_record(self, record: logging.LogRecord) -> None:
        """Keep a logging record (its message, exception and stack, as lines of one record)."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what was given
            message = f"{record.msg!r} % {record.args!r}"
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        elif record.exc_text:
            message += "\n" + record.exc_text
        if record.stack_info:
            message += "\n" + record.stack_info
        self.cut(time.time())
        self.segments.append((record.created, record.levelname, (record.name, message)))

    def add_error(self, text: str) -> None:
        """End the attempt's stderr with ``text`` (why the attempt failed)."""
        self.cut(time.time())
        self.segments.append((time.time(), _STDERR, [text.rstrip("\n") + "\n"]))

    def add_bytes(self, stream: str, data: bytes | bytearray | memoryview) -> None:
        """Keep bytes written to ``sys.stdout.buffer`` (invalid UTF-8 kept as ``\\xNN``)."""
        decoder = self.decoders.get(stream)
        if decoder is None:
            decoder = self.decoders[stream] = codecs.getincrementaldecoder("utf-8")(
                "backslashreplace"
            )
        text = decoder.decode(bytes(data))
        if text:
            if stream == _STDOUT:
                self.out.write(text)
            else:
                self.write_err(text)

    # -- the flushing side (the flusher thread, and close) ----------------------------------

    def drain(self, now: float, final: bool = False) -> list[Block]:
        """Lines complete since the last drain, as blocks (with ``final``: everything)."""
        ripe = len(self.segments) if final else self.ripe
        self.cut(now)
        blocks: list[Block] = []
        for _ in range(len(self.segments) if final else ripe):
            stamp, stream, data = self.segments.popleft()
            if isinstance(data, bytes):  # stdout, encoded by ``out``
                self._lines(blocks, stamp, stream, data)
            elif isinstance(data, list):  # one join and one encode for the whole run of texts
                self._lines(blocks, stamp, stream, "".join(data).encode("utf-8", _ESCAPE))
            else:
                name, message = data
                blocks.append(Block.of(stamp, stream, name, message, NEW, MORE))
        self.ripe = len(self.segments)
        self._partials(blocks, now, final)
        return blocks

    def _lines(self, blocks: list[Block], stamp: float, stream: str, data: bytes) -> None:
        """The complete lines of ``data`` as one block (never split line by line); the rest
        waits for its line break."""
        before = self.partial.pop(stream, None)
        if before is not None:
            data = before[1] + data
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self.partial[stream] = (before[0] if before else stamp, data[end:])
        if end:
            body = data[:end]  # no copy when ``data`` ends with its line break
            flag = SPLIT if stream in self.continues else NEW
            self.continues.discard(stream)
            blocks.append(Block(stamp, stream, "", body, body.count(b"\n"), flag, NEW))

    def _partials(self, blocks: list[Block], now: float, final: bool) -> None:
        """Partial lines that waited long enough (or all, at the end) are written as they
        are; what follows them on their stream goes on the same line (``SPLIT``)."""
        for stream, (since, text) in list(self.partial.items()):
            if final or time.time() - since >= PARTIAL_WAIT:
                del self.partial[stream]
                flag = SPLIT if stream in self.continues else NEW
                blocks.append(Block(now, stream, "", text + b"\n", 1, flag, NEW))
                self.continues.add(stream)

    def flush(self, final: bool = False) -> None:
        """Drain, echo, and write to the store when due (with ``final``: now, and finish)."""
        with self.lock:
            blocks = self.drain(time.time(), final)
            if self.echo and blocks:
                echo(self.name, blocks)
            self.pending += blocks
            self.pending_bytes += sum(len(b.body) for b in blocks)
            due = time.monotonic() - self.last_store >= FLUSH_INTERVAL
            if final or (self.pending and (due or self.pending_bytes > 256 * 1024)):
                self._store(final)

    def _store(self, final: bool) -> None:
        try:
            if self.failing_since is not None:
                self.pending.append(self._late_notice())
            self.writer.add(self.pending)
            if final:
                self.writer.finish(self.warnings)
        except Exception as e:  # the store is unreachable: keep the lines, try again later
            self._failed(e)
            return
        finally:
            self.last_store = time.monotonic()
        if self.failing_since is not None:
            self.failing_since = None
        self.pending, self.pending_bytes = [], 0

    def _failed(self, error: Exception) -> None:
        if self.failing_since is None:
            self.failing_since = time.time()
            self.failure = f"{type(error).__name__}: {error}"
            logger.warning(
                "Step %r: its logs cannot be written to the artifact store (%s); they are "
                "kept in memory (up to %s) and written when it answers again",
                self.name,
                self.failure,
                fmt_bytes(self.writer.max_bytes),
            )
        elif self.pending and self.pending[-1].logger == "zenml_widgets.logs":
            self.pending.pop()  # the notice is made again, with the new figures
        while self.pending_bytes > self.writer.max_bytes and len(self.pending) > 1:
            dropped = self.pending.pop(len(self.pending) // 2)  # keep head and tail
            self.pending_bytes -= len(dropped.body)
            self.lost_lines += dropped.lines

    def _late_notice(self) -> Block:
        down = time.time() - (self.failing_since or time.time())
        text = (
            f"the artifact store could not be written for {down:.1f} s ({self.failure}); "
            "the lines before this one were held and written late"
        )
        if self.lost_lines:
            text += f", {self.lost_lines:,} lines of the middle were lost"
        self.warnings.append(text)
        return Block.of(time.time(), "WARNING", "zenml_widgets.logs", text)

    def close(self) -> None:
        """The attempt ended: write what is left and ``end.json``; never raises (the step's
        result does not depend on its logs)."""
        if self._token is not None:
            ROUTING.leave(self, self._token)
            self._token = None
        try:
            self.flush(final=True)
        except Exception:
            logger.warning("Step %r: its last log lines could not be written", self.name)
        self.closed = True
        _retire(self.out)
        if self.failing_since is not None:
            logger.warning(
                "Step %r: its logs could not be written to the artifact store (%s); %s lost",
                self.name,
                self.failure,
                f"{sum(b.lines for b in self.pending) + self.lost_lines:,} lines",
            )
        _FLUSHER.forget(self)


def echo(name: str, blocks: list[Block]) -> None:
    """Print ``blocks`` on the console this process had before the router, each line prefixed
    with ``[name] `` (stdout to stdout; stderr and logging records to stderr)."""
    prefix = f"[{name}] "
    used: list[IO[str]] = []
    for block in blocks:
        target = ROUTING.original(_STDOUT if block.stream == _STDOUT else _STDERR)
        if target is None:
            continue
        try:
            binary = _utf8_binary(target) if block.stream in (_STDOUT, _STDERR) else None
            if binary is not None:  # the block's bytes as they are: one replace, no decode
                target.flush()  # what the console holds goes first
                pre = prefix.encode()
                data = block.body.replace(b"\n", b"\n" + pre)
                binary.write(pre)
                binary.write(memoryview(data)[: len(data) - len(pre)])
            else:
                text = block.body[:-1].decode("utf-8", _ESCAPE)
                if block.stream not in (_STDOUT, _STDERR):
                    text = f"{block.stream} {block.logger}: {text}"
                target.write(prefix + text.replace("\n", "\n" + prefix) + "\n")
        except (OSError, ValueError):  # a closed console: the lines are kept all the same
            continue
        if target not in used:
            used.append(target)
    for target in used:  # a console that is a pipe shows them now, not when its buffer fills
        with contextlib.suppress(OSError, ValueError):
            target.flush()  # (a TextIOWrapper flushes its binary stream too)


def _utf8_binary(console: IO[str]) -> Any:
    """The binary stream under ``console`` when UTF-8 bytes written there show as the text
    would (a UTF-8 ``TextIOWrapper`` that does not translate line breaks), else ``None``."""
    binary = getattr(console, "buffer", None)
    encoding = getattr(console, "encoding", None)
    if binary is None or not isinstance(encoding, str) or os.linesep != "\n":
        return None
    try:
        return binary if codecs.lookup(encoding).name == "utf-8" else None
    except LookupError:
        return None


class _Sink:
    """The binary end of an attempt's ``out``: each write is appended to a list (C calls
    only: ``list.append``, and ``NoneType()`` as a flush that does nothing)."""

    closed = False

    def __init__(self, items: list[bytes]) -> None:
        self.write: Callable[[Any], object] = items.append
        self.flush: Callable[[], object] = type(None)

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        pass


def _text_stream(items: list[bytes]) -> io.TextIOWrapper:
    """A text stream whose bytes (UTF-8; text that is not valid Unicode kept as ``\\udcNN``)
    end in ``items``: its ``write`` is C, checks its argument as ``sys.stdout``'s does, and
    runs no Python code (the step's threads may write at once: each call holds the GIL)."""
    stream = io.TextIOWrapper(
        cast(Any, _Sink(items)), encoding="utf-8", errors=_ESCAPE, newline="\n"
    )
    stream._CHUNK_SIZE = 1 << 16  # type: ignore[attr-defined]  # bytes held before a write
    return stream


def _late_write(data: bytes) -> int:
    """Bytes written through an ended attempt's ``out`` (a ``sys.stdout.write`` kept from that
    attempt): routed as new ones are, by the writer's context."""
    return int(sys.stdout.buffer.write(data))


def _retire(stream: io.TextIOWrapper) -> None:
    """An ended attempt's ``out`` sends what it is given on, through the router."""
    stream.reconfigure(write_through=True)
    cast(_Sink, stream.buffer).write = _late_write


class _Flusher:
    """The process's one thread that drains the open attempt logs every ``TICK`` seconds."""

    def __init__(self) -> None:
        self.logs: list[AttemptLog] = []
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def watch(self, log: AttemptLog) -> None:
        with self.lock:
            self.logs.append(log)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="zenml-step-logs", daemon=True
                )
                # started from an empty context: it is no step's thread, and in a notebook
                # its echo goes to the cell that runs, not to the one that started it
                contextvars.Context().run(self.thread.start)

    def forget(self, log: AttemptLog) -> None:
        with self.lock:
            if log in self.logs:
                self.logs.remove(log)

    def _run(self) -> None:
        while True:
            time.sleep(TICK)
            with self.lock:
                logs = list(self.logs)
            for log in logs:
                if log.closed:
                    continue
                try:
                    log.flush()
                except Exception:  # never let one log stop the others'
                    logger.debug("flushing the logs of step %r failed", log.name, exc_info=True)


_FLUSHER = _Flusher()


def capture(context: StepContext, settings: LogSettings) -> AttemptLog | None:
    """Keep the output of ``context``'s attempt (from this thread, and the threads it starts)
    as its ``logs`` part, closed when the attempt ends; ``None`` if ``settings`` say not to."""
    if not settings.capture:
        return None
    return context.part(PART, lambda: AttemptLog(context, settings).start())
