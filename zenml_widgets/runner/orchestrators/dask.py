"""The Dask orchestrator: a run's steps as tasks on a Dask ``distributed`` cluster.

Each step is one task, submitted as soon as the steps it reads outputs from have finished, so
independent branches run at the same time on different workers. A task runs ``execute_step``
on the worker: the worker opens the stack's stores itself (the stack travels as its settings),
reads the inputs from the artifact store, runs the step, writes its outputs atomically and
records the step in the metadata store. The client only records the run, beats its heart and
waits.

When a step fails, the steps that depend on it never start (``skipped``) and the independent
branches run to the end; the run is then recorded ``failed`` naming the step. A worker lost
while running a step has its task run again elsewhere (a new attempt of the step), as often as
the scheduler allows; then the step fails with the real count. A run ends with a clear error,
never hangs: when the scheduler is lost, or no worker takes its tasks for ``worker_wait`` s.

The step travels as bytes that only the worker unpickles, so the scheduler never imports step
code; a worker that cannot import a step's module says which and where to install it.
``distributed`` is imported only here, and only when a run uses this orchestrator.
"""

from __future__ import annotations

import logging
import queue
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from zenml_widgets.artifacts import safe_segment
from zenml_widgets.exceptions import OrchestratorError, PipelineDefinitionError, StepFailedError
from zenml_widgets.orchestration import BUILTIN
from zenml_widgets.runner.attempts import execute_step
from zenml_widgets.runner.orchestrators.base import Orchestrator
from zenml_widgets.runner.orchestrators.dask_cluster import (
    StallWatch,
    check_store_reachable,
    forget_client,
    local_client,
    scheduler_address,
)

if TYPE_CHECKING:
    from zenml_widgets.runner.execution import StepJob
    from zenml_widgets.runner.steps import StepNode
    from zenml_widgets.stack import Stack
    from zenml_widgets.store import ArtifactRecord

__all__ = ["DaskOrchestrator", "check_picklable", "check_store_reachable", "run_task"]

logger = logging.getLogger("zenml_widgets")
DEFAULT_TIMEOUT = 10.0
DEFAULT_WORKER_WAIT = 60.0
#: Seconds between checks that a run can still make progress.
POLL = 1.0


class DaskOrchestrator(Orchestrator):
    """Runs the jobs of a run on a Dask cluster: the stack's ``address``, or this process's
    ``LocalCluster`` for the stack's options (started by the first run that needs it).

    Making one checks that every step can be sent to workers; entering checks that the
    scheduler answers and that the workers can reach the metadata store, all before a run is
    recorded.
    """

    NAME = "dask"
    SUMMARY = BUILTIN[NAME].summary
    OPTIONS = BUILTIN[NAME].options
    IN_PROCESS = False

    def __init__(self, stack: Stack, nodes: Sequence[StepNode], options: Mapping[str, Any]) -> None:
        """See ``Orchestrator``; refuses a step that cannot be sent to workers."""
        super().__init__(stack, nodes, options)
        self.client: Any = None
        self.address = str(self.options.get("address") or "")
        check_picklable(self.nodes)

    def __enter__(self) -> DaskOrchestrator:
        """Reach the stack's scheduler, or this process's LocalCluster for its options."""
        try:
            import distributed
        except ImportError as e:
            raise OrchestratorError(
                f"Stack {self.stack.key!r} runs pipelines on Dask, which is not installed "
                f"({e}). Install it with: pip install 'zenml-widgets[dask]'"
            ) from None
        timeout = float(self.options.get("timeout", DEFAULT_TIMEOUT))
        try:
            if self.address:
                self.client = distributed.Client(  # type: ignore[no-untyped-call]
                    self.address, timeout=timeout, set_as_default=False
                )
            else:
                self.client = local_client(
                    self.options.get("n_workers"),
                    int(self.options.get("threads_per_worker", 1)),
                    self.options.get("memory_limit", "auto"),
                )
        except RuntimeError as e:  # worker processes failed to start
            raise OrchestratorError(
                f"Stack {self.stack.key!r}: the local Dask cluster's worker processes failed to "
                f"start ({e}). Nothing was run or recorded. Worker processes re-import a script "
                "that runs a pipeline: put the script's top-level code under "
                '`if __name__ == "__main__":`.'
            ) from e
        except (OSError, TimeoutError) as e:
            where = f"the Dask scheduler at {self.address!r}" if self.address else "a local cluster"
            raise OrchestratorError(
                f"Stack {self.stack.key!r} could not reach {where} within {timeout:g} s: "
                f"{type(e).__name__}: {e}. Nothing was run or recorded. Start the scheduler "
                "(`dask scheduler`) and its workers (`dask worker ADDRESS`), fix the stack's "
                "address option, or drop it to use a local cluster."
            ) from None
        try:
            workers = list(self.client.scheduler_info()["workers"])
            check_store_reachable(self.stack.metadata_url, [self.address, *workers])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the client of a stack's scheduler (a LocalCluster is kept for the next run)."""
        if self.client is not None and self.address:
            try:
                self.client.close(timeout=5)
            except Exception:  # closing must not hide the run's own error
                logger.debug("closing the Dask client failed", exc_info=True)
        self.client = None

    def run(self, jobs: list[StepJob]) -> None:
        """Submit each job as a task once its upstream jobs have finished; when one fails, the
        independent ones still run, then the run fails naming it."""
        client = self.client
        jobs = [replace(job, resume=True) for job in jobs]
        waiting = {job.name: set(job.upstream) for job in jobs}
        outputs: dict[str, dict[str, ArtifactRecord]] = {}
        running: dict[str, tuple[Any, StepJob]] = {}
        finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        failures: list[StepFailedError] = []

        def submit(job: StepJob) -> None:
            # A step is submitted once the steps it reads from have finished, with their
            # recorded outputs as its inputs: it is a task without data dependencies, so the
            # scheduler may start it on any idle worker.
            del waiting[job.name]
            inputs = {k: outputs[s][o] for k, (s, o) in job.inputs.items()}
            key = f"zenml-{job.run_id}-{job.position:03d}-{safe_segment(job.name)}-"
            key += uuid.uuid4().hex[:8]
            future = client.submit(
                run_task, self.stack, job.step_id, job.name, _payload(job), inputs,
                key=key, pure=False, retries=0,
            )  # fmt: skip
            running[key] = (future, job)
            future.add_done_callback(finished.put)

        def started(keys: set[str]) -> bool:
            found = self.stack.metadata_store.step_statuses([running[k][1].step_id for k in keys])
            return any(status != "pending" for status in found.values())

        wait = float(self.options.get("worker_wait", DEFAULT_WORKER_WAIT))
        watch = StallWatch(client, wait, started)
        with client.as_current():
            try:
                for job in jobs:
                    if not waiting[job.name]:
                        submit(job)
                while running:
                    future = self._next(finished, watch, running, waiting)
                    _, job = running[future.key]
                    watch.progress()
                    if future.status != "finished":
                        del running[future.key]
                        failures.append(self._failure(job, future))
                        continue
                    outputs[job.name] = self._result(future, job, watch, running, waiting)
                    del running[future.key]
                    for other in jobs:
                        if other.name in waiting:
                            waiting[other.name].discard(job.name)
                            if not waiting[other.name]:
                                submit(other)
            except BaseException:
                if client.status == "running":  # else the scheduler is gone, and its tasks
                    client.cancel([f for f, _ in running.values()])
                raise
        if failures:
            raise _run_failed(failures, list(waiting)) from failures[0]

    def _next(
        self,
        finished: queue.SimpleQueue[Any],
        watch: StallWatch,
        running: dict[str, tuple[Any, StepJob]],
        waiting: dict[str, set[str]],
    ) -> Any:
        """The next task that ended; an ``OrchestratorError`` when the run cannot go on (the
        scheduler is lost, or no worker takes its tasks for ``worker_wait`` s)."""
        while True:
            try:
                future = finished.get(timeout=POLL)
            except queue.Empty:
                future = None
            if self.client.status != "running":
                raise self._lost(running, waiting)
            if future is not None:
                return future
            try:
                reason = watch.stalled(set(running))
            except Exception:  # the scheduler went away while it was asked
                if self.client.status != "running":
                    raise self._lost(running, waiting) from None
                raise
            if reason is not None:
                names = ", ".join(repr(j.name) for _, j in running.values())
                raise OrchestratorError(
                    f"Stack {self.stack.key!r}: the run cannot go on: {reason}. Waiting: {names}."
                )

    def _result(
        self,
        future: Any,
        job: StepJob,
        watch: StallWatch,
        running: dict[str, tuple[Any, StepJob]],
        waiting: dict[str, set[str]],
    ) -> dict[str, ArtifactRecord]:
        """A finished task's outputs. The result lives on the worker that ran it; when that
        worker is gone before handing it over, the step's record in the store has them (a
        finished task has recorded its step), and the same watch as for running tasks bounds
        the wait if it does not."""
        from distributed import TimeoutError as DaskTimeout

        store = self.stack.metadata_store
        keys = {future.key}
        while True:
            try:
                result: dict[str, ArtifactRecord] = future.result(timeout=POLL)
                return result
            except (DaskTimeout, TimeoutError):
                pass
            if store.get_step(job.step_id).status in ("completed", "cached"):
                future.release()
                return {a.name: a for a in store.list_outputs(job.step_id)}
            if self.client.status != "running":
                raise self._lost(running, waiting)
            reason = watch.stalled(keys)
            if reason is not None:
                raise OrchestratorError(
                    f"Stack {self.stack.key!r}: the run cannot go on: {reason}. Waiting for "
                    f"the outputs of {job.name!r}."
                )

    def _lost(
        self, running: dict[str, tuple[Any, StepJob]], waiting: dict[str, set[str]]
    ) -> OrchestratorError:
        address = self.address or scheduler_address(self.client)
        if not self.address:
            forget_client(self.client)
        ran = ", ".join(repr(j.name) for _, j in running.values()) or "none"
        return OrchestratorError(
            f"Stack {self.stack.key!r}: lost the Dask scheduler at {address} (steps running: "
            f"{ran}). The steps that had not started are skipped. Restart the scheduler and "
            "its workers, and run the pipeline again."
        )

    def _failure(self, job: StepJob, future: Any) -> StepFailedError:
        if future.status == "cancelled" and self.client.status != "running":
            raise self._lost({future.key: (future, job)}, {})
        error = future.exception() if future.status == "error" else None
        if isinstance(error, StepFailedError):  # the step failed and was recorded so
            return error if error.run_name else job.fail(str(error))
        if type(error).__name__ == "KilledWorker":
            deaths = int(getattr(error, "allowed_failures", 0)) + 1
            reason = (
                f"the Dask worker running it died {deaths} time{'s' if deaths > 1 else ''} "
                f"(killed, out of memory, or crashed): {error}"
            )
        elif error is None:
            reason = f"its task was {future.status} by the Dask scheduler"
        else:
            reason = f"it could not run on a Dask worker: {type(error).__name__}: {error}"
        record_failure(self.stack, job.step_id, reason)
        return job.fail(reason)


def _payload(job: StepJob) -> bytes:
    import cloudpickle

    return bytes(cloudpickle.dumps(job))


def _run_failed(failures: list[StepFailedError], not_run: list[str]) -> StepFailedError:
    """The error of a run whose steps ``failures`` failed: the first, naming the others."""
    first = failures[0]
    text = str(first).rstrip()
    extra = "" if text.endswith(".") else "."
    if len(failures) > 1:
        extra += f" Also failed: {', '.join(repr(f.step_name) for f in failures[1:])}."
    if not_run:
        extra += f" Not run because of it: {', '.join(map(repr, not_run))} (skipped)."
    return StepFailedError(text + extra, step_name=first.step_name, run_name=first.run_name)


def run_task(
    stack: Stack, step_id: int, name: str, payload: bytes, inputs: dict[str, ArtifactRecord]
) -> dict[str, ArtifactRecord]:
    """The Dask task of one step (runs on a worker): returns the step's outputs by name.

    ``payload`` is the pickled job: unpickled here, so that only workers import step code.
    """
    import cloudpickle
    import distributed

    address = distributed.get_worker().address
    try:
        job: StepJob = cloudpickle.loads(payload)
    except Exception as e:
        module = getattr(e, "name", None) if isinstance(e, ImportError) else None
        what = f"the step's module {module!r}" if module else "the step's code"
        reason = (
            f"{what} cannot be imported on the Dask worker at {address} "
            f"({type(e).__name__}: {e}). Install it on every worker (the same version as where "
            "the pipeline runs), or define the step in the script or notebook that runs the "
            "pipeline, so that it travels with the task"
        )
        record_failure(stack, step_id, reason)
        raise StepFailedError(reason, step_name=name, run_name="") from None
    return execute_step(stack, job, inputs, worker=address)


def record_failure(stack: Stack, step_id: int, reason: str) -> None:
    """End a step that did not end by itself (its worker died, it could not be run) as
    ``failed`` with ``reason``, if it is still open and its run too."""
    store = stack.metadata_store
    record = store.get_step(step_id)
    if record.status in ("pending", "running"):
        try:
            store.finish_attempt(step_id, record.attempt, "failed", error=reason)
        except Exception:  # the run ended, or the step was taken over meanwhile: keep that
            logger.debug("recording a step's failure was refused", exc_info=True)


def check_picklable(nodes: Sequence[StepNode]) -> None:
    """Every step must travel to workers by cloudpickle; name the one that cannot."""
    import cloudpickle

    for node in nodes:
        try:
            cloudpickle.dumps(node.step)
        except Exception as e:
            raise PipelineDefinitionError(
                f"Step {node.name!r} (entrypoint {node.step.ENTRYPOINT_NAME!r}) cannot be sent "
                f"to Dask workers: {type(e).__name__}: {e}. Nothing was run. Define the step in "
                "an importable module (or a notebook cell), and do not let it capture locks, "
                "open files, connections or other objects that cannot be pickled; open them "
                "inside the step instead."
            ) from None
