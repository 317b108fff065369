"""Watching a run from the process that runs it: a ``tqdm.auto`` bar over its steps, and the
lines of steps that run in other processes (Dask workers), followed in the artifact store and
printed prefixed with the step's name, as the steps run in this process are echoed.

One thread polls every ``POLL`` seconds: one query for the run's steps, and one listing of
the log folder of each step that runs (or just ended).
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

from zenml_widgets.artifacts.step_logs import MORE, STREAMS, LogLine, LogReader, log_key

if TYPE_CHECKING:
    from zenml_widgets.runner.execution import StepJob
    from zenml_widgets.stack import Stack
    from zenml_widgets.store import StepRecord

logger = logging.getLogger("zenml_widgets")
POLL = 0.5
FINISHED = ("completed", "cached", "failed", "skipped")


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where a run shows a progress bar)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def line_text(name: str, line: LogLine) -> str:
    """How a followed line is printed: ``[name] message`` (logging records with their level
    and logger)."""
    if line.stream in STREAMS or line.flag == MORE or not line.logger:
        return f"[{name}] {line.message}\n"
    return f"[{name}] {line.stream} {line.logger}: {line.message}\n"


class RunWatcher:
    """Progress and followed logs of one run, while it runs (a context manager)."""

    def __init__(self, stack: Stack, jobs: list[StepJob], *, follow: bool, progress: bool) -> None:
        self.stack = stack
        self.run_id = jobs[0].run_id if jobs else 0
        self.names = {j.step_id: j.name for j in jobs}
        self.follow = follow and bool(jobs)
        self.progress = progress and bool(jobs)
        self.readers: dict[tuple[int, int], LogReader] = {}
        self.bar: Any = None
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        if self.progress:
            from tqdm.auto import tqdm

            title = f"{jobs[0].pipeline_name} {jobs[0].run_name}"
            self.bar = tqdm(total=len(jobs), desc=title, unit="step", leave=True)

    def __enter__(self) -> RunWatcher:
        if self.follow or self.progress:
            self.thread = threading.Thread(target=self._run, name="zenml-run-watch", daemon=True)
            contextvars.Context().run(self.thread.start)  # no step's thread
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
            self._tick()  # the last lines and statuses
        if self.bar is not None:
            self.bar.close()

    def _run(self) -> None:
        while not self.stop.wait(POLL):
            try:
                self._tick()
            except Exception:  # a missed look is harmless; the next one may succeed
                logger.debug("watching the run failed", exc_info=True)

    def _tick(self) -> None:
        steps = self.stack.metadata_store.list_steps(self.run_id)
        if self.bar is not None:
            self._show_progress(steps)
        if self.follow:
            for step in steps:
                self._follow(step)

    def _show_progress(self, steps: list[StepRecord]) -> None:
        done = sum(s.status in FINISHED for s in steps)
        running = [s.name for s in steps if s.status == "running"]
        self.bar.n = done
        failed = sum(s.status == "failed" for s in steps)
        note = f"running: {', '.join(running)}" if running else ""
        if failed:
            note = f"{failed} failed" + (f"; {note}" if note else "")
        self.bar.set_postfix_str(note, refresh=False)
        self.bar.refresh()

    def _follow(self, step: StepRecord) -> None:
        if step.status in ("pending", "skipped", "cached") or step.attempt < 1:
            return
        name = self.names.get(step.id, step.name)
        for attempt in range(1, step.attempt + 1):
            key = (step.id, attempt)
            reader = self.readers.get(key)
            if reader is None:
                reader = self.readers[key] = LogReader(
                    self.stack.artifact_store, log_key(self.run_id, step.id, attempt)
                )
            if reader.ended:
                continue
            for line in reader.poll():
                target = sys.stdout if line.stream == "stdout" else sys.stderr
                target.write(line_text(name, line))
