"""``HistoryExplorer``: browse pipeline -> run -> step -> output in a notebook.

The explorer is the view of an ``ExplorerState`` (``state.py``, ``explorer.state``), which holds
the selection, refuses wrong names and cascades a change down. The explorer's name traits
(``pipeline_name``, ...) pass what is set on them to the state and mirror it back; its
dropdowns show the state, and a choice in one sets the state. When the state has settled
(``revision``, ``runs_revision``), the explorer writes the screen once: its controls, the
preview and code line, then each panel's ``show(state)`` (``panel.py``). While it writes,
the change events of its own widgets are dropped (``_writing``). See
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, ParamSpec, Self, TypeAlias

import ipywidgets as w
from traitlets import Any as AnyTrait
from traitlets import Bool, Int, TraitError, Unicode, observe, validate

from zenml_widgets.display.html import esc
from zenml_widgets.exceptions import NotFoundError, StoreError
from zenml_widgets.repository import Repository
from zenml_widgets.visualizers.html import error_html
from zenml_widgets.widgets.code import (
    accessor_code,
    is_variable_name,
    repository_argument,
    suggest_variable_name,
)
from zenml_widgets.widgets.controls import Controls, show_options
from zenml_widgets.widgets.curves_panel import CurvesPanel
from zenml_widgets.widgets.data_panel import DataPanel
from zenml_widgets.widgets.live import LiveRefresh
from zenml_widgets.widgets.logs_panel import LogsPanel
from zenml_widgets.widgets.object_preview import describe
from zenml_widgets.widgets.panel import Panel, close_all
from zenml_widgets.widgets.run_panels import ComparePanel, DagPanel, NewerRuns
from zenml_widgets.widgets.runs_table_panel import RunsTablePanel
from zenml_widgets.widgets.selection_preview import selection_html
from zenml_widgets.widgets.state import LATEST, LEVELS, NAMES, ExplorerState
from zenml_widgets.widgets.tags_panel import TagsPanel

__all__ = ["LATEST", "HistoryExplorer", "Part"]

P = ParamSpec("P")
Part: TypeAlias = "w.Widget | Panel"  # an entry of HistoryExplorer.parts()


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
        self._panels: list[Panel] = []
        self._preview_filter = ""  # the run filter when the preview was written
        self._writes = 0
        self._failure: Exception | None = None
        repo = repository if isinstance(repository, Repository) else Repository(repository)
        self.state = ExplorerState(repo, stack_key=stack_key, page_size=page_size)
        self.loaded: dict[str, Any] = {}
        self.ui = Controls()
        self._data = DataPanel(self.ui)
        self.newer_runs = NewerRuns(self._action(self.jump_to_newest))
        self.runs_table = RunsTablePanel(self._action(partial(self._choose, "run_name")))
        self.tags = TagsPanel(self._action, self._on_tags_change)
        self.dag = DagPanel(self._action(partial(self._choose, "step_name")))
        self.curves = CurvesPanel()
        self.logs = LogsPanel()
        self.live = LiveRefresh(self._live_tick)
        self.comparison = ComparePanel(
            self._action(partial(self._choose, "compare_run_name")),
            self._action(self._compare_output),
        )
        parts = self.parts()
        self._panels = [p for p in parts if isinstance(p, Panel)]
        children = [p.widget if isinstance(p, Panel) else p for p in parts]
        super().__init__(children=children, **kwargs)
        self.add_class("zw-explorer")
        self._wire()
        self._on_state_runs_revision_change(None)
        self._on_state_revision_change(None)

    def parts(self) -> list[Part]:
        """The explorer's children top to bottom, controls and panels: its whole layout.

        A panel listed here is shown each time the selection settles (``Panel.show``).
        """
        ui = self.ui
        return [
            ui.stack,
            ui.pipeline,
            ui.paging,
            self.newer_runs,
            ui.run,
            ui.step,
            ui.output,
            ui.code,
            ui.actions,
            ui.message,
            self.runs_table,  # below the dropdowns: an open table does not push them down
            self.tags,
            self.dag,
            self.logs,
            self.comparison,
            ui.preview,
            self.curves,  # the selected step's learning curves
            ui.data,
            ui.stats,
        ]

    @property
    def repository(self) -> Repository:
        """The repository being browsed."""
        return self.state.repository

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
            StoreError: the store failed (the error shows in the explorer as well).
        """
        self._failure = None
        try:
            self.state.select(pipeline, run, step, output)
        except (TraitError, NotFoundError):
            raise
        except StoreError as e:
            self.show_error(e)
            raise
        except Exception as e:
            self.show_error(e)
        if isinstance(self._failure, StoreError):
            raise self._failure
        return self

    def refresh(self) -> None:
        """Ask the store again: new pipelines and runs appear, statuses update."""
        self.state.refresh()

    def check_for_newer_runs(self) -> int:
        """How many runs of the selected pipeline appeared since it was selected or refreshed;
        when there are some, a notice with a "Jump to newest" button shows."""
        return self.newer_runs.check(self.state.pipeline)

    def jump_to_newest(self) -> None:
        """Refresh and select the newest run of the selected pipeline."""
        self.state.jump_to_newest()

    def compare_with(self, run: str | None) -> HistoryExplorer:
        """Compare the selected run with run ``run`` of the same pipeline (``None``: stop)."""
        self.state.compare_with(run)
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
        value = self._data.read() if self.state.output is not None else self.current
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
        if isinstance(error, StoreError) and error.unreachable:
            where = f" at {error.where}" if error.where else ""
            text = (
                f"The metadata store{where} is unreachable ({error}). The explorer tries again "
                "on your next click, or click ⟳ refresh."
            )
        self.set_trait("error", text)
        self.ui.status.value = ""
        self.ui.message.value = error_html(f"⚠ {text}")

    def close(self) -> None:
        """Close the explorer, its panels and its controls (a live refresh stops)."""
        self.live.stop()
        for panel in self._panels:
            panel.close()
        for child in self.children:
            close_all(child)
        super().close()

    # -- the name traits: the state decides, the explorer mirrors it ---------------------------

    @validate(*NAMES)
    def _validate_name(self, proposal: Any) -> Any:
        name = proposal.trait.name
        self._push(name, proposal.value)  # a name the state refuses raises TraitError here
        return getattr(self.state, name)

    @observe(*NAMES)
    def _on_name_change(self, change: Any) -> None:
        self._push(change.name, change.new)  # None is not validated: it reaches the state here

    def _push(self, name: str, value: Any) -> None:
        if getattr(self.state, name) == value:
            return
        try:
            setattr(self.state, name, value)
        except TraitError:
            raise
        except Exception as e:  # the cascade failed (a store error): shown, not raised
            self.show_error(e)

    def _mirror(self) -> None:
        for name in NAMES:
            value = getattr(self.state, name)
            if getattr(self, name) != value:
                self.set_trait(name, value)

    # -- the page: controls -> state ------------------------------------------------------------

    def _wire(self) -> None:
        """Connect the controls to the state, and the state to the screen (done last)."""
        ui, state, data, choose = self.ui, self.state, self._data, self._choose
        for name in LEVELS:
            chosen = self._action(lambda change, name=name: choose(name, change.new))
            ui.dropdowns[name].observe(chosen, names="value")
        ui.filter.observe(self._action(lambda c: choose("name_filter", c.new)), names="value")
        ui.code.observe(self._action(self._keep_code), names="value")
        ui.older.on_click(self._action(lambda _: state.older()))
        ui.newer.on_click(self._action(lambda _: state.newer()))
        ui.refresh.on_click(self._action(lambda _: state.refresh()))
        ui.load.on_click(self._action(lambda _: self.load_into()))
        ui.read.on_click(
            self._action(lambda _: data.preview(force=True, read_on_select=True, limit=0))
        )
        ui.statistics.on_click(
            self._action(lambda _: data.statistics(streaming_min_bytes=self.auto_read_limit))
        )
        state.observe(self._on_state_runs_revision_change, names="runs_revision")
        state.observe(self._on_state_revision_change, names="revision")
        state.observe(self._on_state_live_revision_change, names="live_revision")

    def _choose(self, name: str, value: Any) -> None:
        """A value of state trait ``name`` was chosen in the page."""
        if getattr(self.state, name) != value:
            setattr(self.state, name, value)

    def _compare_output(self) -> None:
        self.comparison.show_output(self.state)

    def _keep_code(self, change: Any) -> None:
        # The code line is for copying; an edit in the page is undone.
        if self.ui.code.value != self.code:
            with self._writing():
                self.ui.code.value = self.code

    def _action(self, do: Callable[P, object]) -> Callable[P, None]:
        """A callback from the page: dropped while the explorer writes the screen (the change
        events of its own widgets); an error is shown in the explorer, not raised."""

        def act(*args: P.args, **kwargs: P.kwargs) -> None:
            if not self._writes:
                with self._reporting():
                    do(*args, **kwargs)

        return act

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The explorer writes the state onto the screen: nothing it writes goes back."""
        self._writes += 1
        try:
            yield
        finally:
            self._writes -= 1

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        try:
            yield
        except Exception as e:
            self._failure = e
            self.show_error(e)

    # -- the screen: state -> page --------------------------------------------------------------

    def _on_state_runs_revision_change(self, change: Any) -> None:
        state, ui = self.state, self.ui
        with self._reporting(), self._writing():
            self._mirror()
            show_options(ui.run, state.options("run_name"), state.run_name)
            ui.filter.value = state.name_filter
            ui.older.disabled = not state.has_older
            ui.newer.disabled = not state.has_newer
            ui.page_label.value = esc(state.runs_description)
            self.comparison.show_runs(state)
            pipeline_shown = state.current is not None and state.current is state.pipeline
            if pipeline_shown and state.name_filter != self._preview_filter:
                ui.preview.value = self._preview_html(state.current)  # it lists those runs

    def _on_state_revision_change(self, change: Any) -> None:
        state = self.state
        with self._reporting(), self._writing():
            self._mirror()
            for level in LEVELS:
                show_options(self.ui.dropdowns[level], state.options(level), getattr(state, level))
            self.ui.stack.layout.display = "" if len(state.options("stack_key")) > 1 else "none"
            self._render()

    def _on_state_live_revision_change(self, change: Any) -> None:
        """The running run was read again: its steps' statuses, the DAG, the log tail, the
        selected step's growing curves."""
        state, ui = self.state, self.ui
        with self._reporting(), self._writing():
            show_options(ui.step, state.options("step_name"), state.step_name)
            show_options(ui.output, state.options("output_name"), state.output_name)
            self.set_trait("current", state.current)
            ui.preview.value = self._preview_html(state.current)
            self.dag.show(state)
            self.logs.show(state)
            self.curves.show(state)  # read with the run's snapshot: no round trip of its own

    def _live_tick(self) -> bool:
        """A tick of the live refresh: whether the selected run still runs."""
        with self._reporting():
            return self.state.refresh_run()
        return True  # the store failed (shown): look again on the next tick

    def _watch(self) -> None:
        """Refresh by itself while the selected run runs (``live``), else not."""
        run = self.state.run
        self.live.watch(run, run is not None and run.status == "running")

    def _render(self) -> None:
        """The preview, the code line, then every panel; the data is read last."""
        state, ui = self.state, self.ui
        current = state.current
        self.set_trait("current", current)
        self.set_trait("error", "")
        ui.message.value = ""
        code = accessor_code(
            repository_path=repository_argument(state.repository),
            stack_key=self._stack_argument(),
            pipeline=state.pipeline_name,
            run=state.run_name,
            step=state.step_name,
            output=state.output_name,
        )
        self.set_trait("code", code)
        ui.code.value = code
        ui.preview.value = self._preview_html(current)
        self._data.clear(state.output)
        for panel in self._panels:
            panel.show(state)
        self._data.preview(
            force=False, read_on_select=self.read_on_select, limit=self.auto_read_limit
        )
        self._watch()

    def _on_tags_change(self) -> None:
        """A tag of the selected run changed: its display (when shown) lists the new tags."""
        if self.state.current is self.state.run:
            self.ui.preview.value = self._preview_html(self.state.current)

    def _stack_argument(self) -> str | None:
        key = self.state.stack_key
        return None if key == self.state.repository.active_stack_key else key

    def _preview_html(self, current: Any) -> str:
        self._preview_filter = self.state.name_filter
        return selection_html(self.state)
