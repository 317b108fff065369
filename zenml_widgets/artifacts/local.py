"""A local folder as artifact store: atomic writes, and no URI may lead outside it."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zenml_widgets.exceptions import ArtifactStoreError

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_TMP = ".tmp"


def safe_segment(name: str, limit: int = 64) -> str:
    """A file-name-safe, readable form of ``name`` (never empty, never ``.``/``..``)."""
    cleaned = _UNSAFE.sub("_", name).strip("._")[:limit]
    return cleaned or "x"


class LocalArtifactStore:
    """Artifacts as folders below ``root``.

    Artifacts are addressed by *keys*: relative POSIX paths below the root, as recorded in the
    metadata store. ``path(key)`` refuses any key that would lead outside the root (absolute
    paths, ``..``, symlinks pointing elsewhere). ``write()`` hands out a temporary folder inside
    the store and moves it into place with one rename when the block succeeds, so a crash never
    leaves a half-written artifact under its final key.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The absolute folder of artifact ``key``; ``ArtifactStoreError`` if it escapes."""
        if not key or key.startswith(("/", "\\")) or "\x00" in key or ":" in key.split("/")[0]:
            raise ArtifactStoreError(f"Artifact URI {key!r} is not a key inside the store.")
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise ArtifactStoreError(
                f"Artifact URI {key!r} may not contain empty, '.' or '..' segments."
            )
        candidate = self.root.joinpath(*parts)
        resolved = candidate.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise ArtifactStoreError(
                f"Artifact URI {key!r} resolves to {str(resolved)!r}, outside the artifact store "
                f"{str(self.root)!r}."
            )
        return candidate

    def uri(self, key: str) -> str:
        """The absolute URI (a local path) of artifact ``key``."""
        return str(self.path(key))

    def exists(self, key: str) -> bool:
        """Whether artifact ``key`` is in the store."""
        return self.path(key).is_dir()

    def size(self, key: str) -> int:
        """Total bytes of the files of artifact ``key``."""
        total = 0
        for dirpath, _dirs, files in os.walk(self.path(key)):
            for f in files:
                total += Path(dirpath, f).stat().st_size
        return total

    @contextmanager
    def write(self, key: str) -> Iterator[Path]:
        """Yield an empty temporary folder; on success it becomes artifact ``key``."""
        final = self.path(key)
        if final.exists():
            raise ArtifactStoreError(
                f"Artifact URI {key!r} exists already; artifacts are immutable."
            )
        tmp_root = self.root / _TMP
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tmp_root / uuid.uuid4().hex
        tmp.mkdir()
        try:
            yield tmp
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
