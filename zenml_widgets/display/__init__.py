"""How things look in a notebook: rich, escaped HTML plus text for every view.

Importing this package registers the renderers with ``zenml_widgets.rendering``.
"""

from __future__ import annotations

from zenml_widgets import rendering
from zenml_widgets.display.compare import output_comparison_bundle, run_comparison_bundle
from zenml_widgets.display.runs_table import runs_chart_bundle, runs_table_bundle
from zenml_widgets.display.views import (
    artifact_bundle,
    pipeline_bundle,
    repository_bundle,
    run_bundle,
    step_bundle,
)

rendering.register("repository", repository_bundle)
rendering.register("pipeline", pipeline_bundle)
rendering.register("run", run_bundle)
rendering.register("step", step_bundle)
rendering.register("artifact", artifact_bundle)
rendering.register("run_comparison", run_comparison_bundle)
rendering.register("output_comparison", output_comparison_bundle)
rendering.register("runs_table", runs_table_bundle)
rendering.register("runs_chart", runs_chart_bundle)

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
