"""The pipeline runner: ``@step``, ``Output``, ``@pipeline`` and the local orchestrator."""

from __future__ import annotations

from zenml_widgets.runner.output import Output
from zenml_widgets.runner.pipelines import BasePipeline, pipeline
from zenml_widgets.runner.steps import BaseStep, step

__all__ = ["BasePipeline", "BaseStep", "Output", "pipeline", "step"]
