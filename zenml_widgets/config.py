"""Repository discovery and the human-readable ``.zen/config.json`` holding the stacks."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: writes stay atomic, but are not serialized between processes
    fcntl = None  # type: ignore[assignment]

from zenml_widgets import orchestration
from zenml_widgets.exceptions import (
    NotFoundError,
    RepositoryNotFoundError,
    ZenMLWidgetsError,
    did_you_mean,
    listing,
)
from zenml_widgets.exceptions import (
    hide_password as hide_password,  # re-exported: the CLI shows URLs with it
)
from zenml_widgets.orchestration.options import (
    BoolOption,
    ByteSizeOption,
    FloatOption,
    LevelOption,
    Option,
)

REPO_DIR = ".zen"
#: Seconds a metadata store statement may run (stack option ``statement_timeout``).
STATEMENT_TIMEOUT = 30.0
CONFIG_FILE = "config.json"
LOCK_FILE = "config.lock"
ENV_REPOSITORY = "ZENML_WIDGETS_REPOSITORY"
DEFAULT_STACK = "default"
DEFAULT_ORCHESTRATOR = "local"
CONFIG_VERSION = 1


@dataclass(frozen=True)
class StackConfig:
    """A stack as configured: a metadata store URL and an artifact store location.

    Relative SQLite paths and relative artifact folders are relative to the repository root,
    so a repository can be moved or copied as a whole. ``metadata_store_url`` may also be
    ``env:VARIABLE`` so that a database password never has to be written into ``.zen/``.
    ``artifact_store`` may be a URL of object storage (``s3://bucket/prefix``);
    ``artifact_store_options`` then holds non-secret file-system settings such as
    ``endpoint_url``. Credentials are refused here: they come from the environment
    (``AWS_ACCESS_KEY_ID``..., ``AWS_PROFILE``, ``~/.aws/``).

    ``orchestrator`` names a row of the orchestrator table (``zenml_widgets.orchestration``);
    its options are checked against that row by ``checked``, when the stack is registered and
    when a run uses it, not when a config is read: a stack whose orchestrator is gone or whose
    options are wrong does not keep the others from being used.
    """

    name: str
    metadata_store_url: str
    artifact_store: str
    artifact_store_options: dict[str, Any] = field(default_factory=dict)
    orchestrator: str = DEFAULT_ORCHESTRATOR
    orchestrator_options: dict[str, Any] = field(default_factory=dict)
    metadata_store_options: dict[str, Any] = field(default_factory=dict)
    log_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_artifact_store_options(self.artifact_store_options)
        object.__setattr__(
            self,
            "metadata_store_options",
            check_options(
                self.name, "metadata store", METADATA_STORE_OPTIONS, self.metadata_store_options
            ),
        )
        object.__setattr__(
            self, "log_options", check_options(self.name, "log", LOG_OPTIONS, self.log_options)
        )

    def checked(self) -> StackConfig:
        """This stack with its orchestrator and options checked against the orchestrator table,
        option values converted as the orchestrator's options say (``"4"`` -> ``4``).

        Errors name the stack: ``OrchestratorOptionError`` for a value the option does not take,
        ``ZenMLWidgetsError`` for an unknown orchestrator or option, or a credential;
        ``OrchestratorError`` for a third-party orchestrator that cannot be imported.
        """
        options = check_orchestrator(self.name, self.orchestrator, self.orchestrator_options)
        return replace(self, orchestrator_options=options)

    def to_json(self) -> dict[str, Any]:
        """The stack as written in the config file."""
        data: dict[str, Any] = {
            "metadata_store_url": self.metadata_store_url,
            "artifact_store": self.artifact_store,
        }
        if self.artifact_store_options:
            data["artifact_store_options"] = dict(sorted(self.artifact_store_options.items()))
        if self.orchestrator != DEFAULT_ORCHESTRATOR or self.orchestrator_options:
            data["orchestrator"] = self.orchestrator
        if self.orchestrator_options:
            data["orchestrator_options"] = dict(sorted(self.orchestrator_options.items()))
        if self.metadata_store_options:
            data["metadata_store_options"] = dict(sorted(self.metadata_store_options.items()))
        if self.log_options:
            data["log_options"] = dict(sorted(self.log_options.items()))
        return data


_SECRET_WORDS = ("secret", "password", "token", "credential", "passwd")
_SECRET_NAMES = {"key", "aws_access_key_id", "access_key", "account_key", "sas_token"}


def _looks_secret(name: object) -> bool:
    lowered = str(name).lower()
    return lowered in _SECRET_NAMES or any(w in lowered for w in _SECRET_WORDS)


#: The metadata store's options (all optional), checked when a stack is read or registered.
METADATA_STORE_OPTIONS: dict[str, Option] = {
    "statement_timeout": FloatOption(
        "seconds a statement may run before the database cancels it, so that a slow or "
        f"locked database never freezes a notebook (PostgreSQL; default {STATEMENT_TIMEOUT:g})",
        above=0,
    ),
}


#: The step logs' options (all optional): what a step attempt's captured output keeps.
LOG_OPTIONS: dict[str, Option] = {
    "capture": BoolOption(
        "keep each step attempt's output in the artifact store (default true; false: it goes "
        "to the console only, as without zenml_widgets)"
    ),
    "level": LevelOption(
        "the lowest level of the logging records a step's logs keep (default INFO)"
    ),
    "max_bytes": ByteSizeOption(
        "the most bytes one step attempt's logs keep: the head and the tail, with how much "
        "of the middle was cut (default 10MB)",
        minimum=4096,
    ),
}


def check_metadata_store_options(stack: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with their values converted; a clear error naming the stack otherwise."""
    return check_options(stack, "metadata store", METADATA_STORE_OPTIONS, options)


def check_options(
    stack: str, what: str, table: dict[str, Option], options: dict[str, Any]
) -> dict[str, Any]:
    """``options`` (of the ``what`` of stack ``stack``) checked against ``table``, their values
    converted; a clear error naming the stack and the option otherwise."""
    checked = {}
    for name, value in options.items():
        option = table.get(name)
        if option is None:
            raise ZenMLWidgetsError(
                f"Stack {stack!r}: unknown {what} option {name!r}; the options are: "
                f"{', '.join(table)}."
            )
        try:
            checked[name] = option.coerce(value)
        except ValueError as e:
            raise ZenMLWidgetsError(
                f"Stack {stack!r}: {what} option {name}={value!r} is not valid: it takes {e}."
            ) from None
    return checked


def check_artifact_store_options(options: dict[str, Any]) -> None:
    """Refuse option names that carry credentials: those never belong in ``.zen/``."""
    for name in options:
        if _looks_secret(name):
            raise ZenMLWidgetsError(
                f"Artifact store option {name!r} looks like a credential; credentials are never "
                "stored in .zen/. Set them in the environment (AWS_ACCESS_KEY_ID, "
                "AWS_SECRET_ACCESS_KEY, AWS_PROFILE) or in ~/.aws/ instead."
            )


def check_orchestrator(stack: str, orchestrator: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options of stack ``stack`` checked (see ``StackConfig.checked``): the orchestrator
    exists, no option looks like a credential, and each is one it takes with a value it takes."""
    entry = orchestration.get_orchestrator(orchestrator, stack)
    for name in options:
        if _looks_secret(name):
            raise ZenMLWidgetsError(
                f"Stack {stack!r}: orchestrator option {name!r} looks like a credential; "
                "credentials are never stored in .zen/. Give them to the cluster's own "
                "configuration (Dask's security settings or environment) instead."
            )
    return entry.check(stack, options)


def parse_option(text: str) -> tuple[str, Any]:
    """``name=value`` from the command line; the value is JSON when it parses, else a string."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ZenMLWidgetsError(f"Option {text!r} is not of the form name=value.")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def find_repository_root(path: str | Path | None = None) -> Path:
    """The folder holding ``.zen/``: from ``$ZENML_WIDGETS_REPOSITORY`` or walking up from path."""
    if path is None and os.environ.get(ENV_REPOSITORY):
        root = Path(os.environ[ENV_REPOSITORY]).expanduser().resolve()
        if not (root / REPO_DIR / CONFIG_FILE).is_file():
            raise RepositoryNotFoundError(
                f"${ENV_REPOSITORY} points at {str(root)!r}, which holds no {REPO_DIR}/"
                f"{CONFIG_FILE}. Create one there with: zenml-widgets init {root}"
            )
        return root
    start = Path(path if path is not None else Path.cwd()).expanduser().resolve()
    searched = []
    for folder in (start, *start.parents):
        searched.append(str(folder))
        if (folder / REPO_DIR / CONFIG_FILE).is_file():
            return folder
    shown = ", ".join(searched[:6]) + (", ..." if len(searched) > 6 else "")
    raise RepositoryNotFoundError(
        f"No zenml_widgets repository (a folder holding {REPO_DIR}/{CONFIG_FILE}) in {shown}. "
        f"Create one with: zenml-widgets init {start}  (or set ${ENV_REPOSITORY})."
    )


def default_stack() -> StackConfig:
    """The stack a new repository starts with: embedded SQLite + a local artifact folder."""
    return StackConfig(
        name=DEFAULT_STACK,
        metadata_store_url=f"sqlite:///{REPO_DIR}/metadata.db",
        artifact_store=f"{REPO_DIR}/artifacts",
    )


class RepositoryConfig:
    """The contents of ``.zen/config.json``: stacks by name and the active stack."""

    def __init__(self, root: Path, stacks: dict[str, StackConfig], active: str) -> None:
        self.root = root
        self.stacks = stacks
        self.active = active

    @property
    def path(self) -> Path:
        """Where this config lives."""
        return self.root / REPO_DIR / CONFIG_FILE

    @classmethod
    def load(cls, root: Path) -> RepositoryConfig:
        """Read the config of the repository at ``root``."""
        path = root / REPO_DIR / CONFIG_FILE
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            stacks = {
                name: StackConfig(
                    name,
                    s["metadata_store_url"],
                    s["artifact_store"],
                    dict(s.get("artifact_store_options") or {}),
                    str(s.get("orchestrator") or DEFAULT_ORCHESTRATOR),
                    dict(s.get("orchestrator_options") or {}),
                    dict(s.get("metadata_store_options") or {}),
                    dict(s.get("log_options") or {}),
                )
                for name, s in data["stacks"].items()
            }
            active = str(data["active_stack"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ZenMLWidgetsError(f"Cannot read the repository config {str(path)!r}: {e}") from e
        if active not in stacks:
            raise ZenMLWidgetsError(
                f"The repository config {str(path)!r} names active stack {active!r}, which is not "
                f"one of its stacks ({', '.join(sorted(stacks))})."
            )
        return cls(root, stacks, active)

    @classmethod
    def create(cls, root: str | Path) -> RepositoryConfig:
        """Create ``.zen/`` with the default stack at ``root`` (which must not have one)."""
        root = Path(root).expanduser().resolve()
        if (root / REPO_DIR / CONFIG_FILE).exists():
            raise ZenMLWidgetsError(f"{str(root)!r} already holds a repository.")
        (root / REPO_DIR).mkdir(parents=True, exist_ok=True)
        stack = default_stack()
        config = cls(root, {stack.name: stack}, stack.name)
        config.save()
        return config

    def save(self) -> None:
        """Write the config atomically (a unique temporary file, then a rename), under the
        repository's lock. Prefer ``update``, which also keeps other processes' changes."""
        with self._locked():
            self._write()

    def update(self, change: Callable[[RepositoryConfig], None]) -> None:
        """Apply ``change`` to the config as it is on disk now and save it, under a lock.

        Two processes changing the config at the same time (``stack register`` twice) both
        keep their change; a reader never sees a half-written file. ``self`` ends up as saved.
        """
        with self._locked():
            current = RepositoryConfig.load(self.root) if self.path.exists() else self
            change(current)
            current._write()
        self.stacks, self.active = current.stacks, current.active

    def _write(self) -> None:
        data = {
            "version": CONFIG_VERSION,
            "active_stack": self.active,
            "stacks": {name: s.to_json() for name, s in sorted(self.stacks.items())},
        }
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".json.tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps(data, indent=2) + "\n")
                f.flush()
                os.fsync(f.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.path.with_name(LOCK_FILE)
        with lock.open("a") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def stack(self, key: str) -> StackConfig:
        """The stack called ``key``; ``NotFoundError`` listing the stacks otherwise."""
        try:
            return self.stacks[key]
        except KeyError:
            raise NotFoundError(
                f"No stack {key!r} in repository {str(self.root)!r}. Its stacks are: "
                f"{listing(sorted(self.stacks))}.{did_you_mean(key, self.stacks)}"
            ) from None

    def resolve_metadata_url(self, stack: StackConfig) -> str:
        """The SQLAlchemy URL of ``stack``'s metadata store, relative paths made absolute."""
        url = stack.metadata_store_url
        if url.startswith("env:"):
            var = url[4:]
            value = os.environ.get(var)
            if not value:
                raise ZenMLWidgetsError(
                    f"Stack {stack.name!r} reads its metadata store URL from ${var}, "
                    "which is not set."
                )
            url = value
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix) :]
            if rest and rest != ":memory:" and not rest.startswith("file:"):
                url = prefix + str(self.root / rest)
        return url

    def resolve_artifact_root(self, stack: StackConfig) -> Path | str:
        """The absolute folder of ``stack``'s artifact store, or its URL if it is remote."""
        location = stack.artifact_store
        scheme, sep, _rest = location.partition("://")
        if sep and len(scheme) > 1 and scheme.lower() not in ("file", "local"):
            return location
        if sep:
            location = _rest
        path = Path(location).expanduser()
        return path if path.is_absolute() else self.root / path
