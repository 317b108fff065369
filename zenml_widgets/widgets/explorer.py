"""``HistoryExplorer``: browse pipeline -> run -> step -> output in a notebook.

The explorer's traits (``pipeline_name``, ``run_name``, ``step_name``, ``output_name``) are the
truth; the dropdowns mirror them. Changing a trait (from code, from ``select``, or by choosing
in a dropdown) cascades down: lower levels are cleared and their choices reloaded. Runs are
shown one page at a time (see ``RunPager``), so a pipeline with 100k runs costs one small query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import update_wrapper
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import ipywidgets as w
from traitlets import Any as AnyTrait
from traitlets import Bool, Int, TraitError, Unicode, observe, validate

from zenml_widgets.display.html import esc
from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository
from zenml_widgets.widgets import controls
from zenml_widgets.widgets.code import accessor_code, is_variable_name, suggest_variable_name
from zenml_widgets.widgets.data_panel import DataPanel
from zenml_widgets.widgets.object_preview import describe
from zenml_widgets.widgets.run_pager import RunPager
from zenml_widgets.widgets.run_panels import ComparePanel, DagPanel, NewerRuns

if TYPE_CHECKING:
    from zenml_widgets.views import ArtifactView, PipelineRunView, PipelineView, StepView

P = ParamSpec("P")
R = TypeVar("R")
LATEST = "latest"


def _reporting(
    method: Callable[Concatenate[HistoryExplorer, P], R],
) -> Callable[Concatenate[HistoryExplorer, P], R | None]:
    """Show an exception from a UI callback in the explorer instead of the kernel log."""

    def wrapper(self: HistoryExplorer, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return method(self, *args, **kwargs)
        except Exception as e:
            self.show_error(e)
            return None

    update_wrapper(wrapper, method)
    return wrapper


class HistoryExplorer(w.VBox):  # type: ignore[misc]
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

    stack_key = Unicode(help="The stack being browsed.")
    pipeline_name = Unicode(None, allow_none=True, help="The selected pipeline's name.")
    run_name = Unicode(None, allow_none=True, help="The selected run's name.")
    step_name = Unicode(None, allow_none=True, help="The selected step's name.")
    output_name = Unicode(None, allow_none=True, help="The selected output's name.")
    compare_run_name = Unicode(
        None, allow_none=True, help="A run of the same pipeline to compare the selected run with."
    )
    name_filter = Unicode("", help="List only runs whose name contains this text.")
    page_size = Int(50, help="How many runs the run dropdown lists at a time.")
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
        self._pager: RunPager | None = None
        self._pipeline: PipelineView | None = None
        self._run: PipelineRunView | None = None
        self._step: StepView | None = None
        self._output: ArtifactView | None = None
        self._compare_run: PipelineRunView | None = None
        self._resolved: Any = None
        self._quiet = 0
        self._batch_depth = 0
        self._dirty = False
        self.ui = controls.Controls()
        self._data = DataPanel(self.ui)
        self.dag = DagPanel(self.on_dag_step)
        self.comparison = ComparePanel(self.on_compare_choice, self.on_compare_output)
        self.newer_runs = NewerRuns(self.jump_to_newest)
        children = self.ui.layout()
        children.insert(children.index(self.ui.run), self.newer_runs.box)
        children.insert(children.index(self.ui.preview), self.dag.box)
        children.insert(children.index(self.ui.preview), self.comparison.box)
        super().__init__(children=children, **kwargs)
        self.add_class("zw-explorer")
        self.page_size = page_size
        self._assign("stack_key", stack_key or self.repository.active_stack_key)
        self.ui.wire(self)
        self._render()

    # -- programmatic use ------------------------------------------------------------------------

    def select(
        self,
        pipeline: str | None = None,
        run: str | None = None,
        step: str | None = None,
        output: str | None = None,
    ) -> HistoryExplorer:
        """Select a pipeline and optionally a run (``"latest"`` for the newest), step, output.

        Raises:
            NotFoundError: a name does not exist; the message lists what does.
        """
        with self._batch():
            self._assign("pipeline_name", pipeline)
            if run == LATEST and self._pipeline is not None:
                newest = self._pipeline.runs.newest(1)
                if not newest:
                    raise NotFoundError(f"Pipeline {self._pipeline.name!r} has no runs yet.")
                run = newest[0].name
            self._assign("run_name", run)
            self._assign("step_name", step)
            self._assign("output_name", output)
        return self

    def _assign(self, trait: str, value: str | None) -> None:
        try:
            setattr(self, trait, value)
        except TraitError as e:
            if isinstance(e.__cause__, KeyError):
                raise e.__cause__ from None
            raise

    def refresh(self) -> None:
        """Ask the store again: new pipelines and runs appear, statuses update."""
        with self._batch():
            self.newer_runs.remember(self._pipeline)
            self.dag.forget()
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

    # -- validation: names must exist -----------------------------------------------------------

    @validate("stack_key")
    def _validate_stack_key(self, proposal: Any) -> str | None:
        key = proposal.value
        return self._resolve(lambda: self.repository.get_stack(key), key)

    @validate("pipeline_name")
    def _validate_pipeline_name(self, proposal: Any) -> str | None:
        name = proposal.value
        return self._resolve(lambda: self.repository.get_pipeline(name, self.stack_key), name)

    @validate("run_name")
    def _validate_run_name(self, proposal: Any) -> str | None:
        name, pipeline = proposal.value, self._pipeline
        if pipeline is None:
            raise TraitError("Select a pipeline before a run.")
        return self._resolve(lambda: pipeline.get_run(name), name)

    @validate("step_name")
    def _validate_step_name(self, proposal: Any) -> str | None:
        name, run = proposal.value, self._run
        if run is None:
            raise TraitError("Select a run before a step.")
        return self._resolve(lambda: run.get_step(name), name)

    @validate("output_name")
    def _validate_output_name(self, proposal: Any) -> str | None:
        name, step = proposal.value, self._step
        if step is None:
            raise TraitError("Select a step before an output.")
        return self._resolve(lambda: controls.get_output(step, name), name)

    @validate("compare_run_name")
    def _validate_compare_run_name(self, proposal: Any) -> str | None:
        name, pipeline = proposal.value, self._pipeline
        if pipeline is None:
            raise TraitError("Select a pipeline before a run to compare with.")
        return self._resolve(lambda: pipeline.get_run(name), name)

    def _resolve(self, find: Callable[[], object], name: str | None) -> str | None:
        """Look the name up now, so that a wrong one is refused (the observer uses the view)."""
        try:
            self._resolved = find()
        except KeyError as e:
            raise TraitError(str(e)) from e
        return name

    # -- reactions: the cascade -----------------------------------------------------------------

    @observe("stack_key")
    @_reporting
    def _on_stack_key_change(self, change: Any) -> None:
        with self._batch():
            self.ui.set_options(self.ui.stack, controls.stack_options(self.repository), change.new)
            self.ui.stack.layout.display = "" if len(self.repository.stacks) > 1 else "none"
            self.pipeline_name = None
            self.ui.set_options(self.ui.pipeline, self._pipeline_options(), None)

    @observe("pipeline_name")
    @_reporting
    def _on_pipeline_name_change(self, change: Any) -> None:
        with self._batch():
            self._pipeline = self._resolved if change.new is not None else None
            self.run_name = None
            self.compare_run_name = None
            self.newer_runs.remember(self._pipeline)
            self.ui.set_value(self.ui.pipeline, change.new)
            self._pager = RunPager(self._pipeline, self.page_size) if self._pipeline else None
            with self._quietly():
                self.name_filter = ""
            self._show_runs(self._pager.first("") if self._pager else [])

    @observe("run_name")
    @_reporting
    def _on_run_name_change(self, change: Any) -> None:
        with self._batch():
            self._run = self._resolved if change.new is not None else None
            self.step_name = None
            pager, run = self._pager, self._run
            if run is not None and pager is not None and all(r.id != run.id for r in pager.page):
                self._show_runs(pager.show(run))  # a run chosen by name, not on this page
                with self._quietly():
                    self.name_filter = pager.name_contains
            self.ui.set_value(self.ui.run, change.new)
            steps = controls.step_options(self._run) if self._run else []
            self.ui.set_options(self.ui.step, steps, None)

    @observe("step_name")
    @_reporting
    def _on_step_name_change(self, change: Any) -> None:
        with self._batch():
            self._step = self._resolved if change.new is not None else None
            self.output_name = None
            self.ui.set_value(self.ui.step, change.new)
            outputs = controls.output_options(self._step) if self._step else []
            self.ui.set_options(self.ui.output, outputs, None)

    @observe("output_name")
    @_reporting
    def _on_output_name_change(self, change: Any) -> None:
        with self._batch():
            self._output = self._resolved if change.new is not None else None
            self.ui.set_value(self.ui.output, change.new)

    @observe("compare_run_name")
    @_reporting
    def _on_compare_run_name_change(self, change: Any) -> None:
        with self._batch():
            self._compare_run = self._resolved if change.new is not None else None
            if self._pager is not None:
                self.comparison.set_runs(self._pager.page, change.new)

    @observe("name_filter")
    @_reporting
    def _on_name_filter_change(self, change: Any) -> None:
        if self._quiet:
            return
        with self.ui.quietly():
            self.ui.filter.value = change.new
        if self._pager is not None:
            self._show_runs(self._pager.first(change.new.strip()))

    @observe("page_size")
    @_reporting
    def _on_page_size_change(self, change: Any) -> None:
        if self._pager is not None:
            self._pager.page_size = max(1, change.new)
            self._show_runs(self._pager.load())

    # -- reactions to the controls (wired by Controls.wire) ------------------------------------

    @_reporting
    def on_choice(self, trait: str, value: Any) -> None:
        """A dropdown's value changed in the page."""
        if not self.ui.quiet and getattr(self, trait) != value:
            setattr(self, trait, value)

    @_reporting
    def on_dag_step(self, name: str) -> None:
        """A step node of the DAG was clicked."""
        if self.step_name != name:
            self.step_name = name

    @_reporting
    def on_compare_choice(self, name: str | None) -> None:
        """A run to compare with was chosen."""
        if self.compare_run_name != name:
            self.compare_run_name = name

    @_reporting
    def on_compare_output(self) -> None:
        """ "Compare output" was clicked: the output in both runs, side by side."""
        if self._run is not None and self._compare_run is not None and self._output is not None:
            self.comparison.show_output(self._run, self._compare_run, self._output)

    @_reporting
    def on_filter(self, value: str) -> None:
        """The run filter box changed."""
        if not self.ui.quiet:
            self.name_filter = value

    @_reporting
    def on_page(self, direction: str) -> None:
        """The "older" or "newer" button was clicked."""
        if self._pager is not None:
            self._show_runs(self._pager.older() if direction == "older" else self._pager.newer())

    @_reporting
    def on_refresh(self) -> None:
        """The refresh button was clicked."""
        self.refresh()

    @_reporting
    def on_load(self) -> None:
        """The "load into variable" button was clicked."""
        self.load_into()

    @_reporting
    def on_read(self) -> None:
        """The "read & preview" button was clicked."""
        self._data.preview(force=True, read_on_select=True, limit=0)

    @_reporting
    def on_statistics(self) -> None:
        """The "Statistics" button was clicked: Facets statistics of the selected output."""
        self._data.statistics()

    # -- helpers --------------------------------------------------------------------------------

    def _pipeline_options(self) -> list[tuple[str, str]]:
        return [(p.name, p.name) for p in self.repository.get_pipelines(self.stack_key)]

    def _show_runs(self, page: list[PipelineRunView]) -> None:
        self.ui.set_options(self.ui.run, controls.run_options(page), self.run_name)
        pager = self._pager
        self.ui.older.disabled = pager is None or not pager.has_older
        self.ui.newer.disabled = pager is None or not pager.has_newer
        self.ui.page_label.value = esc(pager.describe()) if pager else ""
        self.comparison.set_runs(pager.page if pager else [], self.compare_run_name)

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    @contextmanager
    def _batch(self) -> Iterator[None]:
        """Render the preview once, when the outermost change is done."""
        self._batch_depth += 1
        self._dirty = True
        try:
            with self.hold_sync():
                yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._dirty:
                self._dirty = False
                self._render()

    def _stack_argument(self) -> str | None:
        return None if self.stack_key == self.repository.active_stack_key else self.stack_key

    @_reporting
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
        target = current if current is not None else self.repository
        bundle = target._repr_mimebundle_(include=["text/html"])
        self.ui.preview.value = bundle.get("text/html") or f"<pre>{esc(bundle['text/plain'])}</pre>"
        self._data.clear(self._output)
        self.dag.show(self._run, self.step_name)
        self.comparison.show(self._run, self._compare_run, self._output)
        self.check_for_newer_runs()
        self._data.preview(
            force=False, read_on_select=self.read_on_select, limit=self.auto_read_limit
        )
