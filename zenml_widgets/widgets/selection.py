"""The explorer's selection: traits pipeline -> run -> step -> output and their cascade.

``ExplorerSelection`` is the base of ``HistoryExplorer`` (like ipywidgets' ``_Selection`` is the
base of ``Dropdown``): it owns the traits that name the selection, refuses names that do not
exist (``@validate``), and reacts to a change by clearing the levels below and reloading their
choices (``@observe``). Runs are listed one page at a time (see ``RunPager``). What is *shown*
for a selection -- preview, data, DAG, comparison -- and the actions are ``HistoryExplorer``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Self, TypeVar

import ipywidgets as w
from traitlets import Int, TraitError, Unicode, observe, validate

from zenml_widgets.display.html import esc
from zenml_widgets.exceptions import NotFoundError, StoreError
from zenml_widgets.widgets import controls
from zenml_widgets.widgets.run_pager import RunPager

if TYPE_CHECKING:
    from zenml_widgets.repository import Repository
    from zenml_widgets.views import ArtifactView, PipelineRunView, PipelineView, StepView
    from zenml_widgets.widgets.run_panels import ComparePanel, NewerRuns

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="ExplorerSelection")
LATEST = "latest"


def reporting(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R | None]:
    """Show an exception from a UI callback in the explorer instead of the kernel log."""

    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return method(self, *args, **kwargs)
        except Exception as e:
            self.show_error(e)
            if isinstance(e, StoreError) and self._from_code:
                raise  # select() called from code: the caller gets the store's error too
            return None

    update_wrapper(wrapper, method)
    return wrapper


class ExplorerSelection(w.VBox):  # type: ignore[misc]
    """The selection traits, their validation and the cascade; ``HistoryExplorer`` shows it.

    A subclass creates the attributes below before wiring the controls, and implements
    ``_render`` (show the selection) and ``show_error``.
    """

    repository: Repository
    ui: controls.Controls
    _from_code = False  # inside select(): store errors are raised as well as shown
    newer_runs: NewerRuns
    comparison: ComparePanel

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

    def _init_selection(self) -> None:
        """The selection's own state: nothing selected, no page of runs."""
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

    def _render(self) -> None:
        """Show the current selection (once per outermost change; see ``_batch``)."""
        raise NotImplementedError

    def show_error(self, error: BaseException) -> None:
        """Show a short error message in place of raising into the kernel log."""
        raise NotImplementedError

    # -- programmatic use ------------------------------------------------------------------------

    def select(
        self,
        pipeline: str | None = None,
        run: str | None = None,
        step: str | None = None,
        output: str | None = None,
    ) -> Self:
        """Select a pipeline and optionally a run (``"latest"`` for the newest), step, output.

        Raises:
            NotFoundError: a name does not exist; the message lists what does.
        """
        with self._batch(), self._called_from_code():
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

    @contextmanager
    def _called_from_code(self) -> Iterator[None]:
        outer, self._from_code = self._from_code, True
        try:
            yield
        finally:
            self._from_code = outer

    def _assign(self, trait: str, value: str | None) -> None:
        try:
            setattr(self, trait, value)
        except TraitError as e:
            if isinstance(e.__cause__, KeyError):
                raise e.__cause__ from None
            raise

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
    @reporting
    def _on_stack_key_change(self, change: Any) -> None:
        with self._batch():
            self.ui.set_options(self.ui.stack, controls.stack_options(self.repository), change.new)
            self.ui.stack.layout.display = "" if len(self.repository.stacks) > 1 else "none"
            self.pipeline_name = None
            self.ui.set_options(self.ui.pipeline, self._pipeline_options(), None)

    @observe("pipeline_name")
    @reporting
    def _on_pipeline_name_change(self, change: Any) -> None:
        with self._batch():
            self._pipeline = self._resolved if change.new is not None else None
            self.run_name = None
            self.compare_run_name = None
            self._pager = RunPager(self._pipeline, self.page_size) if self._pipeline else None
            self.newer_runs.remember(self._pipeline, self._run_count())
            self.ui.set_value(self.ui.pipeline, change.new)
            with self._quietly():
                self.name_filter = ""
            self._show_runs(self._pager.first("") if self._pager else [])

    @observe("run_name")
    @reporting
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
    @reporting
    def _on_step_name_change(self, change: Any) -> None:
        with self._batch():
            self._step = self._resolved if change.new is not None else None
            self.output_name = None
            self.ui.set_value(self.ui.step, change.new)
            outputs = controls.output_options(self._step) if self._step else []
            self.ui.set_options(self.ui.output, outputs, None)

    @observe("output_name")
    @reporting
    def _on_output_name_change(self, change: Any) -> None:
        with self._batch():
            self._output = self._resolved if change.new is not None else None
            self.ui.set_value(self.ui.output, change.new)

    @observe("compare_run_name")
    @reporting
    def _on_compare_run_name_change(self, change: Any) -> None:
        with self._batch():
            self._compare_run = self._resolved if change.new is not None else None
            if self._pager is not None:
                self.comparison.set_runs(self._pager.page, change.new)

    @observe("name_filter")
    @reporting
    def _on_name_filter_change(self, change: Any) -> None:
        if self._quiet:
            return
        with self.ui.quietly():
            self.ui.filter.value = change.new
        if self._pager is not None:
            self._show_runs(self._pager.first(change.new.strip()))

    @observe("page_size")
    @reporting
    def _on_page_size_change(self, change: Any) -> None:
        if self._pager is not None:
            self._pager.page_size = max(1, change.new)
            self._show_runs(self._pager.load())

    # -- reactions to the controls (wired by Controls.wire) ------------------------------------

    @reporting
    def on_choice(self, trait: str, value: Any) -> None:
        """A dropdown's value changed in the page."""
        if not self.ui.quiet and getattr(self, trait) != value:
            setattr(self, trait, value)

    @reporting
    def on_filter(self, value: str) -> None:
        """The run filter box changed."""
        if not self.ui.quiet:
            self.name_filter = value

    @reporting
    def on_page(self, direction: str) -> None:
        """The "older" or "newer" button was clicked."""
        if self._pager is not None:
            self._show_runs(self._pager.older() if direction == "older" else self._pager.newer())

    # -- helpers --------------------------------------------------------------------------------

    def _run_count(self) -> int | None:
        """The selected pipeline's run count, counted once per selection (or refresh)."""
        return self._pager.total if self._pager is not None else None

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
