"""``HistoryExplorer``: browse pipeline -> run -> step -> output in a notebook.

The explorer's traits (``pipeline_name``, ``run_name``, ``step_name``, ``output_name``) are the
truth; the dropdowns mirror them. Changing a trait (from code, from ``select``, or by choosing
in a dropdown) cascades down: lower levels are cleared and their choices reloaded -- that part
lives in ``ExplorerSelection`` (``selection.py``). This module shows the selection (preview,
data, DAG, comparison, code line) and holds the actions (refresh, load into a variable, read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traitlets import Any as AnyTrait
from traitlets import Bool, Int, Unicode

from zenml_widgets import rendering
from zenml_widgets.display.html import esc
from zenml_widgets.display.views import pipeline_bundle
from zenml_widgets.repository import Repository
from zenml_widgets.widgets import controls
from zenml_widgets.widgets.code import accessor_code, is_variable_name, suggest_variable_name
from zenml_widgets.widgets.data_panel import DataPanel
from zenml_widgets.widgets.object_preview import describe
from zenml_widgets.widgets.run_panels import ComparePanel, DagPanel, NewerRuns
from zenml_widgets.widgets.runs_table_panel import RunsTablePanel
from zenml_widgets.widgets.selection import LATEST, ExplorerSelection, reporting

__all__ = ["LATEST", "HistoryExplorer"]


class HistoryExplorer(ExplorerSelection):
    """Dropdowns cascading pipeline -> run -> step -> output, a preview, and the code line.

    Args:
        repository: a ``Repository`` or a path inside one; default: the current folder's.
        stack_key: the stack to browse; default: the active stack.
        page_size: how many runs the run dropdown lists at a time (newest first).
        **kwargs: passed to ``ipywidgets.VBox``.

    Example:
        >>> explorer = HistoryExplorer()  # doctest: +SKIP
        >>> explorer.select(pipeline="training", run="latest", step="trainer")  # doctest: +SKIP
        >>> explorer.code  # doctest: +SKIP
        'Repository().get_pipeline("training").get_run("nightly-12").get_step("trainer")'
    """

    read_on_select = Bool(True, help="Read the selected output to preview its data.")
    auto_read_limit = Int(
        200_000_000, help="Outputs bigger than this many bytes are read only on request."
    )
    code = Unicode("", read_only=True, help="The expression that fetches the current selection.")
    current = AnyTrait(
        None, read_only=True, help="The selected view (pipeline, run, step or artifact) or None."
    )
    error = Unicode("", read_only=True, help="The last error shown in the explorer, or ''.")

    def __init__(
        self,
        repository: Repository | str | Path | None = None,
        *,
        stack_key: str | None = None,
        page_size: int = 50,
        **kwargs: Any,
    ) -> None:
        self.repository = (
            repository if isinstance(repository, Repository) else Repository(repository)
        )
        self.loaded: dict[str, Any] = {}
        self._init_selection()
        self.ui = controls.Controls()
        self._data = DataPanel(self.ui)
        self.dag = DagPanel(self.on_dag_step)
        self.comparison = ComparePanel(self.on_compare_choice, self.on_compare_output)
        self.newer_runs = NewerRuns(self.jump_to_newest)
        self.runs_table = RunsTablePanel(self.on_table_run)
        children = self.ui.layout()
        children.insert(children.index(self.ui.run), self.newer_runs.box)
        children.insert(children.index(self.ui.run), self.runs_table.box)
        children.insert(children.index(self.ui.preview), self.dag.box)
        children.insert(children.index(self.ui.preview), self.comparison.box)
        super().__init__(children=children, **kwargs)
        self.add_class("zw-explorer")
        self.page_size = page_size
        self._assign("stack_key", stack_key or self.repository.active_stack_key)
        self.ui.wire(self)
        self._render()

    # -- programmatic use ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Ask the store again: new pipelines and runs appear, statuses update."""
        with self._batch():
            if self._pager is not None:
                self._pager.recount()
            self.newer_runs.remember(self._pipeline, self._run_count())
            self.dag.forget()
            self.runs_table.forget()
            self.ui.set_options(self.ui.pipeline, self._pipeline_options(), self.pipeline_name)
            if self._pager is not None:
                self._show_runs(self._pager.load())
            if self._run is not None and self._pipeline is not None:
                self._run = self._pipeline.get_run(self._run.name)
                self.ui.set_options(self.ui.step, controls.step_options(self._run), self.step_name)
            if self._step is not None and self._run is not None:
                self._step = self._run.get_step(self._step.name)
                outputs = controls.output_options(self._step)
                self.ui.set_options(self.ui.output, outputs, self.output_name)

    def check_for_newer_runs(self) -> int:
        """How many runs of the selected pipeline appeared since it was selected or refreshed;
        when there are some, a notice with a "Jump to newest" button shows."""
        return self.newer_runs.check(self._pipeline)

    def jump_to_newest(self) -> None:
        """Refresh and select the newest run of the selected pipeline."""
        if self._pipeline is None:
            return
        with self._batch():
            self.refresh()
            self.select(self._pipeline.name, LATEST)

    def compare_with(self, run: str | None) -> HistoryExplorer:
        """Compare the selected run with run ``run`` of the same pipeline (``None``: stop)."""
        self._assign("compare_run_name", run)
        return self

    def load_into(self, name: str | None = None) -> Any:
        """Bind the selection (an output's read object, else the view) to a variable.

        The variable is created in the notebook's namespace (``get_ipython().user_ns``) when
        there is one, and always kept in ``explorer.loaded[name]``.
        """
        if self.current is None:
            raise ValueError("Nothing is selected: choose a pipeline, run, step or output first.")
        name = (name if name is not None else self.ui.variable.value).strip()
        name = name or suggest_variable_name(self.current.name)
        if not is_variable_name(name):
            raise ValueError(f"{name!r} is not a valid Python variable name.")
        value = self._data.read() if self._output is not None else self.current
        self.loaded[name] = value
        where = "explorer.loaded"
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.user_ns[name] = value
            where = "the notebook"
        self.ui.message.value = (
            f"<span>Loaded <code>{esc(name)}</code> = {esc(describe(value))} into "
            f"{esc(where)}.</span>"
        )
        return value

    def show_error(self, error: BaseException) -> None:
        """Show a short error message in the explorer (and keep it in ``error``)."""
        text = f"{type(error).__name__}: {error}"
        self.set_trait("error", text)
        self.ui.status.value = ""
        self.ui.message.value = f"<div style='color:#b00;white-space:pre-wrap'>⚠ {esc(text)}</div>"

    # -- reactions to the panels and buttons (wired by Controls.wire and the panels) -----------

    @reporting
    def on_dag_step(self, name: str) -> None:
        """A step node of the DAG was clicked."""
        if self.step_name != name:
            self.step_name = name

    @reporting
    def on_table_run(self, name: str) -> None:
        """A run's row in the runs table was clicked: select that run."""
        if self.run_name != name:
            self.run_name = name

    @reporting
    def on_compare_choice(self, name: str | None) -> None:
        """A run to compare with was chosen."""
        if self.compare_run_name != name:
            self.compare_run_name = name

    @reporting
    def on_compare_output(self) -> None:
        """ "Compare output" was clicked: the output in both runs, side by side."""
        if self._run is not None and self._compare_run is not None and self._output is not None:
            self.comparison.show_output(self._run, self._compare_run, self._output)

    @reporting
    def on_refresh(self) -> None:
        """The refresh button was clicked."""
        self.refresh()

    @reporting
    def on_load(self) -> None:
        """The "load into variable" button was clicked."""
        self.load_into()

    @reporting
    def on_read(self) -> None:
        """The "read & preview" button was clicked."""
        self._data.preview(force=True, read_on_select=True, limit=0)

    @reporting
    def on_statistics(self) -> None:
        """The "Statistics" button was clicked: Facets statistics of the selected output."""
        self._data.statistics(streaming_min_bytes=self.auto_read_limit)

    # -- showing the selection ------------------------------------------------------------------

    def _stack_argument(self) -> str | None:
        return None if self.stack_key == self.repository.active_stack_key else self.stack_key

    @reporting
    def _render(self) -> None:
        current = self._output or self._step or self._run or self._pipeline
        self.set_trait("current", current)
        self.set_trait("error", "")
        self.ui.message.value = ""
        code = accessor_code(
            repository_path=controls.repository_argument(self.repository),
            stack_key=self._stack_argument(),
            pipeline=self.pipeline_name,
            run=self.run_name,
            step=self.step_name,
            output=self.output_name,
        )
        self.set_trait("code", code)
        with self.ui.quietly():
            self.ui.code.value = code
        self.ui.preview.value = self._preview_html(current)
        self._data.clear(self._output)
        self.dag.show(self._run, self.step_name)
        self.runs_table.show(self._pipeline)
        self.comparison.show(self._run, self._compare_run, self._output)
        self.check_for_newer_runs()
        self._data.preview(
            force=False, read_on_select=self.read_on_select, limit=self.auto_read_limit
        )

    def _preview_html(self, current: Any) -> str:
        """The selection's rich display; a pipeline's reuses the run count of the selection."""
        pipeline, pager = self._pipeline, self._pager
        builtin = rendering.get("pipeline") is pipeline_bundle  # not replaced by the user
        if builtin and pipeline is not None and current is pipeline and pager is not None:
            bundle = pipeline_bundle(pipeline, run_count=pager.total)
        else:
            target = current if current is not None else self.repository
            bundle = target._repr_mimebundle_(include=["text/html"])
        html: str = bundle.get("text/html") or f"<pre>{esc(bundle['text/plain'])}</pre>"
        return html
