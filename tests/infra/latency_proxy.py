"""A TCP proxy that puts a fixed latency between a client and a server, and counts round trips.

Team history lives in a PostgreSQL server 10-50 ms away from the laptops that browse it; on
loopback none of that shows. ``LatencyProxy`` listens on a free loopback port, forwards every
byte to the target, and delivers each chunk ``delay`` seconds after it arrived, in each
direction (order kept, without serializing the chunks behind each other's delay). It counts
**round trips**: a new one starts whenever the client sends after the server has answered (or
for the first time on a connection), so a statement is one round trip, a ``BEGIN`` before it
another, and a batch of pipelined statements one.

``cut()`` closes every open connection at once, as a VPN dropping would; while ``refusing`` is
set, new connections are closed at once too, as when the database restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self


@dataclass
class _Counter:
    round_trips: int = 0
    connections: int = 0
    open: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: what the client sent first in each round trip (PostgreSQL: a message type and its text)
    sent: list[bytes] = field(default_factory=list)


class LatencyProxy:
    """Forward ``127.0.0.1:<port>`` to ``target_host:target_port`` with ``delay`` seconds each
    way (a round trip costs ``2 * delay``)."""

    def __init__(self, target_host: str, target_port: int, delay: float = 0.0) -> None:
        self.target = (target_host, target_port)
        self.delay = delay
        #: While true, new connections are closed at once (the server is down or restarting).
        self.refusing = False
        self.port = 0
        self._counter = _Counter()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> Self:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=10)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @property
    def round_trips(self) -> int:
        """Round trips since the proxy started (or since ``counting()`` began)."""
        return self._counter.round_trips

    @property
    def connections(self) -> int:
        """Client connections accepted so far."""
        return self._counter.connections

    @contextmanager
    def counting(self) -> Iterator[_Counter]:
        """Count from zero inside the block (``with proxy.counting() as c: ...; c.round_trips``)."""
        with self._counter.lock:
            self._counter.round_trips = 0
            self._counter.sent = []
        yield self._counter

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every client connection has closed (a closing client sends a last
        message, which must not count in the next action's round trips)."""
        deadline = time.monotonic() + timeout
        while self._counter.open and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not self._counter.open, f"{self._counter.open} connections still open"

    def cut(self) -> None:
        """Close every open connection, as a dropped network would."""
        asyncio.run_coroutine_threadsafe(self._cut(), self._loop).result(timeout=10)

    def url(self, url: str) -> str:
        """``url`` (``scheme://user@host:port/db``) pointed at the proxy instead."""
        head, _, rest = url.partition("://")
        credentials, at, location = rest.rpartition("@")
        _, _, database = location.partition("/")
        user = credentials + at if at else ""
        return f"{head}://{user}127.0.0.1:{self.port}/{database}"

    # -- the event loop's side -----------------------------------------------------------------

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        await self._cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if tasks:  # the cut connections wind down by themselves; only stragglers are cancelled
            _, pending = await asyncio.wait(tasks, timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        with self._counter.lock:
            self._counter.connections += 1
            self._counter.open += 1
        last = ["server"]  # who spoke last on this connection
        await asyncio.gather(
            self._pump(reader, up_writer, "client", last),
            self._pump(up_reader, writer, "server", last),
            return_exceptions=True,
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            with contextlib.suppress(Exception):
                w.close()
        with self._counter.lock:
            self._counter.open -= 1

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        side: str,
        last: list[str],
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        deliver = asyncio.ensure_future(self._deliver(queue, sink))
        try:
            while data := await source.read(65536):
                if side == "client" and last[0] == "server":
                    with self._counter.lock:
                        self._counter.round_trips += 1
                        self._counter.sent.append(data[:120])
                last[0] = side
                queue.put_nowait((time.monotonic() + self.delay, data))
        finally:
            queue.put_nowait((0.0, b""))
            with contextlib.suppress(Exception):
                await deliver
            with contextlib.suppress(Exception):
                sink.close()

    async def _deliver(
        self, queue: asyncio.Queue[tuple[float, bytes]], sink: asyncio.StreamWriter
    ) -> None:
        while True:
            due, data = await queue.get()
            if not data:
                return
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            sink.write(data)
            await sink.drain()
