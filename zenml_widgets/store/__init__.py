"""The metadata store: the only part of zenml_widgets that speaks SQL."""

from __future__ import annotations

from zenml_widgets.store.metadata_store import MetadataStore
from zenml_widgets.store.records import (
    ArtifactRecord,
    InputRecord,
    NewArtifact,
    PipelineRecord,
    RunFilter,
    RunGraph,
    RunLineage,
    RunRecord,
    RunTableRecord,
    RunTableSchema,
    StepRecord,
    utcnow,
)
from zenml_widgets.store.values import metric_values

__all__ = [
    "ArtifactRecord",
    "InputRecord",
    "MetadataStore",
    "NewArtifact",
    "PipelineRecord",
    "RunFilter",
    "RunGraph",
    "RunLineage",
    "RunRecord",
    "RunTableRecord",
    "RunTableSchema",
    "StepRecord",
    "metric_values",
    "utcnow",
]
