"""Artifact stores: where materializers' files live (a local folder, or object storage)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zenml_widgets.artifacts.base import ArtifactFolder, ArtifactStore
from zenml_widgets.artifacts.keys import check_key, safe_segment
from zenml_widgets.artifacts.local import LocalArtifactStore, LocalFolder

__all__ = [
    "ArtifactFolder",
    "ArtifactStore",
    "LocalArtifactStore",
    "LocalFolder",
    "check_key",
    "is_remote_location",
    "open_artifact_store",
    "safe_segment",
]


def is_remote_location(location: str | Path) -> bool:
    """Whether ``location`` is a URL of object storage rather than a local folder."""
    text = str(location)
    scheme, sep, _rest = text.partition("://")
    return bool(sep) and scheme.lower() not in ("", "file", "local") and len(scheme) > 1


def open_artifact_store(
    location: str | Path, options: Mapping[str, Any] | None = None
) -> ArtifactStore:
    """A ``LocalArtifactStore`` for a folder, an ``FsspecArtifactStore`` for a URL."""
    if is_remote_location(location):
        from zenml_widgets.artifacts.remote import FsspecArtifactStore

        return FsspecArtifactStore(str(location), options)
    text = str(location)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return LocalArtifactStore(text)
