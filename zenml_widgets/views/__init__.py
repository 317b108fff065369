"""Read-only accessor views: pipeline -> runs -> steps -> outputs."""

from __future__ import annotations

from zenml_widgets.views.artifact import ArtifactView
from zenml_widgets.views.pipeline import PipelineView
from zenml_widgets.views.run import PipelineRunView
from zenml_widgets.views.runs import RunSequence
from zenml_widgets.views.runs_table import RunQuery
from zenml_widgets.views.step import StepView

__all__ = [
    "ArtifactView",
    "PipelineRunView",
    "PipelineView",
    "RunQuery",
    "RunSequence",
    "StepView",
]
