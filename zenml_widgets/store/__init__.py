"""The metadata store: the only part of zenml_widgets that speaks SQL."""

from __future__ import annotations

from zenml_widgets.store.metadata_store import MetadataStore
from zenml_widgets.store.records import (
    ArtifactRecord,
    AttemptRecord,
    InputRecord,
    NewArtifact,
    PipelineRecord,
    PlannedStep,
    RunFilter,
    RunFilterGroup,
    RunGraph,
    RunLineage,
    RunRecord,
    RunSort,
    RunTableRecord,
    RunTableSchema,
    StepRecord,
    Worker,
    utcnow,
)
from zenml_widgets.store.values import metric_values

__all__ = [
    "ArtifactRecord",
    "AttemptRecord",
    "InputRecord",
    "MetadataStore",
    "NewArtifact",
    "PipelineRecord",
    "PlannedStep",
    "RunFilter",
    "RunFilterGroup",
    "RunGraph",
    "RunLineage",
    "RunRecord",
    "RunSort",
    "RunTableRecord",
    "RunTableSchema",
    "StepRecord",
    "Worker",
    "metric_values",
    "utcnow",
]
