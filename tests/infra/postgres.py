"""A throwaway PostgreSQL server for a test session.

``PostgresServer.start()`` runs ``initdb`` in a fresh temporary directory and starts ``postgres`` on
a free loopback port with durability switched off (tests never need to survive a crash). The
directory goes on ``/dev/shm`` when that has room: on a disk, ``CREATE DATABASE`` (a few hundred
small files) took ~200 ms instead of ~15 ms, and start-up ~1.5 s instead of ~0.5 s. Each test
then gets its own empty database from ``create_database`` and drops it with ``drop_database``.
``PostgresServer.connect(url)`` wraps an already running server instead (CI service containers).

The server binaries come from the Debian ``postgresql`` package; ``scripts/install-system-deps.sh``
installs it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, make_url

INSTALL_HINT = (
    "Run `scripts/install-system-deps.sh` (as root) to install the Debian `postgresql` package."
)

# The server runs as this OS user when the tests run as root (PostgreSQL refuses to run as root).
SERVER_OS_USER = "postgres"

DEFAULT_SETTINGS: dict[str, str] = {
    # Nothing a test writes needs to survive a crash; these make commits and CREATE DATABASE cheap.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # Bounds the WAL kept on disk (or in RAM on /dev/shm); checkpoints are cheap with fsync off.
    "max_wal_size": "256MB",
    "max_connections": "200",
}

_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresNotFoundError(RuntimeError):
    """The PostgreSQL server binaries (``initdb``, ``pg_ctl``, ``postgres``) are not installed."""


class PostgresStartError(RuntimeError):
    """The server did not start; the message carries the tail of its log."""


def find_bindir(candidates: list[Path] | None = None) -> Path:
    """Return the directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Tries ``pg_config --bindir`` first (on Debian it may come from ``libpq-dev`` alone and point at
    a directory without a server, so the result is checked), then the newest
    ``/usr/lib/postgresql/<version>/bin``. ``candidates`` replaces that search (for tests).
    """
    if candidates is None:
        candidates = [*_pg_config_bindir(), *_debian_bindirs()]
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    tried = f": tried {', '.join(str(c) for c in candidates)}" if candidates else ""
    raise PostgresNotFoundError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found via `pg_config --bindir` "
        f"or /usr/lib/postgresql/*/bin{tried}. {INSTALL_HINT}"
    )


def _pg_config_bindir() -> list[Path]:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return []
    result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    return [Path(result.stdout.strip())] if result.returncode == 0 and result.stdout.strip() else []


def _debian_bindirs() -> list[Path]:
    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))

    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name[:1].isdigit()]
    return sorted(found, key=version, reverse=True)


def free_loopback_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server for tests, with per-test databases.

    Use ``PostgresServer.start()`` for a throwaway server (stopped and deleted by ``stop()``) or
    ``PostgresServer.connect(url)`` for an existing one (``stop()`` then only disconnects and leaves
    the server alone). Both work as context managers.

    Attributes
    ----------
    url:
        SQLAlchemy URL (``postgresql+psycopg://...``) of the server's default test database.
    data_dir:
        The data directory of a started server; ``None`` for a connected one.
    """

    def __init__(
        self,
        url: str,
        *,
        base_dir: Path | None = None,
        run_as: list[str] | None = None,
        bindir: Path | None = None,
    ) -> None:
        """Wrap the server at ``url``; use the ``start`` and ``connect`` constructors instead."""
        self._url: URL = make_url(url).set(drivername="postgresql+psycopg")
        self.url = self._url.render_as_string(hide_password=False)
        self._base_dir = base_dir
        self._run_as = run_as or []
        self._bindir = bindir
        self.data_dir = base_dir / "data" if base_dir is not None else None
        self._admin: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()
        self._stopped = False

    # --- constructors -----------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        *,
        database: str = "zenml_widgets_test",
        timeout: float = 30.0,
        settings: dict[str, str] | None = None,
        bindir: Path | None = None,
        parent_dir: Path | None = None,
    ) -> Self:
        """Initialise and start a throwaway server on 127.0.0.1 and create ``database`` in it.

        The server's files go in a new directory under ``parent_dir``; by default ``/dev/shm`` if it
        has at least 1 GiB free, else the system temporary directory. ``settings`` adds to or
        overrides ``DEFAULT_SETTINGS`` (values in ``postgresql.conf`` syntax).

        Raises
        ------
        PostgresNotFoundError
            The server binaries are missing.
        PostgresStartError
            ``initdb`` failed, or the server did not accept connections within ``timeout`` seconds.
        """
        bindir = bindir or find_bindir()
        run_as = _run_as_prefix()
        parent_dir = parent_dir or default_parent_dir()
        base_dir = Path(tempfile.mkdtemp(prefix="zenml-widgets-pg-", dir=parent_dir))
        server = None
        try:
            if run_as:
                _hand_over(base_dir)
            data_dir = base_dir / "data"
            _initdb(run_as, bindir, data_dir, cwd=base_dir, timeout=timeout)
            _write_hba(data_dir)
            for attempt in range(3):
                port = free_loopback_port()
                _write_settings(data_dir, port, base_dir, {**DEFAULT_SETTINGS, **(settings or {})})
                log_file = base_dir / f"server-{attempt}.log"
                error = _pg_ctl_start(run_as, bindir, data_dir, log_file, base_dir, timeout)
                if error is None:
                    break
                if "could not bind" not in error:  # anything but a lost race for the port
                    raise PostgresStartError(error)
            else:
                raise PostgresStartError(error)
            server = cls(
                f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
                base_dir=base_dir,
                run_as=run_as,
                bindir=bindir,
            )
            atexit.register(server.stop)
            server.url = server.create_database(database)
            return server
        except BaseException:
            if server is not None:
                server.stop()
            else:
                _kill_and_remove(run_as, bindir, base_dir)
            raise

    @classmethod
    def connect(cls, url: str) -> Self:
        """Use the already running server at ``url`` instead of starting one.

        ``create_database`` connects to the database named in ``url`` to create the others, so the
        role in ``url`` needs the ``CREATEDB`` privilege.
        """
        server = cls(url)
        try:
            with server._lock:
                server._admin_connection().execute("select 1")
        except psycopg.Error as e:
            shown = server._url.render_as_string(hide_password=True)
            raise PostgresStartError(
                f"Cannot connect to the PostgreSQL server at {shown}: {e}"
            ) from e
        return server

    # --- databases --------------------------------------------------------------------------

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its SQLAlchemy URL.

        ``name`` must be a lowercase SQL identifier; the default is a unique ``t_<random>``.
        """
        name = name or f"t_{secrets.token_hex(6)}"
        stmt = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
            sql.Identifier(_check_name(name))
        )
        self._admin_execute(stmt)
        return self._url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name_or_url: str) -> None:
        """Drop a database made by ``create_database``, closing any connections still open to it."""
        name = make_url(name_or_url).database if "://" in name_or_url else name_or_url
        stmt = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(_check_name(name or ""))
        )
        self._admin_execute(stmt)

    def _admin_execute(self, stmt: sql.Composed) -> None:
        if self._stopped:
            raise RuntimeError(f"{self!r} is stopped; it cannot create or drop databases")
        with self._lock:
            self._admin_connection().execute(stmt)

    def _admin_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._admin is None or self._admin.closed:
            u = self._url
            params: dict[str, str | int | None] = {
                "host": u.host,
                "port": u.port,
                "user": u.username,
                "password": u.password,
                "dbname": u.database or "postgres",
                "connect_timeout": 10,
            }
            # Extra URL parameters (sslmode=..., host=/socket/dir) are libpq parameters too.
            params.update((k, v) for k, v in u.query.items() if isinstance(v, str))
            conninfo = make_conninfo("", **{k: v for k, v in params.items() if v is not None})
            self._admin = psycopg.connect(conninfo, autocommit=True)
        return self._admin

    # --- lifecycle --------------------------------------------------------------------------

    def stop(self) -> None:
        """Disconnect; for a started server also stop it (``-m immediate``) and delete its files."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if self._admin is not None:
            with contextlib.suppress(psycopg.Error):
                self._admin.close()
        if self._base_dir is not None:
            _kill_and_remove(self._run_as, self._bindir, self._base_dir)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        shown = make_url(self.url).render_as_string(hide_password=True)
        return f"PostgresServer({shown!r}, {state})"


# --- helpers for start/stop -------------------------------------------------------------------


def _check_name(name: str) -> str:
    if not _DB_NAME.fullmatch(name):
        raise ValueError(
            f"Database name {name!r} is not a lowercase SQL identifier "
            "(letters, digits, underscores; at most 63 characters)."
        )
    return name


def default_parent_dir(min_free: int = 1 << 30) -> Path | None:
    """Return ``/dev/shm`` if it is writable and has ``min_free`` bytes free, else ``None``."""
    shm = Path("/dev/shm")
    try:
        fs = os.statvfs(shm)
    except OSError:
        return None
    return shm if os.access(shm, os.W_OK) and fs.f_bavail * fs.f_frsize >= min_free else None


def _run_as_prefix() -> list[str]:
    """Return the command prefix that runs the server tools as a non-root user, if needed."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        raise PostgresNotFoundError(
            f"Running as root, but there is no {SERVER_OS_USER!r} OS user to run PostgreSQL as "
            f"(PostgreSQL refuses to run as root). {INSTALL_HINT}"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresNotFoundError("Running as root, but `runuser` (util-linux) is not installed.")
    return [runuser, "-u", SERVER_OS_USER, "--"]


def _hand_over(base_dir: Path) -> None:
    """Give ``base_dir`` to the server user and check that user can reach it."""
    user = pwd.getpwnam(SERVER_OS_USER)
    os.chown(base_dir, user.pw_uid, user.pw_gid)
    for parent in base_dir.parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise PostgresStartError(
                f"The {SERVER_OS_USER!r} user cannot enter {parent} (no o+x), so it cannot use "
                f"{base_dir}. Point TMPDIR at a directory everyone can traverse, such as /tmp."
            )


def _initdb(run_as: list[str], bindir: Path, data_dir: Path, *, cwd: Path, timeout: float) -> None:
    cmd = [
        *run_as,
        str(bindir / "initdb"),
        f"--pgdata={data_dir}",
        "--username=postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]
    try:
        result = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise PostgresStartError(
            f"initdb did not finish within {timeout:g}s: {' '.join(cmd)}"
        ) from e
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise PostgresStartError(
            f"initdb failed (exit {result.returncode}): {' '.join(cmd)}\n{output}"
        )


def _write_hba(data_dir: Path) -> None:
    # Opening the existing file keeps it owned by the server user.
    with (data_dir / "pg_hba.conf").open("w") as f:
        f.write(
            "# Throwaway test server: trust local connections only.\n"
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
        )


def _write_settings(data_dir: Path, port: int, socket_dir: Path, settings: dict[str, str]) -> None:
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": _quote(str(socket_dir)),
        **settings,
    }
    # postgresql.auto.conf is read last, so these win over postgresql.conf; rewritten per attempt.
    with (data_dir / "postgresql.auto.conf").open("w") as f:
        f.write("# Written by tests/infra/postgres.py\n")
        f.writelines(f"{key} = {value}\n" for key, value in conf.items())


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pg_ctl_start(
    run_as: list[str], bindir: Path, data_dir: Path, log_file: Path, cwd: Path, timeout: float
) -> str | None:
    """Start the server and wait until it accepts connections; return an error text on failure."""
    cmd = [
        *run_as,
        str(bindir / "pg_ctl"),
        "start",
        f"--pgdata={data_dir}",
        f"--log={log_file}",
        "--wait",
        f"--timeout={max(1, round(timeout))}",
        "--silent",
    ]
    try:
        result = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout + 10, check=False
        )
        if result.returncode == 0:
            return None
        summary = " ".join(result.stderr.split()) or f"pg_ctl exited with {result.returncode}"
    except subprocess.TimeoutExpired:
        summary = f"pg_ctl start did not return within {timeout + 10:g}s"
    _pg_ctl_stop(run_as, bindir, data_dir, cwd)  # do not leave a half-started server behind
    return (
        f"PostgreSQL did not start (waited up to {timeout:g}s): {summary}\n"
        f"Last lines of the server log {log_file.name}:\n{_tail(log_file)}"
    )


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"  (no log: {e})"
    return "\n".join("  " + line for line in text.splitlines()[-lines:]) or "  (log is empty)"


def _pg_ctl_stop(run_as: list[str], bindir: Path | None, data_dir: Path, cwd: Path) -> None:
    if bindir is None or not (data_dir / "postmaster.pid").exists():
        return
    cmd = [*run_as, str(bindir / "pg_ctl"), "stop", f"--pgdata={data_dir}", "--mode=immediate"]
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=30, check=False)


def _kill_and_remove(run_as: list[str], bindir: Path | None, base_dir: Path) -> None:
    _pg_ctl_stop(run_as, bindir, base_dir / "data", base_dir)
    shutil.rmtree(base_dir, ignore_errors=True)
