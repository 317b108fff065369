"""A real external Dask cluster for tests: a ``dask scheduler`` process and ``dask worker``
processes (no nanny: a killed worker stays dead until the test starts another), each started
and killed by PID, as a user runs them.

The scheduler is started the README's way (no ``--host``), so it listens on every interface, and
the workers and clients reach it at this machine's network address, which the workers then
advertise as theirs. Workers import the tests' helper
modules (``PYTHONPATH`` is the tests folder).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

TESTS_DIR = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).with_name("dask"))


def this_machine_ip() -> str:
    """This machine's network address (what ``dask worker`` advertises), or loopback."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent
        return str(s.getsockname()[0])
    return "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


class ExternalCluster:
    """``dask scheduler`` plus ``workers`` ``dask worker`` processes of one thread each.

    ``env``: extra environment of the scheduler and workers (``DASK_...`` settings).
    """

    def __init__(self, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.address = f"tcp://{this_machine_ip()}:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(TESTS_DIR),
            "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "error",
            **(env or {}),
        }
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.wanted = workers

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the scheduler and the workers, and wait until the workers are connected."""
        self.start_scheduler()
        for _ in range(self.wanted):
            self.start_worker()
        self.wait_for_workers(self.wanted)

    def start_scheduler(self) -> None:
        """Start the scheduler process (on the same port as before, after a kill)."""
        self.scheduler = subprocess.Popen(
            [DASK, "scheduler", "--port", str(self.port), "--no-dashboard"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("localhost", self.port)):
                return
            assert self.scheduler.poll() is None, "the dask scheduler exited"
            time.sleep(0.05)
        raise TimeoutError("the dask scheduler did not start listening")

    def start_worker(self) -> subprocess.Popen[bytes]:
        """Start one worker process (one thread, no nanny)."""
        worker = subprocess.Popen(
            [DASK, "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def live_workers(self) -> list[subprocess.Popen[bytes]]:
        """The worker processes that have not exited."""
        return [w for w in self.workers if w.poll() is None]

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        """Wait until ``n`` workers are connected to the scheduler."""
        import distributed

        client = distributed.Client(self.address, timeout=30, set_as_default=False)
        try:
            client.wait_for_workers(n, timeout=timeout)
        finally:
            client.close()

    def kill(self, process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to a process of the cluster by its PID (and reap it if it ends)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler process."""
        if self.scheduler is not None:
            self.kill(self.scheduler)

    def stop(self) -> None:
        """Kill every process of the cluster."""
        for worker in self.workers:
            self.kill(worker)
        self.workers = []
        self.kill_scheduler()
        self.scheduler = None

    def restart(self) -> None:
        """Kill everything and start a fresh scheduler (same port) and workers."""
        self.stop()
        self.start()


@contextlib.contextmanager
def local_cluster(workers: int = 2, threads: int = 1, **config: Any) -> Iterator[str]:
    """A ``LocalCluster`` of ``workers`` worker processes of ``threads`` threads each (with
    dask ``config`` set while it starts): its scheduler's address, closed after the block."""
    import dask
    import distributed

    with dask.config.set(config):
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=threads, processes=True, dashboard_address=None
        )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
