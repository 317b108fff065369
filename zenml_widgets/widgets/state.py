"""``ExplorerState``: what the explorer has selected, with no widget at all.

The selection is traits (``pipeline_name`` -> ``run_name`` -> ``step_name`` -> ``output_name``,
plus ``compare_run_name``, the run-name filter and the page size), in the way ipywidgets'
``_Selection`` holds a dropdown's value: ``@validate`` refuses names that do not exist,
listing those that do; ``@observe`` cascades a change down (the levels below are cleared and
what they offer is loaded again). Runs are listed one page at a time (``RunPager``).

Whoever shows the state observes two counters, each bumped at most once per action, when the
change and its whole cascade are complete: ``runs_revision`` (the listed page of runs changed)
and then ``revision`` (the selection changed, or ``refresh`` asked the store again). So a view
renders once per action, not once per level. This module imports no ipywidgets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

from traitlets import HasTraits, Int, TraitError, Unicode, observe, validate

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.widgets import options as opt
from zenml_widgets.widgets.run_pager import RunPager

if TYPE_CHECKING:
    from zenml_widgets.repository import Repository
    from zenml_widgets.views import ArtifactView, PipelineRunView, PipelineView, StepView

LATEST = "latest"
LEVELS = ("stack_key", "pipeline_name", "run_name", "step_name", "output_name")
NAMES = (*LEVELS, "compare_run_name", "name_filter", "page_size")
SELECTION, RUNS, LIVE = "selection", "runs", "live"


class ExplorerState(HasTraits):
    """The explorer's selection, its validation and its cascade; it knows nothing of a screen.

    Args:
        repository: the repository to browse.
        stack_key: the stack to browse; default: the active stack.
        page_size: how many runs a page of runs holds (newest first).

    Raises:
        NotFoundError: ``stack_key`` does not exist; the message lists the stacks.

    Example:
        >>> state = ExplorerState(Repository())  # doctest: +SKIP
        >>> state.select("training", "latest", "trainer").step  # doctest: +SKIP
        StepView(...)
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
    page_size = Int(50, help="How many runs a page of runs holds.")
    revision = Int(
        0,
        read_only=True,
        help="Bumped once when a change of the selection (or a refresh) and its cascade are done.",
    )
    runs_revision = Int(
        0, read_only=True, help="Bumped once when the listed page of runs has changed."
    )
    generation = Int(
        0, read_only=True, help="Bumped by refresh(): what was read before it may be stale."
    )
    live_revision = Int(
        0,
        read_only=True,
        help="Bumped by refresh_run() while the selected run runs: its steps were read again.",
    )

    def __init__(
        self, repository: Repository, *, stack_key: str | None = None, page_size: int = 50
    ) -> None:
        super().__init__()
        self.repository = repository
        self._pager: RunPager | None = None
        self._pipeline: PipelineView | None = None
        self._run: PipelineRunView | None = None
        self._step: StepView | None = None
        self._output: ArtifactView | None = None
        self._compare_run: PipelineRunView | None = None
        self._resolved: Any = None
        self._options: dict[str, opt.Options] = {name: [] for name in LEVELS}
        self._pipelines: dict[str, PipelineView] = {}  # the stack's, with their run counts
        self._depth = 0
        self._dirty: set[str] = set()
        self.page_size = page_size
        self._assign("stack_key", stack_key or repository.active_stack_key)

    # -- what is selected -----------------------------------------------------------------------

    @property
    def pipeline(self) -> PipelineView | None:
        """The selected pipeline."""
        return self._pipeline

    @property
    def run(self) -> PipelineRunView | None:
        """The selected run."""
        return self._run

    @property
    def step(self) -> StepView | None:
        """The selected step."""
        return self._step

    @property
    def output(self) -> ArtifactView | None:
        """The selected output."""
        return self._output

    @property
    def compare_run(self) -> PipelineRunView | None:
        """The run the selected run is compared with."""
        return self._compare_run

    @property
    def current(self) -> PipelineView | PipelineRunView | StepView | ArtifactView | None:
        """The deepest selected view, or ``None``."""
        return self._output or self._step or self._run or self._pipeline

    def options(self, level: str) -> opt.Options:
        """What ``level`` (``"stack_key"``, ``"pipeline_name"``, ... ``"output_name"``) offers:
        ``(label, name)`` pairs; the runs are the listed page only."""
        return list(self._options[level])

    # -- the listed page of runs ----------------------------------------------------------------

    @property
    def runs(self) -> list[PipelineRunView]:
        """The listed page of the selected pipeline's runs, newest first."""
        return list(self._pager.page) if self._pager is not None else []

    @property
    def newest_listed(self) -> PipelineRunView | None:
        """The pipeline's newest run when the listed page is its newest, unfiltered one (so it
        was just read); ``None`` otherwise."""
        pager = self._pager
        if pager is None or pager.has_newer or pager.name_contains or not pager.page:
            return None
        return pager.page[0]

    @property
    def has_older(self) -> bool:
        """Whether runs older than the page exist."""
        return self._pager is not None and self._pager.has_older

    @property
    def has_newer(self) -> bool:
        """Whether runs newer than the page exist."""
        return self._pager is not None and self._pager.has_newer

    @property
    def runs_description(self) -> str:
        """The page in words, e.g. ``50 newest runs of 300`` ('' when no pipeline is selected)."""
        return self._pager.describe() if self._pager is not None else ""

    @property
    def run_count(self) -> int | None:
        """The selected pipeline's run count: counted once per selection or refresh."""
        return self._pager.total if self._pager is not None else None

    def older(self) -> None:
        """List the page of runs just older than this one."""
        if self._pager is not None:
            with self._batch(RUNS):
                self._load_runs(self._pager.older)

    def newer(self) -> None:
        """List the page of runs just newer than this one."""
        if self._pager is not None:
            with self._batch(RUNS):
                self._load_runs(self._pager.newer)

    # -- actions --------------------------------------------------------------------------------

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

    def compare_with(self, run: str | None) -> Self:
        """Compare the selected run with run ``run`` of the same pipeline (``None``: stop).

        Raises:
            NotFoundError: the pipeline has no run ``run``.
        """
        self._assign("compare_run_name", run)
        return self

    def refresh(self) -> None:
        """Ask the store again: new pipelines and runs appear, statuses update."""
        with self._batch():
            self.set_trait("generation", self.generation + 1)
            self._options["pipeline_name"] = self._pipeline_options()
            self._reread()

    def _reread(self) -> None:
        """Read the listed runs, the selected run and step again (``refresh`` without the
        pipelines)."""
        if self._pager is not None and self._pipeline is not None:
            self._pager.recount(self._pipeline)
            self._load_runs(self._pager.load)
        if self._run is not None and self._pipeline is not None:
            name = self._run.name
            listed = next((r for r in self.runs if r.name == name), None)
            self._run = listed or self._pipeline.get_run(name)
            self._options["step_name"] = opt.step_options(self._run)
        if self._step is not None and self._run is not None:
            self._step = self._run.get_step(self._step.name)
            self._options["output_name"] = opt.output_options(self._step)

    def refresh_run(self) -> bool:
        """Read the selected run again as it is now, the selection kept: while it runs, its
        steps, their statuses and outputs in one round trip (``live_revision`` is bumped);
        once it has ended, the listed runs, the run and the step, as ``refresh`` does (with
        ``revision``; the pipelines are not listed again). Returns whether it still runs."""
        run = self._run
        if run is None:
            return False
        step = self._step  # its curves come with the run (the same round trip): they may grow
        fresh = run.snapshot(
            curves_of=step.id if step is not None and self.current is step else None
        )
        if fresh.status != "running":  # ended: the run's page, the run and step as refresh()
            with self._batch():  # does; the pipelines and their run counts did not change
                self.set_trait("generation", self.generation + 1)
                self._reread()
                if self._run is not None:
                    self._run.adopt(fresh)  # its tags and the step's curves, read just now
            return False
        with self._batch(LIVE):
            self._run = fresh
            self._options["step_name"] = opt.step_options(fresh)
            if self._step is not None:
                self._step = fresh.get_step(self._step.name)
                self._options["output_name"] = opt.output_options(self._step)
        return True

    def jump_to_newest(self) -> None:
        """Refresh and select the newest run of the selected pipeline."""
        if self._pipeline is None:
            return
        with self._batch():
            self.refresh()
            self.select(self._pipeline.name, LATEST)

    def _assign(self, trait: str, value: str | None) -> None:
        """Set a name; a name that does not exist raises ``NotFoundError`` (not ``TraitError``)."""
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
        listed = self._pipelines.get(name)
        if listed is not None:
            return self._resolve(lambda: listed, name)
        return self._resolve(lambda: self.repository.get_pipeline(name, self.stack_key), name)

    @validate("run_name")
    def _validate_run_name(self, proposal: Any) -> str | None:
        name, pipeline = proposal.value, self._pipeline
        if pipeline is None:
            raise TraitError("Select a pipeline before a run.")
        listed = next((r for r in self.runs if r.name == name), None)
        return self._resolve(lambda: listed or pipeline.get_run(name), name)

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
        return self._resolve(lambda: opt.get_output(step, name), name)

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
    def _on_stack_key_change(self, change: Any) -> None:
        with self._batch():
            self._options["stack_key"] = opt.stack_options(self.repository)
            self.pipeline_name = None
            self._options["pipeline_name"] = self._pipeline_options()

    @observe("pipeline_name")
    def _on_pipeline_name_change(self, change: Any) -> None:
        with self._batch():
            self._pipeline = self._resolved if change.new is not None else None
            self.run_name = None
            self.compare_run_name = None
            self._pager = None
            self.name_filter = ""
            if self._pipeline is not None:
                pager = self._pager = RunPager(self._pipeline, self.page_size)
                self._load_runs(lambda: pager.first(""))
            else:
                self._load_runs(list)

    @observe("run_name")
    def _on_run_name_change(self, change: Any) -> None:
        with self._batch():
            self._run = self._resolved if change.new is not None else None
            self.step_name = None
            pager, run = self._pager, self._run
            if run is not None and pager is not None and all(r.id != run.id for r in pager.page):
                self._load_runs(lambda: pager.show(run))  # a run chosen by name, not listed
                self.name_filter = pager.name_contains
            self._options["step_name"] = opt.step_options(run) if run is not None else []

    @observe("step_name")
    def _on_step_name_change(self, change: Any) -> None:
        with self._batch():
            self._step = self._resolved if change.new is not None else None
            self.output_name = None
            step = self._step
            self._options["output_name"] = opt.output_options(step) if step is not None else []

    @observe("output_name")
    def _on_output_name_change(self, change: Any) -> None:
        with self._batch():
            self._output = self._resolved if change.new is not None else None

    @observe("compare_run_name")
    def _on_compare_run_name_change(self, change: Any) -> None:
        with self._batch():
            self._compare_run = self._resolved if change.new is not None else None

    @observe("name_filter")
    def _on_name_filter_change(self, change: Any) -> None:
        with self._batch(RUNS):
            wanted, pager = change.new.strip(), self._pager
            if pager is not None and wanted != pager.name_contains:
                self._load_runs(lambda: pager.first(wanted))

    @observe("page_size")
    def _on_page_size_change(self, change: Any) -> None:
        with self._batch(RUNS):
            if self._pager is not None:
                self._pager.page_size = max(1, change.new)
                self._load_runs(self._pager.load)

    # -- helpers --------------------------------------------------------------------------------

    @property
    def pipelines(self) -> list[PipelineView]:
        """The stack's pipelines as last listed, each with its run count."""
        return list(self._pipelines.values())

    def _pipeline_options(self) -> opt.Options:
        listed = self.repository.pipeline_overview(self.stack_key)
        self._pipelines = {p.name: p for p in listed}
        if self._pipeline is not None:  # the same pipeline, with its count as listed now
            self._pipeline = self._pipelines.get(self._pipeline.name, self._pipeline)
        return opt.pipeline_options(listed)

    def _load_runs(self, load: Callable[[], list[PipelineRunView]]) -> None:
        """(Re)load the listed page of runs and what the run level offers."""
        self._dirty.add(RUNS)
        self._options["run_name"] = opt.run_options(load())

    @contextmanager
    def _batch(self, *aspects: str) -> Iterator[None]:
        """Group changes: when the outermost is done, tell observers once (see the module)."""
        self._dirty.update(aspects or (SELECTION,))
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                dirty, self._dirty = self._dirty, set()
                if RUNS in dirty:
                    self.set_trait("runs_revision", self.runs_revision + 1)
                if SELECTION in dirty:
                    self.set_trait("revision", self.revision + 1)
                elif LIVE in dirty:
                    self.set_trait("live_revision", self.live_revision + 1)
