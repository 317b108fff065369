"""Artifact stores: where materializers' files live."""

from __future__ import annotations

from zenml_widgets.artifacts.local import LocalArtifactStore, safe_segment

__all__ = ["LocalArtifactStore", "safe_segment"]
