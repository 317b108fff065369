"""The explorer's run panels: the selected run's DAG, a comparison with another run, and a
notice when newer runs of the pipeline exist. Each is a ``Panel`` (``panel.py``).

The DAG is a :class:`~zenml_widgets.widgets.dag_widget.DagWidget`: the SVG of
``zenml_widgets.display.dag``, made clickable (a click, or Enter on a step reached with the
keyboard, selects that step in the explorer), zoomable and pannable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from zenml_widgets.display.dag import dag_svg
from zenml_widgets.display.html import block, esc
from zenml_widgets.views.compare import compare_runs
from zenml_widgets.views.lineage import StepExplanation, explain_run
from zenml_widgets.visualizers.html import TEXT
from zenml_widgets.widgets.dag_widget import DagWidget
from zenml_widgets.widgets.panel import close_all

if TYPE_CHECKING:
    from zenml_widgets.views import ArtifactView, PipelineRunView, PipelineView
    from zenml_widgets.widgets.state import ExplorerState

NO_RUN = "(choose a run to compare with)"
#: The statuses of a step that will not change any more.
DONE = ("completed", "cached", "failed", "skipped")


class DagPanel:
    """The selected run's DAG, in which a click selects a step.

    Args:
        on_pick: called with a step name when its node is clicked (or chosen with the keyboard).
    """

    def __init__(self, on_pick: Callable[[str], None]) -> None:
        self._on_pick = on_pick
        self.graph = DagWidget(layout=w.Layout(width="100%"))
        self.progress = w.HTML()  # while the run runs: "3 of 7 steps done"
        self.progress.add_class("zw-run-progress")
        self.box = w.VBox(
            [self.progress, self.graph], layout=w.Layout(display="none", width="100%")
        )
        self.box.add_class("zw-dag-panel")
        self.explanations: dict[str, StepExplanation] = {}
        self._run: PipelineRunView | None = None
        self._svgs: dict[str | None, str] = {}
        self._generation = 0
        self._drawing = False
        self.graph.observe(self._on_graph_selected_change, names="selected")

    @property
    def widget(self) -> w.VBox:
        """The panel's box."""
        return self.box

    def show(self, state: ExplorerState) -> None:
        """Draw the selected run with the selected step outlined (after a refresh, the run is
        asked again; otherwise nothing is, for the same run)."""
        if state.generation != self._generation:
            self._generation = state.generation
            self._run = None
        self._draw(state.run, state.step_name)

    def close(self) -> None:
        """Close the panel's widgets."""
        close_all(self.box)

    def _draw(self, run: PipelineRunView | None, selected: str | None) -> None:
        if run is None:
            self._run = None
            self.box.layout.display = "none"
            return
        if run != self._run or run.status == "running":
            self._run = run
            self._svgs = {}
            self.explanations = explain_run(run)
        self.progress.value = progress_html(run)
        if selected not in self._svgs:
            self._svgs[selected] = dag_svg(run, selected=selected, explanations=self.explanations)
        self._drawing = True
        try:
            with self.graph.hold_sync():
                self.graph.key = f"{run.id}"
                self.graph.title = f"DAG of run {run.name}"
                self.graph.svg = self._svgs[selected]
                self.graph.selected = selected
        finally:
            self._drawing = False
        self.box.layout.display = ""

    def _on_graph_selected_change(self, change: Any) -> None:
        if not self._drawing and change.new:
            self._on_pick(change.new)


def progress_html(run: PipelineRunView) -> str:
    """``running · 3 of 7 steps done · now: trainer`` for a running run, else ``''``."""
    if run.status != "running":
        return ""
    steps = run.steps
    done = sum(s.status in DONE for s in steps)
    now = [s.name for s in steps if s.status == "running"]
    text = f"running · {done} of {len(steps)} steps done"
    if now:
        text += f" · now: {', '.join(now)}"
    return f"<span style='color:{TEXT};font-weight:600'>⟳ {esc(text)}</span>"


class ComparePanel:
    """Compare the selected run with another run of the pipeline, and one output of both.

    The choice of run lists the explorer's page of runs. The explorer calls ``show`` and
    ``show_runs`` while it writes the screen, and drops ``on_choose`` calls meanwhile.

    Args:
        on_choose: called with a run name (or ``None``) when a run to compare with is chosen.
        on_output: called when "Compare output" is clicked (see ``show_output``).
    """

    def __init__(self, on_choose: Callable[[str | None], None], on_output: Callable[[], None]):
        self.against = w.Dropdown(
            description="compare",
            options=[(NO_RUN, "")],
            style={"description_width": "64px"},
            layout=w.Layout(width="min(100%, 760px)"),
        )
        self.summary = w.HTML()
        self.output_button = w.Button(
            description="Compare output", layout=w.Layout(width="auto", display="none")
        )
        self.output_view = w.HTML()
        self.box = w.VBox(
            [self.against, self.summary, self.output_button, self.output_view],
            layout=w.Layout(display="none"),
        )
        self.against.observe(lambda c: on_choose(c.new or None), names="value")
        self.output_button.on_click(lambda _: on_output())

    @property
    def widget(self) -> w.VBox:
        """The panel's box."""
        return self.box

    def show_runs(self, state: ExplorerState) -> None:
        """Offer the listed page of runs (newest first), but the selected run itself, as runs
        to compare with."""
        value = state.compare_run_name
        # "" rather than None: a Dropdown shows no label at all for the value None
        options: list[tuple[str, str]] = [(NO_RUN, "")]
        options += [
            (f"{r.name}  ·  {r.status}", r.name) for r in state.runs if r.name != state.run_name
        ]
        if value is not None and all(v != value for _, v in options):
            options.append((value, value))
        self.against.options = options
        self.against.value = value or ""

    def show(self, state: ExplorerState) -> None:
        """Offer the runs, summarise the run compared with (A) vs the selected run (B), and
        offer to compare the selected output."""
        self.show_runs(state)
        self._summarise(state.run, state.compare_run, state.output)

    def close(self) -> None:
        """Close the panel's widgets."""
        close_all(self.box)

    def _summarise(
        self,
        run: PipelineRunView | None,
        against: PipelineRunView | None,
        output: ArtifactView | None,
    ) -> None:
        self.box.layout.display = "" if run is not None else "none"
        self.output_view.value = ""
        if run is None or against is None:
            self.summary.value = ""
            self.output_button.layout.display = "none"
            return
        comparison = compare_runs(against, run)
        self.summary.value = comparison._repr_mimebundle_(include=["text/html"])["text/html"]
        offered = output is not None and any(
            d.name == output.step.name and output.name in d.output_types
            for d in comparison.steps
            if d.a is not None
        )
        self.output_button.layout.display = "" if offered else "none"
        if output is not None:
            self.output_button.description = f"Compare output {output.name!r} with {against.name}"

    def show_output(self, state: ExplorerState) -> None:
        """Read the selected output in both runs: column diff and Facets statistics side by
        side (nothing without a run, a run to compare with and an output)."""
        run, against, output = state.run, state.compare_run, state.output
        if run is None or against is None or output is None:
            return
        item = compare_runs(against, run).output(output.step.name, output.name)
        bundle = item._repr_mimebundle_(include=["text/html"])
        self.output_view.value = bundle.get("text/html") or block(
            "Comparison", f"<pre>{esc(bundle['text/plain'])}</pre>"
        )


class NewerRuns:
    """A notice that runs newer than the ones shown exist, with a button to jump to them.

    Checking costs one ``LIMIT 1`` query; the explorer does it when the user interacts.
    """

    def __init__(self, on_jump: Callable[[], None]) -> None:
        self.label = w.HTML()
        self.jump = w.Button(
            description="Jump to newest", button_style="warning", layout=w.Layout(width="auto")
        )
        self.jump.on_click(lambda _: on_jump())
        self.box = w.HBox([self.label, self.jump], layout=w.Layout(display="none"))
        self.box.add_class("zw-newer-runs")
        self._seen: tuple[int, int] | None = None  # (newest run id, run count)
        self._baseline: tuple[PipelineView | None, int] | None = None  # (pipeline, generation)

    @property
    def widget(self) -> w.HBox:
        """The notice's box."""
        return self.box

    def show(self, state: ExplorerState) -> None:
        """A newly selected (or refreshed) pipeline's runs are the baseline; then check."""
        baseline = (state.pipeline, state.generation)
        if baseline != self._baseline:
            self._baseline = baseline
            self.remember(state.pipeline, state.run_count, state.newest_listed)
            return  # just read: nothing newer yet
        self.check(state.pipeline)

    def close(self) -> None:
        """Close the notice's widgets."""
        close_all(self.box)

    def remember(
        self,
        pipeline: PipelineView | None,
        run_count: int | None = None,
        newest: PipelineRunView | None = None,
    ) -> None:
        """The runs of ``pipeline`` known now are the baseline; the notice is hidden.

        ``run_count`` and ``newest``: the pipeline's run count and newest run when the caller
        has just read them (else they are read here).
        """
        self.box.layout.display = "none"
        if pipeline is None:
            self._seen = None
            return
        if newest is None:
            found = pipeline.runs.newest(1)
            newest = found[0] if found else None
        count = run_count if run_count is not None else len(pipeline.runs)
        self._seen = (newest.id if newest is not None else 0, count)

    def check(self, pipeline: PipelineView | None) -> int:
        """How many runs appeared since ``remember``; shows the notice when there are some."""
        if pipeline is None or self._seen is None:
            return 0
        newest = pipeline.runs.newest(1)
        if not newest or newest[0].id <= self._seen[0]:
            return 0
        count = max(1, len(pipeline.runs) - self._seen[1])
        runs = "run" if count == 1 else "runs"
        self.label.value = (
            f"<span style='color:{TEXT};font-weight:600'>⟳ {count} newer {runs} of "
            f"<code>{esc(pipeline.name)}</code> since you opened it (newest: "
            f"<code>{esc(newest[0].name)}</code>)</span>"
        )
        self.box.layout.display = ""
        return count
