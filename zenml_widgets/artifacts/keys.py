"""Artifact keys: relative POSIX paths below an artifact store's root, checked before any use."""

from __future__ import annotations

import re

from zenml_widgets.exceptions import ArtifactStoreError

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
TMP_PREFIX = ".tmp"


def safe_segment(name: str, limit: int = 64) -> str:
    """A file-name-safe, readable form of ``name`` (never empty, never ``.``/``..``)."""
    cleaned = _UNSAFE.sub("_", name).strip("._")[:limit]
    return cleaned or "x"


def check_key(key: str, what: str = "Artifact URI") -> list[str]:
    """The segments of ``key``; ``ArtifactStoreError`` for anything that could leave the root.

    Refused: empty keys, absolute paths, backslashes, NUL, a drive or URL scheme in the first
    segment, and empty, ``.`` or ``..`` segments. The same rules hold for every artifact store,
    and for the file names materializers use inside an artifact folder.
    """
    if (
        not isinstance(key, str)
        or not key
        or key.startswith(("/", "\\"))
        or "\x00" in key
        or "\\" in key
        or ":" in key.split("/")[0]
    ):
        raise ArtifactStoreError(f"{what} {key!r} is not a key inside the store.")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ArtifactStoreError(f"{what} {key!r} may not contain empty, '.' or '..' segments.")
    return parts
