"""A local folder as artifact store: atomic writes, and no URI may lead outside it."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from zenml_widgets.artifacts.keys import TMP_PREFIX, check_key, safe_segment
from zenml_widgets.exceptions import ArtifactStoreError

__all__ = ["LocalArtifactStore", "LocalFolder", "safe_segment"]


class LocalFolder(os.PathLike[str]):
    """An artifact folder on the local disk; also usable as a path (``folder / "x.bin"``)."""

    is_local = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"LocalFolder({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def uri(self) -> str:
        """The folder's absolute path."""
        return str(self.path)

    def _file(self, name: str) -> Path:
        return self.path.joinpath(*check_key(name, "File name"))

    def open(self, name: str, mode: str = "rb") -> IO[Any]:
        """Open file ``name`` of the folder (text modes use UTF-8)."""
        path = self._file(name)
        if "w" in mode or "a" in mode:
            path.parent.mkdir(parents=True, exist_ok=True)
        if "b" in mode:
            return path.open(mode)
        return path.open(mode, encoding="utf-8")

    def exists(self, name: str | None = None) -> bool:
        """Whether file ``name`` (or, with no name, the folder) exists."""
        return self.path.is_dir() if name is None else self._file(name).is_file()

    def listdir(self) -> list[str]:
        """Relative names of the files in the folder."""
        if not self.path.is_dir():
            return []
        files = (p for p in self.path.rglob("*") if p.is_file())
        return sorted(p.relative_to(self.path).as_posix() for p in files)

    def remove(self, name: str) -> None:
        """Delete file ``name`` of the folder, if it exists."""
        self._file(name).unlink(missing_ok=True)

    def size(self) -> int:
        """Total bytes of the folder's files."""
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    @contextmanager
    def local_dir(self, write: bool = False) -> Iterator[Path]:
        """The folder itself: it is local already."""
        yield self.path


class LocalArtifactStore:
    """Artifacts as folders below ``root``.

    Artifacts are addressed by *keys*: relative POSIX paths below the root, as recorded in the
    metadata store. ``path(key)`` refuses any key that would lead outside the root (absolute
    paths, ``..``, symlinks pointing elsewhere). ``write()`` hands out a temporary folder inside
    the store and moves it into place with one rename when the block succeeds, so a crash never
    leaves a half-written artifact under its final key.
    """

    is_local = True

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    @property
    def location(self) -> str:
        """The store's root, for messages."""
        return str(self.root)

    def path(self, key: str) -> Path:
        """The absolute folder of artifact ``key``; ``ArtifactStoreError`` if it escapes."""
        parts = check_key(key)
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
        return LocalFolder(self.path(key)).size()

    def folder(self, key: str) -> LocalFolder:
        """A handle on the folder of artifact ``key``."""
        return LocalFolder(self.path(key))

    def clean_temporary(self, older_than: timedelta) -> list[str]:
        """Remove temporary write folders whose newest file is older than ``older_than``."""
        tmp_root = self.root / TMP_PREFIX
        if not tmp_root.is_dir():
            return []
        cutoff = time.time() - older_than.total_seconds()
        removed = []
        for folder in sorted(tmp_root.iterdir()):
            stamps = [folder.stat().st_mtime]
            stamps += [p.stat().st_mtime for p in folder.rglob("*")]
            if max(stamps) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder))
        return removed

    def list_keys(self, depth: int) -> list[str]:
        """Keys of the folders ``depth`` levels below the root (temporary folders left out)."""
        if not self.root.is_dir():
            return []
        level = [(self.root, "")]
        for _ in range(depth):
            below = []
            for folder, key in level:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_dir(follow_symlinks=False) and entry.name != TMP_PREFIX:
                            below.append((Path(entry.path), f"{key}{entry.name}/"))
            level = below
        return sorted(key.rstrip("/") for _, key in level)

    def remove(self, key: str) -> None:
        """Delete artifact ``key`` if it exists: undoes a write that could not be recorded."""
        shutil.rmtree(self.path(key), ignore_errors=True)

    @contextmanager
    def write(self, key: str) -> Iterator[LocalFolder]:
        """Yield an empty temporary folder; on success it becomes artifact ``key``."""
        final = self.path(key)
        if final.exists():
            raise ArtifactStoreError(
                f"Artifact URI {key!r} exists already; artifacts are immutable."
            )
        tmp_root = self.root / TMP_PREFIX
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tmp_root / uuid.uuid4().hex
        tmp.mkdir()
        try:
            yield LocalFolder(tmp)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
