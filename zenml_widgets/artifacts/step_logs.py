"""A step attempt's logs in the artifact store: written as chunks while it runs, read by anyone.

The logs of attempt ``n`` of step ``s`` of run ``r`` live in the folder ``logs/r/s/n`` of the
stack's artifact store (local or object storage), so another process (the CLI's ``--follow``,
the explorer of another notebook, the client of a Dask run) reads them while the step runs:

* ``000001.log``, ``000002.log``, ...: the chunks, in order. Each line of a chunk is one
  :class:`LogLine`: ``time<TAB>stream<TAB>flag<TAB>logger<TAB>message``. A chunk only grows
  (the writer appends to it, or rewrites it whole on object storage) until it is sealed and
  the next one starts; readers take complete lines only, so a chunk read while it is written
  is never read half.
* ``cut.json``: once the attempt wrote more than its cap, how much of the middle was cut.
  The writer keeps the head (the first half of the cap) and a tail (the newest chunks up to
  the other half), deleting the oldest chunks of the tail.
* ``end.json``: written when the attempt ended: totals, what was cut, and warnings.

Nothing here knows the metadata store: keys are made of plain numbers.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from zenml_widgets.exceptions import ArtifactStoreError

if TYPE_CHECKING:
    from zenml_widgets.artifacts.base import ArtifactFolder, ArtifactStore

#: The first segment of every log key (``zenml-widgets gc`` looks at numeric keys only).
LOGS_PREFIX = "logs"
#: The default cap of one attempt's logs, in bytes.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CUT_FILE = "cut.json"
END_FILE = "end.json"
SUFFIX = ".log"
#: Streams that are not logging levels.
STREAMS = ("stdout", "stderr")
#: ``LogLine.flag``: a new record; the next line of a multi-line record; the rest of a line
#: split because it was too long (joined to the one before without a line break).
NEW, MORE, SPLIT = "", "+", "~"
_MAX_CHUNK = 256 * 1024
_MIN_CHUNK = 1024


def log_key(run_id: int, step_id: int, attempt: int) -> str:
    """The artifact-store key of the logs of ``attempt`` of step ``step_id`` of run ``run_id``."""
    return f"{LOGS_PREFIX}/{int(run_id)}/{int(step_id)}/{int(attempt)}"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a step's logs.

    Attributes:
        time: when it was written (seconds since the epoch).
        stream: ``stdout``, ``stderr``, or the level name of a ``logging`` record (``INFO``...).
        logger: the logger's name for a logging record, else ``""``.
        message: the text, without its line break.
        flag: ``""`` a new record, ``"+"`` the next line of the same record, ``"~"`` the rest of
            a line too long for one (the line goes on without a break).
    """

    time: float
    stream: str
    logger: str
    message: str
    flag: str = NEW

    def encode(self) -> str:
        """The line as stored (``message`` holds no line break)."""
        return f"{self.time:.3f}\t{self.stream}\t{self.flag}\t{self.logger}\t{self.message}\n"


def parse_line(text: str) -> LogLine:
    """A stored line (without its ``\\n``) back as a ``LogLine``; a line that is not one is kept
    whole as a ``stderr`` message rather than lost."""
    parts = text.split("\t", 4)
    try:
        return LogLine(float(parts[0]), parts[1], parts[3], parts[4], parts[2])
    except (ValueError, IndexError):
        return LogLine(0.0, "stderr", "", text)


def parse_chunk(data: bytes) -> tuple[list[LogLine], int]:
    """The complete lines of ``data`` and how many bytes they take (a last line without its
    ``\\n`` is still being written: it is left for the next read)."""
    end = data.rfind(b"\n") + 1
    if end == 0:
        return [], 0
    text = data[:end].decode("utf-8", errors="backslashreplace")
    return [parse_line(t) for t in text.split("\n")[:-1]], end


def chunk_name(seq: int) -> str:
    """The name of chunk number ``seq`` (from 1)."""
    return f"{seq:06d}{SUFFIX}"


def chunk_seq(name: str) -> int | None:
    """The number of chunk ``name``; ``None`` for a file that is not a chunk."""
    stem = name.removesuffix(SUFFIX)
    return int(stem) if name.endswith(SUFFIX) and stem.isdigit() else None


def fmt_bytes(n: int) -> str:
    """``n`` bytes for people: ``812 B``, ``3.4 KB``, ``7.8 MB``."""
    if n < 1024:
        return f"{n} B"
    exp = min(int(math.log(n, 1024)), 4)
    return f"{n / 1024**exp:.1f} {'KMGT'[exp - 1]}B"


def cut_notice(lines: int, size: int, time_: float = 0.0) -> LogLine:
    """The line shown where the middle of long logs was cut."""
    what = f"{lines:,} line{'s' if lines != 1 else ''} ({fmt_bytes(size)})"
    return LogLine(time_, "cut", "", f"[... {what} cut: the logs' size cap keeps head and tail]")


@dataclass
class _Chunk:
    seq: int
    size: int = 0
    lines: int = 0
    head: bool = True


class Block(NamedTuple):
    """Lines written together: one time, stream and logger. ``body`` holds the lines encoded in
    UTF-8 (invalid text kept as ``\\xNN``/``\\udcNN``), each ending with ``b"\\n"``; ``lines``
    counts them. ``first_flag`` is the first line's flag, ``rest_flag``
    the others' (``MORE`` for the lines of one multi-line logging record). A block of a million
    lines is one bytes object: joined, counted, prefixed and written with a few C calls."""

    time: float
    stream: str
    logger: str
    body: bytes
    lines: int = 1
    first_flag: str = NEW
    rest_flag: str = NEW

    @classmethod
    def of(cls, time_: float, stream: str, logger: str, text: str, *flags: str) -> Block:
        """The block of ``text`` (lines separated by ``\\n``)."""
        body = (text + "\n").encode("utf-8", "backslashreplace")
        return cls(time_, stream, logger, body, body.count(b"\n"), *flags)

    @property
    def messages(self) -> list[str]:
        """The lines, as text (for the few uses that go line by line)."""
        return self.body[:-1].decode("utf-8", "backslashreplace").split("\n")

    def encode(self) -> tuple[bytes, bytes, int]:
        """The block's lines as stored: ``first + data[:size]`` (one ``replace`` puts the other
        lines' prefixes after the line breaks; the prefix after the last one is not used)."""
        pre = f"{self.time:.3f}\t{self.stream}\t".encode()
        after = f"\t{self.logger}\t".encode("utf-8", "backslashreplace")
        first = pre + self.first_flag.encode() + after
        if self.lines == 1:
            return first, self.body, len(self.body)
        rest = pre + self.rest_flag.encode() + after
        data = self.body.replace(b"\n", b"\n" + rest)
        return first, data, len(data) - len(rest)

    def stored_size(self) -> int:
        """``len`` of what ``encode`` gives, without encoding."""
        pre = len(f"{self.time:.3f}\t{self.stream}\t") + len(self.logger.encode()) + 2
        first, rest = pre + len(self.first_flag), pre + len(self.rest_flag)
        return len(self.body) + first + (self.lines - 1) * rest

    def pieces(self, longest: int) -> list[Block]:
        """The block with no line longer than ``longest`` characters: a longer one goes on in
        lines flagged ``SPLIT`` (the other lines stay in blocks of their own)."""
        if not _may_hold_long_line(self.body, longest):
            return [self]
        out: list[Block] = []
        run: list[str] = []  # short lines waiting for a block
        for i, message in enumerate(self.messages):
            flag = self.first_flag if i == 0 else self.rest_flag
            if len(message) <= longest:
                if not run:
                    run_flag = flag
                run.append(message)
                continue
            if run:
                out.append(Block.of(self.time, self.stream, self.logger, "\n".join(run),
                                    run_flag, self.rest_flag))  # fmt: skip
                run = []
            for start in range(0, len(message), longest):
                piece = message[start : start + longest]
                first = flag if start == 0 else SPLIT
                out.append(Block.of(self.time, self.stream, self.logger, piece, first))
        if run:
            out.append(Block.of(self.time, self.stream, self.logger, "\n".join(run),
                                run_flag, self.rest_flag))  # fmt: skip
        return out


def _may_hold_long_line(body: bytes, longest: int) -> bool:
    """Whether a line of ``body`` may be longer than ``longest`` characters (UTF-8: it has
    more bytes than that). Without splitting: every window of ``longest // 2`` bytes holds a
    line break, so no line reaches ``longest`` bytes (a few hundred ``find`` calls for a
    million lines); for tiny limits one regular expression search does it."""
    if len(body) <= longest:
        return False
    step = max(1, longest // 2)
    if len(body) // step > 4096:
        first = body.find(b"\n")
        if first < 0 or first > longest:
            return True
        pattern = _LONG_LINE.get(longest)
        if pattern is None:
            pattern = _LONG_LINE[longest] = re.compile(b"\n[^\n]{%d}" % (longest + 1))
        return pattern.search(body) is not None
    find = body.find
    return any(find(b"\n", start, start + step) < 0 for start in range(0, len(body), step))


_LONG_LINE: dict[int, re.Pattern[bytes]] = {}


class LogWriter:
    """Writes one attempt's logs as chunks into ``store`` under ``key``, within ``max_bytes``.

    ``add(blocks)`` writes the lines at once (appended to the open chunk, or the open chunk
    rewritten whole on object storage, which cannot append); ``finish()`` writes ``end.json``.
    Errors of the store are raised as they are: the caller keeps the blocks and tries again.
    """

    def __init__(self, store: ArtifactStore, key: str, max_bytes: int = DEFAULT_MAX_BYTES):
        self.folder: ArtifactFolder = store.folder(key)
        self.appends = bool(store.is_local)
        self.max_bytes = max(4 * _MIN_CHUNK, int(max_bytes))
        self.chunk_size = min(_MAX_CHUNK, max(_MIN_CHUNK, self.max_bytes // 8))
        self.head_budget = self.max_bytes // 2
        self.tail_budget = self.max_bytes - self.head_budget
        self.longest = self.chunk_size // 8  # characters of one line (UTF-8: up to 6 bytes each)
        self.chunks: list[_Chunk] = []  # sealed and kept
        self.open = _Chunk(1)
        self.buffer = bytearray()  # the open chunk's bytes
        self.stored = 0  # how many of them the store has
        self.in_head = True
        self.head_size = 0
        self.cut_lines = self.cut_bytes = 0
        self.cut_written = (0, 0)  # what ``cut.json`` says
        self.total_lines = self.total_bytes = 0

    def add(self, blocks: Sequence[Block]) -> None:
        """Write ``blocks`` (in order) to the store, keeping within the cap. All or nothing:
        when the store fails, the writer is as it was before (the caller adds the same blocks
        again later, and none is written twice)."""
        if not blocks:
            return
        saved = self._snapshot()
        try:
            for block in blocks:
                for piece in block.pieces(self.longest):
                    self._put(piece)
            self._store_open()
            self._trim()
        except Exception:
            self._restore(saved)
            raise

    def _snapshot(self) -> tuple[Any, ...]:
        """What ``add`` changes. Cheap: sealed chunks are never changed, only dropped from the
        list, and the open chunk's bytes only grow (their length is enough to go back)."""
        numbers = (self.stored, self.in_head, self.head_size, self.cut_lines, self.cut_bytes)
        totals = (self.total_lines, self.total_bytes, self.cut_written)
        return (list(self.chunks), replace(self.open), self.buffer, len(self.buffer), numbers,
                totals)  # fmt: skip

    def _restore(self, saved: tuple[Any, ...]) -> None:
        self.chunks, self.open, self.buffer, size, numbers, totals = saved
        del self.buffer[size:]
        self.stored, self.in_head, self.head_size, self.cut_lines, self.cut_bytes = numbers
        self.total_lines, self.total_bytes, self.cut_written = totals

    def _put(self, block: Block) -> None:
        """Append the block's lines to the open chunk, sealing each chunk when the next line
        would not fit it (or the head), as whole lines: a block of any size is encoded once."""
        if not self.in_head:
            block = self._skip_cut(block)
        first, data, size = block.encode()
        self.total_lines += block.lines
        self.total_bytes += len(first) + size
        view, start = memoryview(data), 0
        while start < size:
            room = self.chunk_size - len(self.buffer) - len(first)
            head_room = self.head_budget - self.head_size - len(self.buffer) - len(first)
            if self.in_head:
                room = min(room, head_room)
            end = size if size - start <= room else data.rfind(b"\n", start, start + room) + 1
            if end <= start:  # not one more line fits
                if self.in_head and head_room <= self.chunk_size - len(self.buffer):
                    self._seal()  # the head is full: what follows is the tail
                    self.in_head = False
                    continue
                if self.buffer:
                    self._seal()
                    continue
                end = data.find(b"\n", start) + 1  # a line longer than a chunk: alone
            if first:
                self.buffer += first
                first = b""
            self.buffer += view[start:end]
            self.open.lines += data.count(b"\n", start, end)
            start = end

    def _seal(self) -> None:
        """Write the open chunk out whole and start the next one."""
        if not self.buffer:
            return
        self._store_open()
        self.open.size = len(self.buffer)
        self.open.head = self.in_head
        if self.in_head:
            self.head_size += self.open.size
        self.chunks.append(self.open)
        self.open = _Chunk(self.open.seq + 1)
        self.buffer = bytearray()
        self.stored = 0

    def _store_open(self) -> None:
        if self.stored == len(self.buffer):
            return
        name = chunk_name(self.open.seq)
        if self.appends:
            with self.folder.open(name, "ab") as f:
                f.truncate(self.stored)  # bytes of a failed add past it are written again
                f.write(memoryview(self.buffer)[self.stored :])
        else:
            with self.folder.open(name, "wb") as f:
                f.write(bytes(self.buffer))
        self.stored = len(self.buffer)

    def _trim(self) -> None:
        """Delete the oldest chunks of the tail while the tail is over its budget."""
        if self.in_head:
            return
        tail = [c for c in self.chunks if not c.head]
        size = sum(c.size for c in tail) + len(self.buffer)
        while tail and size > self.tail_budget:
            oldest = tail.pop(0)
            self._cut_chunk(oldest)
            size -= oldest.size
        if (self.cut_lines, self.cut_bytes) != self.cut_written:
            self._write_json(CUT_FILE, {"lines": self.cut_lines, "bytes": self.cut_bytes})
            self.cut_written = (self.cut_lines, self.cut_bytes)

    def _cut_chunk(self, chunk: _Chunk) -> None:
        self.folder.remove(chunk_name(chunk.seq))
        self.chunks.remove(chunk)
        self.cut_lines += chunk.lines
        self.cut_bytes += chunk.size

    def _skip_cut(self, block: Block) -> Block:
        """The lines of a tail's ``block`` the cap keeps, when the block is more than the tail
        holds: its lines before them are cut now, never encoded nor written, and with them the
        tail written so far (older), as ``_trim`` would cut them once written. The next chunk
        skips a number, so readers see the cut where it is."""
        stored = block.stored_size()
        keep = self.tail_budget - self.chunk_size  # what the tail keeps of it, at most
        if stored <= self.tail_budget or keep <= 0:
            return block
        body = block.body
        prefix = block._replace(body=b"", lines=1, first_flag=block.rest_flag).stored_size()
        start = body.find(b"\n", max(0, len(body) - keep * len(body) // stored - 1)) + 1
        while True:  # the kept lines' size: their bytes and a prefix each (twice at most)
            lines = body.count(b"\n", start)
            excess = len(body) - start + lines * prefix - keep
            if excess <= 0 or lines == 0:
                break
            start = body.find(b"\n", start + excess - 1) + 1
        if lines == 0 or start == 0:
            return block
        rest = block._replace(body=body[start:], lines=lines, first_flag=block.rest_flag)
        for chunk in [c for c in self.chunks if not c.head]:
            self._cut_chunk(chunk)
        if self.stored:
            self.folder.remove(chunk_name(self.open.seq))
        skipped = (block.lines - lines, stored - rest.stored_size())
        self.cut_lines += self.open.lines + skipped[0]
        self.cut_bytes += len(self.buffer) + skipped[1]
        self.total_lines += skipped[0]
        self.total_bytes += skipped[1]
        self.open, self.buffer, self.stored = _Chunk(self.open.seq + 1), bytearray(), 0
        return rest

    def finish(self, warnings: Sequence[str] = ()) -> None:
        """Write ``end.json``: the attempt's logs are complete (nothing at all for an attempt
        that wrote nothing: no folder is its empty logs)."""
        self._store_open()
        if not self.total_lines and not warnings:
            return
        self._write_json(
            END_FILE,
            {
                "ended": time.time(),
                "lines": self.total_lines,
                "bytes": self.total_bytes,
                "cut_lines": self.cut_lines,
                "cut_bytes": self.cut_bytes,
                "warnings": list(warnings),
            },
        )

    def _write_json(self, name: str, data: dict[str, object]) -> None:
        with self.folder.open(name, "wb") as f:
            f.write(json.dumps(data).encode("utf-8"))


@dataclass
class LogEnd:
    """What ``end.json`` says: the attempt's logs are complete."""

    lines: int = 0
    size: int = 0
    cut_lines: int = 0
    cut_bytes: int = 0
    warnings: list[str] = field(default_factory=list)


class LogReader:
    """Reads one attempt's logs, whole or as they grow.

    ``poll()`` returns the lines written since the last poll (a notice line where the middle
    was cut), ``ended`` tells when the writer finished. Each poll lists the folder once and
    reads only the new bytes of the chunks.
    """

    def __init__(self, store: ArtifactStore, key: str) -> None:
        self.folder: ArtifactFolder = store.folder(key)
        self.key = key
        self.seq = 1  # the chunk being read
        self.offset = 0  # bytes of it already read
        self.end: LogEnd | None = None
        self._cut_shown = (0, 0)

    @property
    def ended(self) -> bool:
        """Whether the writer finished (``end.json`` was seen by the last poll)."""
        return self.end is not None

    def poll(self) -> list[LogLine]:
        """The complete lines written since the last poll, in order."""
        try:
            names = self.folder.listdir()
        except (OSError, ArtifactStoreError):
            return []
        ended = END_FILE in names  # seen before the chunks are read: nothing follows it
        chunks = sorted(s for s in map(chunk_seq, names) if s is not None and s >= self.seq)
        out: list[LogLine] = []
        for seq in chunks:
            if seq != self.seq:
                out.extend(self._cut(names))
                self.seq, self.offset = seq, 0
            out.extend(self._read(seq))
            if seq != chunks[-1]:
                self.seq, self.offset = seq + 1, 0
        if ended:
            self.end = self._end()
        return out

    def _read(self, seq: int) -> list[LogLine]:
        try:
            with self.folder.open(chunk_name(seq), "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:  # deleted (cut) since it was listed
            return []
        lines, used = parse_chunk(data)
        self.offset += used
        return lines

    def _cut(self, names: list[str]) -> list[LogLine]:
        """The notice of what was cut, once per new amount."""
        if CUT_FILE not in names:
            return []
        try:
            with self.folder.open(CUT_FILE, "rb") as f:
                cut = json.loads(f.read())
            lines, size = int(cut["lines"]), int(cut["bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            return []
        if (lines, size) == self._cut_shown:
            return []
        shown_lines, shown_size = self._cut_shown
        self._cut_shown = (lines, size)
        return [cut_notice(lines - shown_lines, size - shown_size)]

    def _end(self) -> LogEnd:
        try:
            with self.folder.open(END_FILE, "rb") as f:
                data = json.loads(f.read())
            return LogEnd(
                int(data["lines"]),
                int(data["bytes"]),
                int(data["cut_lines"]),
                int(data["cut_bytes"]),
                [str(w) for w in data.get("warnings", [])],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return LogEnd()


def read_lines(store: ArtifactStore, key: str) -> tuple[list[LogLine], LogEnd | None]:
    """All the lines of the logs at ``key`` as they are now, and their end (``None`` while the
    attempt runs, or when it was killed before it ended)."""
    reader = LogReader(store, key)
    lines = reader.poll()
    return lines, reader.end


def line_text(line: LogLine) -> str:
    """One line as a console showed it: stdout and stderr as written, the first line of a
    logging record as ``LEVEL:logger:message``."""
    if line.flag != NEW or not line.logger or line.stream in STREAMS:
        return line.message
    return f"{line.stream}:{line.logger}:{line.message}"


def as_text(lines: Iterable[LogLine]) -> str:
    """Lines as the text a console showed (``line_text``), the pieces of a split line joined
    again."""
    out: list[str] = []
    for line in lines:
        if line.flag == SPLIT and out:
            out[-1] += line.message
        else:
            out.append(line_text(line))
    return "\n".join(out) + ("\n" if out else "")
