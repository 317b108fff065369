"""A step's logs as the views read them: each attempt's lines, text and records, and following
a running attempt's lines as they are written (``artifacts/step_logs.py`` stores them).

``StepView.logs`` is the text of the step's last attempt; ``StepView.attempts[i].logs`` each
attempt's; ``StepView.log_records()`` a table. A cached step ran nothing: its logs are those of
the step that produced its outputs, and say so in their first line.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from zenml_widgets.artifacts.step_logs import (
    MORE,
    SPLIT,
    STREAMS,
    LogEnd,
    LogLine,
    LogReader,
    as_text,
    log_key,
)

if TYPE_CHECKING:
    import pandas as pd

    from zenml_widgets.stack import Stack
    from zenml_widgets.store import AttemptRecord, StepRecord

#: The columns of ``log_records()``.
RECORD_COLUMNS = ("time", "stream", "level", "logger", "message")
#: Seconds between two looks at a followed attempt.
FOLLOW_POLL = 0.5


class AttemptLogs:
    """The logs of one attempt of a step, read when asked (each read asks the store again).

    Args:
        stack: the stack the step was recorded on.
        run_id, step_id, attempt: the attempt whose logs these are.
        note: a first line to show (a cached step's logs say whose they are).
    """

    def __init__(
        self, stack: Stack, run_id: int, step_id: int, attempt: int, note: str = ""
    ) -> None:
        self.stack = stack
        self.key = log_key(run_id, step_id, attempt)
        self.step_id = step_id
        self.attempt = attempt
        self.note = note
        self.end: LogEnd | None = None

    def reader(self) -> LogReader:
        """A reader of these logs from their start (``poll()`` for what is there, and again
        for what was written since)."""
        return LogReader(self.stack.artifact_store, self.key)

    def lines(self) -> list[LogLine]:
        """Every line there is now (with a notice line where the middle was cut)."""
        if self.attempt < 1:
            return []
        reader = self.reader()
        found = reader.poll()
        self.end = reader.end
        if self.note:
            found.insert(0, LogLine(found[0].time if found else 0.0, "note", "", self.note))
        return found

    def text(self) -> str:
        """The lines as a console showed them (logging records as ``LEVEL:logger:message``)."""
        return as_text(self.lines())

    def records(self) -> pd.DataFrame:
        """The lines as a table: ``time`` (UTC), ``stream`` (``stdout``, ``stderr`` or
        ``logging``), ``level`` and ``logger`` (of logging records), ``message`` (a record's
        lines, and the pieces of a split line, joined again)."""
        import pandas as pd

        rows: list[list[Any]] = []
        for line in self.lines():
            if line.flag in (MORE, SPLIT) and rows:
                rows[-1][4] += ("\n" if line.flag == MORE else "") + line.message
                continue
            logging_record = line.stream not in STREAMS and line.stream not in ("cut", "note")
            stream = "logging" if logging_record else line.stream
            level = line.stream if logging_record else None
            when = datetime.fromtimestamp(line.time, UTC) if line.time else None
            rows.append([when, stream, level, line.logger or None, line.message])
        frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
        frame["time"] = pd.to_datetime(frame["time"], utc=True)
        return frame


class AttemptView:
    """One execution of a step: its record's fields (``number``, ``status``, ``start_time``,
    ``end_time``, ``hostname``, ``pid``, ``worker``, ``error``) and its ``logs``."""

    def __init__(self, stack: Stack, run_id: int, record: AttemptRecord) -> None:
        self._stack = stack
        self._run_id = run_id
        self.record = record

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AttemptView):
            return self.record == other.record
        return self.record == other

    def __hash__(self) -> int:
        return hash(self.record)

    def __repr__(self) -> str:
        r = self.record
        return f"AttemptView(number={r.number}, status={r.status!r}, worker={r.worker!r})"

    @property
    def number(self) -> int:
        """The attempt's number (1 for the first execution)."""
        return self.record.number

    @property
    def status(self) -> str:
        """``running``, ``completed``, ``cached`` or ``failed``."""
        return self.record.status

    def log(self) -> AttemptLogs:
        """The attempt's logs, to read."""
        return AttemptLogs(self._stack, self._run_id, self.record.step_id, self.record.number)

    @property
    def logs(self) -> str:
        """The text of the attempt's logs (``''`` if it printed and logged nothing)."""
        return self.log().text()

    def log_records(self) -> pd.DataFrame:
        """The attempt's logs as a table (see ``StepView.log_records``)."""
        return self.log().records()


def step_logs(stack: Stack, record: StepRecord, attempt: int | None = None) -> AttemptLogs:
    """The logs of ``attempt`` of the step ``record`` (default: its last), or, for a cached
    step, those of the step that produced its outputs, saying so."""
    if record.status == "cached" and record.source_step_id is not None and attempt is None:
        store = stack.metadata_store
        source = store.get_step(record.source_step_id)
        run = store.get_run(source.run_id)
        note = (
            f"(cached: these are the logs of step {source.name!r} of run {run.name!r}, "
            "which produced the outputs this step reused)"
        )
        return AttemptLogs(stack, source.run_id, source.id, source.attempt, note)
    number = record.attempt if attempt is None else attempt
    return AttemptLogs(stack, record.run_id, record.id, number)


def follow(
    stack: Stack, step_id: int, attempt: int | None = None, poll: float = FOLLOW_POLL
) -> Iterator[LogLine]:
    """The lines of an attempt of a step (default: its current one, then the retries that
    follow it), yielded as they are written, until the attempt ended and everything it wrote
    was read. Each look costs one query and one listing of the log folder."""
    store = stack.metadata_store
    record = store.get_step(step_id)
    if record.status == "cached" and attempt is None:
        yield from step_logs(stack, record).lines()
        return
    number = attempt if attempt is not None else max(1, record.attempt)
    while True:
        reader = step_logs(stack, record, number).reader()
        while True:
            yield from reader.poll()
            if reader.ended:
                break
            record = store.get_step(step_id)
            if record.status not in ("pending", "running") or record.attempt > number:
                yield from reader.poll()  # what it wrote before it ended (or died)
                break
            time.sleep(poll)
        if attempt is not None:
            return
        while record.status in ("pending", "running") and record.attempt <= number:
            time.sleep(poll)  # the step goes on: its outputs, or a retry after its delay
            record = store.get_step(step_id)
        if record.attempt <= number:
            return
        number += 1
