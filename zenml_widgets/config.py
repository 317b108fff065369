"""Repository discovery and the human-readable ``.zen/config.json`` holding the stacks."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zenml_widgets.exceptions import NotFoundError, RepositoryNotFoundError, ZenMLWidgetsError

REPO_DIR = ".zen"
CONFIG_FILE = "config.json"
ENV_REPOSITORY = "ZENML_WIDGETS_REPOSITORY"
DEFAULT_STACK = "default"
CONFIG_VERSION = 1


@dataclass(frozen=True)
class StackConfig:
    """A stack as configured: a metadata store URL and an artifact store location.

    Relative SQLite paths and relative artifact folders are relative to the repository root,
    so a repository can be moved or copied as a whole. ``metadata_store_url`` may also be
    ``env:VARIABLE`` so that a database password never has to be written into ``.zen/``.
    """

    name: str
    metadata_store_url: str
    artifact_store: str

    def to_json(self) -> dict[str, str]:
        """The stack as written in the config file."""
        return {
            "metadata_store_url": self.metadata_store_url,
            "artifact_store": self.artifact_store,
        }


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
                name: StackConfig(name, s["metadata_store_url"], s["artifact_store"])
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
        """Write the config atomically."""
        data = {
            "version": CONFIG_VERSION,
            "active_stack": self.active,
            "stacks": {name: s.to_json() for name, s in sorted(self.stacks.items())},
        }
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.path)

    def stack(self, key: str) -> StackConfig:
        """The stack called ``key``; ``NotFoundError`` listing the stacks otherwise."""
        try:
            return self.stacks[key]
        except KeyError:
            raise NotFoundError(
                f"No stack {key!r} in the repository at {str(self.root)!r}. "
                f"Its stacks are: {', '.join(sorted(self.stacks))}."
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

    def resolve_artifact_root(self, stack: StackConfig) -> Path:
        """The absolute folder of ``stack``'s artifact store."""
        path = Path(stack.artifact_store).expanduser()
        return path if path.is_absolute() else self.root / path
