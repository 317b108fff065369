"""The Dask orchestrator's clusters: reaching a scheduler, the LocalClusters kept per process,
whether a cluster can use an SQLite store, and whether a run is stuck for want of workers.

A stack without ``address`` runs on a ``LocalCluster`` of worker processes. One is kept per
process for each set of options and reused by the next run (a notebook pays its start-up once),
and closed when the process exits. Its dashboard is off. ``distributed`` is imported only by
the functions that need it.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from zenml_widgets.exceptions import OrchestratorError

logger = logging.getLogger("zenml_widgets")
#: A LocalCluster's task whose worker died is run again on another worker this many times.
WORKER_DEATHS_ALLOWED = 1
_local: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_lock = threading.Lock()


def local_client(n_workers: int | None, threads: int, memory_limit: Any) -> Any:
    """A client of this process's LocalCluster for these options, started on first use."""
    import dask
    import distributed

    key = (n_workers, threads, memory_limit)
    with _lock:
        found = _local.get(key)
        if found is not None:
            cluster, client = found
            if client.status == "running" and cluster.status.name == "running":
                return client
            _close(client, cluster)
            del _local[key]
        with dask.config.set({"distributed.scheduler.allowed-failures": WORKER_DEATHS_ALLOWED}):
            cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=n_workers,
                threads_per_worker=threads,
                memory_limit=memory_limit,
                processes=True,
                dashboard_address=None,
                # the dashboard is off, but the scheduler still serves HTTP (health, metrics):
                # on a free loopback port, not 8787 (which another cluster may hold)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
        try:
            client = distributed.Client(cluster, set_as_default=False)  # type: ignore[no-untyped-call]
        except BaseException:
            _close(None, cluster)
            raise
        if not _local:
            atexit.register(close_local_clusters)
        _local[key] = (cluster, client)
        return client


def forget_client(client: Any) -> None:
    """Close a kept LocalCluster whose client is ``client`` (it lost its scheduler)."""
    with _lock:
        for key, (cluster, kept) in list(_local.items()):
            if kept is client:
                del _local[key]
                _close(kept, cluster)


def close_local_clusters() -> None:
    """Close every LocalCluster this process keeps (at exit)."""
    with _lock:
        kept = list(_local.values())
        _local.clear()
    for cluster, client in kept:
        _close(client, cluster)


def _close(client: Any, cluster: Any) -> None:
    for closable in (client, cluster):
        if closable is not None:
            with contextlib.suppress(Exception):  # closing must not hide the run's own error
                closable.close(timeout=5)


def scheduler_address(client: Any) -> str:
    """The address of the client's scheduler."""
    with contextlib.suppress(Exception):
        return str(client.scheduler.address)
    return "(unknown address)"


class StallWatch:
    """Whether a run has waited ``worker_wait`` seconds with no worker able to take its tasks.

    The clock runs while no task of the run is running its step (none is being processed, or
    those being processed never started their step: a paused or dying worker) and some worker
    is free or there are none; it stops while a step of the run runs, and while every worker is
    busy with other work (a shared cluster: the tasks wait their turn).

    ``started(keys)``: whether the step of any of these task keys has started (is recorded
    ``running`` or ended).
    """

    def __init__(
        self, client: Any, worker_wait: float, started: Callable[[set[str]], bool]
    ) -> None:
        self.client = client
        self.worker_wait = worker_wait
        self.started = started
        self.since = time.monotonic()

    def progress(self) -> None:
        """A task of the run finished."""
        self.since = time.monotonic()

    def stalled(self, keys: set[str]) -> str | None:
        """Why the run cannot go on, once it has been stuck for ``worker_wait`` s; else
        ``None``."""
        processing: dict[str, Sequence[str]] = self.client.processing()
        ours = {k for tasks in processing.values() for k in tasks if k in keys}
        others_only = bool(processing) and all(
            tasks and not any(k in keys for k in tasks) for tasks in processing.values()
        )
        if others_only or (ours and self.started(ours)):
            self.since = time.monotonic()
            return None
        waited = time.monotonic() - self.since
        if waited < self.worker_wait:
            return None
        return (
            f"no Dask worker took its tasks for {waited:.0f} s (the stack's worker_wait is "
            f"{self.worker_wait:g} s); the scheduler at {scheduler_address(self.client)} has "
            f"{len(processing)} worker(s). Start workers (`dask worker ADDRESS`), check that "
            "they can run (their memory limit, their logs), or raise worker_wait"
        )


def check_store_reachable(metadata_url: str, addresses: Sequence[str]) -> None:
    """Refuse an SQLite metadata store when the scheduler or a worker is on another host:
    workers record their steps in the store, and a SQLite file cannot be shared between hosts.
    A host is this machine when it is a loopback address, one of this machine's names, or an
    address of one of its network interfaces.
    """
    if not metadata_url.startswith("sqlite"):
        return
    remote = sorted({h for h in (_host(a) for a in addresses) if h and not is_this_host(h)})
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


def is_this_host(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine."""
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
    return str(ip) in own_addresses()


def own_addresses() -> set[str]:
    """Every address of this machine: those of its network interfaces (where workers listen
    and advertise), and those its names resolve to."""
    found: set[str] = set()
    with contextlib.suppress(ImportError, OSError):
        import psutil  # type: ignore[import-untyped]  # installed with distributed

        for addresses in psutil.net_if_addrs().values():
            for address in addresses:
                if address.family in (socket.AF_INET, socket.AF_INET6):
                    found.add(str(address.address).split("%")[0])
    for name in (socket.gethostname(), socket.getfqdn()):
        with contextlib.suppress(OSError):
            found.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
    return found
