"""The explorer's preview of its selection: the selected view's rich display, as HTML.

Three displays are the explorer's own, when the user has not registered others
(``rendering.register``): the repository's shows the pipelines the explorer listed, with their
run counts; a pipeline's reuses the run count the selection already has and lists the runs that
the run filter lets through (the listed page when it is the newest); an output's shows its
metadata only, because the data panel below it shows the data. None asks the store again for
what the explorer has just read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml_widgets import rendering
from zenml_widgets.display.views import artifact_bundle, pipeline_bundle, repository_bundle
from zenml_widgets.visualizers.html import esc

if TYPE_CHECKING:
    from zenml_widgets.widgets.state import ExplorerState


def selection_html(state: ExplorerState) -> str:
    """The rich display of ``state``'s selection (the repository's when nothing is selected)."""
    current = state.current
    pipeline, output = state.pipeline, state.output
    own_pipeline = rendering.get("pipeline") is pipeline_bundle  # not replaced by the user
    own_artifact = rendering.get("artifact") is artifact_bundle
    own_repository = rendering.get("repository") is repository_bundle
    count = state.run_count if own_pipeline and current is pipeline else None
    bundle: dict[str, Any]
    if current is None and own_repository:
        bundle = repository_bundle(state.repository, state.pipelines)
    elif pipeline is not None and count is not None:
        name_filter = state.name_filter.strip()
        newest = state.runs if state.newest_listed is not None and not name_filter else None
        bundle = pipeline_bundle(
            pipeline, run_count=count, newest=newest, name_contains=name_filter
        )
    elif output is not None and current is output and own_artifact:
        bundle = artifact_bundle(output, content=False)
    else:
        target = current if current is not None else state.repository
        bundle = target._repr_mimebundle_(include=["text/html"])
    html: str = bundle.get("text/html") or f"<pre>{esc(bundle['text/plain'])}</pre>"
    return html
