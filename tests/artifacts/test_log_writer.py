"""The writer of a step's logs, on its own: blocks of lines are stored as ``LogLine``s would be,
chunks hold whole lines within their size, the cap keeps head and tail and counts what it cut,
long lines go on in pieces, and a failing store leaves the writer as it was."""

from __future__ import annotations

import random
from pathlib import Path
from typing import IO, Any

import pytest

from zenml_widgets.artifacts.local import LocalArtifactStore, LocalFolder
from zenml_widgets.artifacts.step_logs import (
    MORE,
    NEW,
    SPLIT,
    Block,
    LogLine,
    LogWriter,
    as_text,
    parse_chunk,
    read_lines,
)


def test_a_block_is_stored_as_its_lines_one_by_one() -> None:
    block = Block.of(12.5, "INFO", "my.lib", "first\nsecond é\n\nlast \udcff", NEW, MORE)
    first, data, size = block.encode()
    lines, used = parse_chunk(first + data[:size])
    assert used == len(first) + size
    expected = [
        LogLine(12.5, "INFO", "my.lib", "first", NEW),
        LogLine(12.5, "INFO", "my.lib", "second é", MORE),
        LogLine(12.5, "INFO", "my.lib", "", MORE),
        LogLine(12.5, "INFO", "my.lib", "last \\udcff", MORE),
    ]
    assert lines == expected
    assert first + data[:size] == "".join(x.encode() for x in expected).encode()
    assert block.lines == 4 and block.messages == ["first", "second é", "", "last \\udcff"]


def test_only_the_long_lines_of_a_block_go_on_in_pieces() -> None:
    block = Block.of(1.0, "stdout", "", "a\n" + "x" * 25 + "\nb\nc", NEW, NEW)
    pieces = block.pieces(10)
    assert [(p.messages, p.first_flag) for p in pieces] == [
        (["a"], NEW),
        (["x" * 10], NEW),
        (["x" * 10], SPLIT),
        (["x" * 5], SPLIT),
        (["b", "c"], NEW),
    ]
    assert Block.of(1.0, "stdout", "", "short\nlines").pieces(10)[0].lines == 2


def _lines(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [f"line {i} " + "é" * rng.randrange(3) + "y" * rng.randrange(60) for i in range(n)]


def _blocks(lines: list[str], per_block: int) -> list[Block]:
    return [
        Block.of(float(i), "stdout", "", "\n".join(lines[i : i + per_block]))
        for i in range(0, len(lines), per_block)
    ]


def test_chunks_hold_whole_lines_and_the_cap_keeps_head_and_tail(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = LogWriter(store, "logs/1/2/1", max_bytes=16 * 1024)
    lines = _lines(5000)
    stored = 0
    for start in range(0, 5000, 1000):  # adds of several blocks, one of 600 lines
        blocks = _blocks(lines[start : start + 1000], 600)
        writer.add(blocks)
        stored += sum(len(first) + size for first, _, size in (b.encode() for b in blocks))
    writer.finish()
    folder = tmp_path / "logs/1/2/1"
    for chunk in folder.glob("*.log"):
        data = chunk.read_bytes()
        assert len(data) <= writer.chunk_size and data.endswith(b"\n")
    assert sum(f.stat().st_size for f in folder.iterdir()) <= 16 * 1024 + 512
    read, end = read_lines(store, "logs/1/2/1")
    assert end is not None and (end.lines, end.size) == (5000, stored)
    streams = [x.stream for x in read]
    assert streams.count("cut") == 1
    kept = [x.message for x in read if x.stream == "stdout"]
    head = next(i for i, m in enumerate(kept) if m != lines[i])
    assert kept[:head] == lines[:head] and head > 0
    assert kept[head:] == lines[5000 - (len(kept) - head) :] and len(kept) > head
    assert end.cut_lines == 5000 - len(kept)
    assert streams.index("cut") == head  # the notice where the lines were cut
    assert read[head].message.startswith(f"[... {end.cut_lines:,} lines (")
    assert end.cut_bytes + sum(f.stat().st_size for f in folder.glob("*.log")) == stored


class _FailingFolder(LocalFolder):
    fail_after: int | None = None  # opens for writing that succeed, then each one fails

    def open(self, name: str, mode: str = "rb") -> IO[Any]:
        if "b" in mode and mode != "rb" and self.fail_after is not None:
            if self.fail_after <= 0:
                raise OSError("the store is down")
            self.fail_after -= 1
        return super().open(name, mode)


class _Store(LocalArtifactStore):
    def __init__(self, root: Path, *, local: bool) -> None:
        super().__init__(root)
        self.is_local = local  # False: chunks are rewritten whole, as on object storage
        self.folders: list[_FailingFolder] = []

    def folder(self, key: str) -> LocalFolder:
        folder = _FailingFolder(self.path(key))
        self.folders.append(folder)
        return folder


@pytest.mark.parametrize(("local", "fail_after"), [(True, 0), (True, 3), (False, 0), (False, 3)])
def test_a_failed_add_leaves_the_writer_as_it_was(
    tmp_path: Path, local: bool, fail_after: int
) -> None:
    lines = _lines(3000, seed=1)
    batches = [_blocks(lines[i : i + 500], 200) for i in range(0, 3000, 500)]
    reference = LogWriter(LocalArtifactStore(tmp_path / "ref"), "k", max_bytes=8 * 1024)
    store = _Store(tmp_path / "failing", local=local)
    writer = LogWriter(store, "k", max_bytes=8 * 1024)
    for i, blocks in enumerate(batches):
        reference.add(blocks)
        if i == 2:  # this add fails (at once, or after a few writes), and is made again
            store.folders[0].fail_after = fail_after
            with pytest.raises(OSError, match="down"):
                writer.add(blocks)
            store.folders[0].fail_after = None
        writer.add(blocks)
    reference.finish()
    writer.finish()
    ours, ours_end = read_lines(store, "k")
    theirs, their_end = read_lines(LocalArtifactStore(tmp_path / "ref"), "k")
    assert as_text(ours) == as_text(theirs)
    assert ours_end == their_end and ours_end is not None


def test_an_add_failing_midway_on_a_local_store_writes_no_line_twice(tmp_path: Path) -> None:
    store = _Store(tmp_path, local=True)
    writer = LogWriter(store, "k")  # the default cap: nothing is cut
    lines = _lines(30_000)
    writer.add(_blocks(lines[:100], 100))
    store.folders[0].fail_after = 1  # the open chunk is appended to, the next one fails
    with pytest.raises(OSError, match="down"):
        writer.add(_blocks(lines[100:], 30_000))
    store.folders[0].fail_after = None
    writer.add(_blocks(lines[100:], 30_000))
    writer.finish()
    read, end = read_lines(store, "k")
    assert [x.message for x in read] == lines
    assert end is not None and end.lines == 30_000
