"""What every artifact store offers, and what a materializer gets to read and write files.

An artifact is a *folder* of files addressed by a key (see ``keys.py``). ``ArtifactStore`` is the
store-level protocol (the runner and the views use it); ``ArtifactFolder`` is the handle on one
artifact's folder that materializers receive as their ``artifact``: its ``uri`` plus ``open``,
``exists``, ``listdir`` and ``local_dir`` for libraries that insist on a real path.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable


@runtime_checkable
class ArtifactFolder(Protocol):
    """One artifact's folder, as handed to a materializer."""

    @property
    def uri(self) -> str:
        """Where the folder is: a local path, or a URL such as ``s3://bucket/prefix/key``."""
        ...

    @property
    def is_local(self) -> bool:
        """Whether ``uri`` is a folder on the local file system."""
        ...

    def open(self, name: str, mode: str = "rb") -> IO[Any]:
        """Open file ``name`` of the folder (text modes use UTF-8)."""
        ...

    def exists(self, name: str | None = None) -> bool:
        """Whether file ``name`` (or, with no name, the folder itself) exists."""
        ...

    def listdir(self) -> list[str]:
        """Names of the files in the folder (relative, sorted)."""
        ...

    def remove(self, name: str) -> None:
        """Delete file ``name`` of the folder, if it exists (step logs cut their middle)."""
        ...

    def size(self) -> int:
        """Total bytes of the folder's files."""
        ...

    def local_dir(self, write: bool = False) -> AbstractContextManager[Path]:
        """The folder as a local path: the folder itself when local, otherwise a temporary copy
        (``write=True``: an empty temporary folder uploaded when the block succeeds)."""
        ...


class ArtifactStore(Protocol):
    """Artifacts as folders below a root, addressed by keys that cannot leave it."""

    is_local: bool

    def uri(self, key: str) -> str:
        """The absolute URI of artifact ``key``."""
        ...

    def exists(self, key: str) -> bool:
        """Whether artifact ``key`` is in the store."""
        ...

    def size(self, key: str) -> int:
        """Total bytes of the files of artifact ``key``."""
        ...

    def folder(self, key: str) -> ArtifactFolder:
        """A handle to read the files of artifact ``key``."""
        ...

    def write(self, key: str) -> AbstractContextManager[ArtifactFolder]:
        """A temporary folder that becomes artifact ``key`` only when the block succeeds."""
        ...

    def remove(self, key: str) -> None:
        """Delete artifact ``key`` if it exists: undoes a write that could not be recorded."""
        ...

    def clean_temporary(self, older_than: timedelta) -> list[str]:
        """Remove temporary write folders untouched for ``older_than`` (left by killed
        writers); return their URIs. Younger ones may belong to a write still going on."""
        ...

    def list_keys(self, depth: int) -> list[str]:
        """Keys ``depth`` segments deep that hold files, temporary write folders left out
        (``zenml-widgets gc`` compares them with what the metadata store records)."""
        ...
