"""Running one step as attempts: the step's record, its retries and its time limit.

``execute_step`` is what every orchestrator calls for a step, in the calling process (local) or
on a Dask worker. Each execution of the step function is an attempt the store records (where it
ran, when, how it ended); a result is recorded only by the step's current attempt (the store
checks its number in the same transaction), so an attempt that was superseded or whose run
ended has its outputs removed instead of recorded.

``@step(retries=N, retry_delay=S, timeout=T)``: a step function that raises an ``Exception``
or runs past ``T`` seconds fails that attempt; up to ``N`` more attempts follow, ``S`` seconds
apart. A step function that raises any other ``BaseException`` (``SystemExit``,
``KeyboardInterrupt``...) fails its attempt with no retry, and never takes its process down;
only a ``KeyboardInterrupt`` in the run's own process (Ctrl-C) goes on, to interrupt the run.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from zenml_widgets.exceptions import AttemptRefusedError
from zenml_widgets.runner.capture import capture
from zenml_widgets.runner.context import StepContext, running
from zenml_widgets.runner.sources import register_source
from zenml_widgets.runner.step_outputs import cache_key, reuse, stored, write_outputs
from zenml_widgets.store import AttemptRecord, NewArtifact, Worker
from zenml_widgets.store.liveness import this_host

if TYPE_CHECKING:
    from zenml_widgets.runner.execution import StepJob
    from zenml_widgets.stack import Stack
    from zenml_widgets.store import ArtifactRecord

logger = logging.getLogger("zenml_widgets")
_RUNNER = str(Path(__file__).parent) + os.sep  # frames of the runner itself


class StepTimeoutError(Exception):
    """A step function ran past its ``timeout``."""


def execute_step(
    stack: Stack, job: StepJob, inputs: dict[str, ArtifactRecord], *, worker: str | None = None
) -> dict[str, ArtifactRecord]:
    """Run one step and record it: reuse cached outputs, or read the inputs, call the step
    function (again, as its retries allow) and write its outputs. Returns the step's outputs
    by name. ``worker``: the address of the Dask worker it runs on, if any.

    Raises ``StepFailedError`` (the step is recorded ``failed``) when its last attempt fails,
    and ``AttemptRefusedError`` when the store refuses the attempt (another one took over, or
    the run has ended): nothing of it is recorded then.
    """
    store = stack.metadata_store
    step = job.step
    spec = step.output_spec()
    key = cache_key(step.ENTRYPOINT_NAME, job.code_hash, job.parameters, inputs, spec)
    expected = 0
    if job.resume:
        # Dask runs the task again when its worker was lost: take over from the current attempt.
        record = store.get_step(job.step_id)
        if record.status in ("completed", "cached"):
            return {a.name: a for a in store.list_outputs(record.id)}
        expected = record.attempt
    where = Worker(this_host(), os.getpid(), worker)
    ids = {k: a.id for k, a in inputs.items()}
    attempt = store.start_attempt(
        job.step_id, expected=expected, worker=where, cache_key=key, inputs=ids
    )
    if step.enable_cache and job.pipeline_cache:
        reused = reuse(stack, job.step_id, attempt.number, key, [n for n, _ in spec])
        if reused is not None:
            logger.info("Step %r of run %r: cached", job.name, job.run_name)
            return reused
    started = datetime.now(UTC)
    retries = max(0, int(step.RETRIES))
    while True:
        try:
            written = _attempt(stack, job, attempt.number, inputs, spec)
            break
        except BaseException as e:
            if not isinstance(e, Exception) or retries == 0:
                _fail(stack, job, attempt, e)
            retries -= 1
            store.fail_attempt(job.step_id, attempt.number, _error(e))
            logger.info(
                "Step %r of run %r: attempt %d failed", job.name, job.run_name, attempt.number
            )
            time.sleep(float(step.RETRY_DELAY))
            attempt = store.start_attempt(job.step_id, expected=attempt.number, worker=where)
    artifacts = _record(stack, job, attempt, written)
    elapsed = (datetime.now(UTC) - started).total_seconds()
    logger.info("Step %r of run %r: completed in %.3f s", job.name, job.run_name, elapsed)
    return {a.name: a for a in artifacts}


def _attempt(
    stack: Stack,
    job: StepJob,
    attempt: int,
    inputs: dict[str, ArtifactRecord],
    spec: list[tuple[str, Any]],
) -> list[NewArtifact]:
    """One execution: load the inputs, call the step function (within its time limit, as the
    attempt that :func:`~zenml_widgets.runner.context.current` finds), write its outputs
    (published together, not recorded yet)."""
    kwargs = dict(job.parameters)
    hints = job.step.type_hints()
    for k, artifact in inputs.items():
        wanted = hints.get(k)
        kwargs[k] = stored(stack, artifact).load(wanted if isinstance(wanted, type) else None)
    where = (job.pipeline_name, job.run_id, job.run_name, job.step_id, job.name)
    context = StepContext(stack, *where, attempt)
    register_source(job.step, job.source)
    with running(context):
        log = capture(context, job.logs)
        timeout = job.step.TIMEOUT
        try:
            if timeout is None:
                result = job.step.ENTRYPOINT(**kwargs)
            else:
                result = call_with_timeout(job.step.ENTRYPOINT, kwargs, float(timeout), job.name)
        except BaseException as e:
            if log is not None:  # the logs end with why the attempt failed, as a console would
                log.add_error(_error(e))
            raise
    return write_outputs(stack, job, spec, result)


def _record(
    stack: Stack, job: StepJob, attempt: AttemptRecord, written: list[NewArtifact]
) -> list[ArtifactRecord]:
    """Record the attempt's outputs; a refused (or failed) write removes them."""
    try:
        return stack.metadata_store.finish_attempt(
            job.step_id, attempt.number, "completed", outputs=written
        )
    except BaseException as e:
        for new in written:  # published but not recorded: take them back
            stack.artifact_store.remove(new.uri)
        if isinstance(e, AttemptRefusedError):
            logger.warning("Step %r of run %r: %s", job.name, job.run_name, e)
        raise


def _fail(stack: Stack, job: StepJob, attempt: AttemptRecord, error: BaseException) -> NoReturn:
    """End the step as failed by ``error`` and raise what ends the run: ``StepFailedError``;
    a ``KeyboardInterrupt`` in the run's own process (Ctrl-C) goes on as it is."""
    text = _error(error)
    stack.metadata_store.finish_attempt(job.step_id, attempt.number, "failed", error=text)
    if isinstance(error, KeyboardInterrupt) and os.getpid() == job.run_pid:
        raise error
    if isinstance(error, StepTimeoutError):
        raise job.fail(str(error)) from None
    raise job.fail(f"{type(error).__name__}: {error}") from error


def _error(error: BaseException) -> str:
    """The traceback of an attempt's error, from the step's own code on (the runner's frames
    above it left out)."""
    if isinstance(error, StepTimeoutError):
        return str(error)
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None and _RUNNER in tb.tb_frame.f_code.co_filename:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def call_with_timeout(function: Any, kwargs: dict[str, Any], timeout: float, name: str) -> Any:
    """``function(**kwargs)`` in a helper thread, waited for at most ``timeout`` seconds.

    Past the limit, ``StepTimeoutError`` is raised here and also into the helper thread, which
    stops at its next Python instruction; code that is blocked in C (``time.sleep``, a socket
    read, a long NumPy call) runs on until it returns to Python. Its result is discarded.
    """
    outcome: list[Any] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(function(**kwargs))
        except BaseException as e:
            failure.append(e)

    thread = threading.Thread(target=target, name=f"zenml-step-{name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        message = f"it ran longer than its timeout of {timeout:g} s and was stopped"
        _raise_in(thread, StepTimeoutError)
        raise StepTimeoutError(message)
    if failure:
        raise failure[0]
    return outcome[0]


def _raise_in(thread: threading.Thread, error: type[BaseException]) -> None:
    """Raise ``error`` in ``thread`` at its next Python instruction."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(error)
        )
