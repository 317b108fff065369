"""How things look in a notebook: rich, escaped HTML plus text for every view.

Each function turns a view into a mime bundle. ``zenml_widgets.rendering.BUILTIN_RENDERERS``
names them by kind (``"run"``, ``"step"``, ...); views are displayed through that table.
"""

from __future__ import annotations

from zenml_widgets.display.compare import output_comparison_bundle, run_comparison_bundle
from zenml_widgets.display.runs_table import runs_chart_bundle, runs_table_bundle
from zenml_widgets.display.views import (
    artifact_bundle,
    pipeline_bundle,
    repository_bundle,
    run_bundle,
    step_bundle,
)

__all__ = [
    "artifact_bundle",
    "output_comparison_bundle",
    "pipeline_bundle",
    "repository_bundle",
    "run_bundle",
    "run_comparison_bundle",
    "runs_chart_bundle",
    "runs_table_bundle",
    "step_bundle",
]
