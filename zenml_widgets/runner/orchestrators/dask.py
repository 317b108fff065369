"""The Dask orchestrator: a run's steps as tasks on a Dask ``distributed`` cluster.

Each step is one task, submitted as soon as the steps it reads outputs from have finished, so
independent branches run at the same time on different workers. A task runs ``execute_step``
on the worker: the worker opens the stack's stores itself (the stack travels as its settings),
reads the inputs from the artifact store, runs the step, writes its outputs atomically and
records the step in the metadata store. The client only records the run, beats its heart and waits.

When a step raises, the steps that depend on it never start and the independent branches run
to the end; the run is then recorded ``failed`` naming the step. A worker that dies while
running a step has its task retried once on another worker (the step's record is taken over,
not duplicated); a second death fails the step with the reason.

``distributed`` is imported only here, and only when a run uses this orchestrator.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zenml_widgets.artifacts import safe_segment
from zenml_widgets.exceptions import OrchestratorError, PipelineDefinitionError, StepFailedError
from zenml_widgets.orchestration import BUILTIN
from zenml_widgets.runner.execution import StepJob, execute_step
from zenml_widgets.runner.orchestrators.base import Orchestrator

if TYPE_CHECKING:
    from zenml_widgets.runner.steps import StepNode
    from zenml_widgets.stack import Stack
    from zenml_widgets.store import ArtifactRecord

logger = logging.getLogger("zenml_widgets")
DEFAULT_TIMEOUT = 10.0
# A task whose worker died is retried on another worker this many times.
WORKER_DEATHS_ALLOWED = 1


class DaskOrchestrator(Orchestrator):
    """Runs the jobs of a run on a Dask cluster: the stack's ``address``, or a ``LocalCluster``
    of worker processes started on entering and closed on leaving.

    Making one checks that every step can be sent to workers; entering checks that the
    scheduler answers and that the workers can reach the metadata store, all before a run is
    recorded.
    """

    NAME = "dask"
    SUMMARY = BUILTIN[NAME].summary
    OPTIONS = BUILTIN[NAME].options

    def __init__(self, stack: Stack, nodes: Sequence[StepNode], options: Mapping[str, Any]) -> None:
        """See ``Orchestrator``; refuses a step that cannot be sent to workers."""
        super().__init__(stack, nodes, options)
        self.client: Any = None
        self.cluster: Any = None
        check_picklable(self.nodes)

    def __enter__(self) -> DaskOrchestrator:
        """Reach the stack's scheduler, or start a LocalCluster."""
        try:
            import dask
            import distributed
        except ImportError as e:
            raise OrchestratorError(
                f"Stack {self.stack.key!r} runs pipelines on Dask, which is not installed "
                f"({e}). Install it with: pip install 'zenml-widgets[dask]'"
            ) from None
        address = self.options.get("address")
        timeout = float(self.options.get("timeout", DEFAULT_TIMEOUT))
        try:
            if address:
                self.client = distributed.Client(  # type: ignore[no-untyped-call]
                    str(address), timeout=timeout, set_as_default=False
                )
            else:
                with dask.config.set(
                    {"distributed.scheduler.allowed-failures": WORKER_DEATHS_ALLOWED}
                ):
                    self.cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
                        n_workers=self.options.get("n_workers"),
                        threads_per_worker=int(self.options.get("threads_per_worker", 1)),
                        memory_limit=self.options.get("memory_limit", "auto"),
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                self.client = distributed.Client(  # type: ignore[no-untyped-call]
                    self.cluster, set_as_default=False
                )
        except RuntimeError as e:  # worker processes failed to start
            self.__exit__(None, None, None)
            raise OrchestratorError(
                f"Stack {self.stack.key!r}: the local Dask cluster's worker processes failed to "
                f"start ({e}). Nothing was run or recorded. Worker processes re-import a script "
                "that runs a pipeline: put the script's top-level code under "
                '`if __name__ == "__main__":`.'
            ) from e
        except (OSError, TimeoutError) as e:
            self.__exit__(None, None, None)
            where = f"the Dask scheduler at {address!r}" if address else "a local Dask cluster"
            raise OrchestratorError(
                f"Stack {self.stack.key!r} could not reach {where} within {timeout:g} s: "
                f"{type(e).__name__}: {e}. Nothing was run or recorded. Start the scheduler "
                "(`dask scheduler`) and its workers (`dask worker ADDRESS`), fix the stack's "
                "address option, or drop it to start a local cluster for each run."
            ) from None
        try:
            workers = list(self.client.scheduler_info()["workers"])
            check_store_reachable(self.stack.metadata_url, [str(address or ""), *workers])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the client, and the LocalCluster if one was started."""
        for closable in (self.client, self.cluster):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # closing must not hide the run's own error
                    logger.debug("closing Dask failed", exc_info=True)
        self.client = self.cluster = None

    def run(self, jobs: list[StepJob]) -> None:
        """Submit each job as a task once its upstream jobs have finished; when one fails, the
        independent ones still run, then the run fails naming it."""
        import distributed

        stack = self.stack
        client = self.client
        jobs = [replace(job, resume=True) for job in jobs]
        waiting = {job.name: set(job.upstream) for job in jobs}
        outputs: dict[str, dict[str, ArtifactRecord]] = {}
        running: dict[Any, StepJob] = {}
        failures: list[StepFailedError] = []

        def submit(job: StepJob) -> Any:
            # A step is submitted once the steps it reads from have finished, with their
            # recorded outputs as its inputs: it is a task without data dependencies, so the
            # scheduler may start it on any idle worker (a task depending on another one's
            # result would be placed where that result is, and wait to be stolen).
            del waiting[job.name]
            inputs = {k: outputs[s][o] for k, (s, o) in job.inputs.items()}
            key = f"zenml-{job.run_id}-{job.position:03d}-{safe_segment(job.name)}-"
            future = client.submit(
                run_task,
                stack,
                job,
                inputs,
                key=key + uuid.uuid4().hex[:8],
                pure=False,
                retries=0,
            )
            running[future] = job
            return future

        with client.as_current():
            ready = [submit(job) for job in jobs if not waiting[job.name]]
            done = distributed.as_completed(ready)  # type: ignore[no-untyped-call]
            try:
                for future in done:
                    job = running.pop(future)
                    if future.status == "finished":
                        outputs[job.name] = future.result()
                        for other in jobs:
                            if other.name in waiting:
                                waiting[other.name].discard(job.name)
                                if not waiting[other.name]:
                                    done.add(submit(other))  # type: ignore[no-untyped-call]
                        continue
                    failures.append(self._failure(stack, job, future))
            except BaseException:
                client.cancel(list(running))
                raise
        if failures:
            raise _run_failed(failures, list(waiting)) from failures[0]

    def _failure(self, stack: Stack, job: StepJob, future: Any) -> StepFailedError:
        error = future.exception() if future.status == "error" else None
        if isinstance(error, StepFailedError):
            return error  # the step raised; execute_step recorded it
        if type(error).__name__ == "KilledWorker":
            return self._worker_died(stack, job, error)
        if error is None:
            error = RuntimeError(f"the task was {future.status} by the Dask scheduler")
        return self._broken(stack, job, error)

    def _worker_died(self, stack: Stack, job: StepJob, error: Any) -> StepFailedError:
        reason = (
            f"the Dask worker running it died {WORKER_DEATHS_ALLOWED + 1} times "
            f"(killed, out of memory, or crashed): {error}"
        )
        _record_failure(stack, job, reason)
        return job.fail(reason)

    def _broken(self, stack: Stack, job: StepJob, error: Any) -> StepFailedError:
        reason = f"it could not run on a Dask worker: {type(error).__name__}: {error}"
        _record_failure(stack, job, reason)
        return job.fail(reason)


def _run_failed(failures: list[StepFailedError], not_run: list[str]) -> StepFailedError:
    """The error of a run whose steps ``failures`` failed: the first, naming the others."""
    first = failures[0]
    extra = ""
    if len(failures) > 1:
        extra += f" Also failed: {', '.join(repr(f.step_name) for f in failures[1:])}."
    if not_run:
        extra += f" Not run because of it: {', '.join(map(repr, not_run))}."
    return StepFailedError(str(first) + extra, step_name=first.step_name, run_name=first.run_name)


def run_task(
    stack: Stack, job: StepJob, inputs: dict[str, ArtifactRecord]
) -> dict[str, ArtifactRecord]:
    """The Dask task of one step (runs on a worker): returns the step's outputs by name."""
    return execute_step(stack, job, inputs)


def _record_failure(stack: Stack, job: StepJob, reason: str) -> None:
    store = stack.metadata_store
    record = store.get_step_at(job.run_id, job.position)
    if record is not None and record.status == "running":
        store.finish_step(record.id, "failed", error=reason)


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


def check_store_reachable(metadata_url: str, addresses: Sequence[str]) -> None:
    """Refuse an SQLite metadata store when the scheduler or a worker is on another host:
    workers record their steps in the store, and a SQLite file cannot be shared between hosts.
    """
    if not metadata_url.startswith("sqlite"):
        return
    remote = sorted({h for h in (_host(a) for a in addresses) if h and not _is_this_host(h)})
    if remote:
        raise OrchestratorError(
            f"This stack's metadata store is an SQLite file ({metadata_url}), but the Dask "
            f"cluster has hosts other than this machine ({', '.join(remote)}). Workers record "
            "their steps in the metadata store themselves, and an SQLite file cannot be shared "
            "between hosts. Use a PostgreSQL metadata store for a cluster on several machines "
            "(zenml-widgets stack register ... --metadata-url postgresql+psycopg://...), or "
            "run the cluster on this machine."
        )


def _host(address: str) -> str:
    if not address:
        return ""
    if "://" not in address:
        address = "tcp://" + address
    return urlsplit(address).hostname or ""


def _is_this_host(host: str) -> bool:
    if host in ("localhost", socket.gethostname(), socket.getfqdn()):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        try:
            ip = ipaddress.ip_address(socket.gethostbyname(host))
        except (OSError, ValueError):
            return False
    if ip.is_loopback:
        return True
    return str(ip) in _own_addresses()


def _own_addresses() -> set[str]:
    found: set[str] = set()
    for name in (socket.gethostname(), socket.getfqdn()):
        try:
            found.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
        except OSError:
            continue
    return found
