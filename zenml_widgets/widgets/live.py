"""``LiveRefresh``: the explorer refreshes a running run by itself.

While the selected run is running, one task on the kernel's event loop (the loop that runs
the notebook's cells and the widgets' messages, so a tick never races a click) sleeps
``interval`` seconds, then calls ``tick``; ``tick`` says whether the run still runs. The task
ends when the run ended, and is cancelled when another run is selected or the explorer is
closed: nothing polls while nothing runs. Without a running event loop (a plain script)
there is no live refresh; ``refresh()`` still works.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("zenml_widgets")

#: Seconds between two looks at a running run.
INTERVAL = 1.5


class LiveRefresh:
    """Calls ``tick`` every ``interval`` seconds while a run is watched (see the module).

    Args:
        tick: reads the watched run again and shows it; returns whether it still runs.
        interval: seconds between ticks.
    """

    def __init__(self, tick: Callable[[], bool], interval: float = INTERVAL) -> None:
        self._tick = tick
        self.interval = interval
        self.task: asyncio.Task[None] | None = None
        self.watched: Any = None
        self.ticks = 0

    @property
    def active(self) -> bool:
        """Whether a run is being watched (its task is alive)."""
        return self.task is not None and not self.task.done()

    def watch(self, key: Any, running: bool) -> None:
        """The selection shows ``key`` (a run's identity, or ``None``), ``running`` or not:
        start watching it, keep watching it, or stop."""
        if not running or key is None:
            self.stop()
            return
        if self.active and key == self.watched:
            return
        self.stop()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop runs in this thread: no live refresh
            return
        self.watched = key
        self.task = loop.create_task(self._run(), name=f"zenml-widgets live {key}")

    def stop(self) -> None:
        """Stop watching (cancel the task, if any)."""
        task, self.task, self.watched = self.task, None, None
        if task is not None and not task.done() and task is not _current_task():
            task.cancel()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.ticks += 1
            try:
                running = self._tick()
            except Exception:  # shown by the explorer; the run may still be running
                logger.debug("a live refresh failed", exc_info=True)
                continue
            if not running:
                break
        if self.task is _current_task():
            self.task, self.watched = None, None


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None
