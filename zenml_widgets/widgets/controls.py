"""The explorer's child widgets, their layout, and the labels of the choices they offer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from zenml_widgets.config import find_repository_root
from zenml_widgets.exceptions import RepositoryNotFoundError
from zenml_widgets.widgets.options import (
    Options,
    get_output,
    output_options,
    run_options,
    stack_options,
    step_options,
)

if TYPE_CHECKING:
    from zenml_widgets.repository import Repository
    from zenml_widgets.widgets.explorer import HistoryExplorer

__all__ = [
    "Controls",
    "Options",
    "get_output",
    "output_options",
    "repository_argument",
    "run_options",
    "stack_options",
    "step_options",
]

_LABEL = {"description_width": "64px"}


def _wide() -> w.Layout:
    # A Layout per widget: a shared one would hide them all when one is hidden.
    return w.Layout(width="min(100%, 760px)")


def repository_argument(repository: Repository) -> str | None:
    """The repository root when ``Repository()`` here would find another one (or none)."""
    try:
        found = find_repository_root()
    except RepositoryNotFoundError:
        found = None
    return None if found == repository.root else str(repository.root)


class Controls:
    """Every child widget of the explorer, made once; the explorer only changes their values."""

    def __init__(self) -> None:
        self.quiet = 0
        self.stack = w.Dropdown(description="stack", style=_LABEL, layout=_wide())
        self.pipeline = w.Dropdown(description="pipeline", style=_LABEL, layout=_wide())
        self.filter = w.Text(
            placeholder="run name contains…",
            description="filter",
            continuous_update=False,
            style=_LABEL,
            layout=w.Layout(width="280px"),
        )
        self.newer = w.Button(description="◀ newer", tooltip="Newer runs", disabled=True)
        self.older = w.Button(description="older ▶", tooltip="Older runs", disabled=True)
        self.refresh = w.Button(description="⟳ refresh", tooltip="Ask the store again")
        for button in (self.newer, self.older, self.refresh):
            button.layout.width = "96px"
        self.page_label = w.HTML()
        self.run = w.Dropdown(description="run", style=_LABEL, layout=_wide())
        self.step = w.Dropdown(description="step", style=_LABEL, layout=_wide())
        self.output = w.Dropdown(description="output", style=_LABEL, layout=_wide())
        self.code = w.Text(description="code", style=_LABEL, layout=_wide())
        self.variable = w.Text(
            placeholder="variable name", style=_LABEL, layout=w.Layout(width="180px")
        )
        self.load = w.Button(description="Load into variable", layout=w.Layout(width="160px"))
        self.read = w.Button(description="Read & preview", layout=w.Layout(display="none"))
        self.statistics = w.Button(description="Statistics", layout=w.Layout(display="none"))
        self.status = w.HTML()
        # Shown only while an output is read: a full "info" bar is the indeterminate indicator
        # (a read reports no progress), its description says how big the output is.
        self.progress = w.IntProgress(
            value=1,
            min=0,
            max=1,
            bar_style="info",
            description="reading",
            style={"description_width": "initial"},
            layout=w.Layout(display="none", width="220px"),
        )
        self.message = w.HTML()
        self.preview = w.HTML()
        self.data = w.HTML()
        self.stats = w.Output()

    def layout(self) -> list[w.Widget]:
        """The explorer's children, top to bottom."""
        paging = w.HBox([self.filter, self.newer, self.older, self.page_label, self.refresh])
        actions = w.HBox(
            [self.variable, self.load, self.read, self.statistics, self.progress, self.status]
        )
        return [
            self.stack,
            self.pipeline,
            paging,
            self.run,
            self.step,
            self.output,
            self.code,
            actions,
            self.message,
            self.preview,
            self.data,
            self.stats,
        ]

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """Change widgets without the explorer reacting to it."""
        self.quiet += 1
        try:
            yield
        finally:
            self.quiet -= 1

    def set_options(self, dropdown: w.Dropdown, options: Options, value: str | None) -> None:
        """Replace a dropdown's options without it selecting the first one by itself."""
        with self.quietly(), dropdown.hold_sync():
            dropdown.index = None
            dropdown.options = options
            if value is not None and any(v == value for _, v in options):
                dropdown.value = value

    def set_value(self, dropdown: w.Dropdown, value: str | None) -> None:
        """Select ``value`` (or nothing) if the dropdown offers it."""
        with self.quietly():
            offered = value is not None and any(v == value for _, v in dropdown.options)
            dropdown.value = value if offered else None

    def wire(self, explorer: HistoryExplorer) -> None:
        """Connect the widgets to the explorer (done last, once everything exists)."""
        for trait, dropdown in (
            ("stack_key", self.stack),
            ("pipeline_name", self.pipeline),
            ("run_name", self.run),
            ("step_name", self.step),
            ("output_name", self.output),
        ):
            dropdown.observe(_choice(explorer, trait), names="value")
        self.filter.observe(lambda change: explorer.on_filter(change.new), names="value")
        self.code.observe(lambda change: self._keep_code(explorer), names="value")
        self.older.on_click(lambda _: explorer.on_page("older"))
        self.newer.on_click(lambda _: explorer.on_page("newer"))
        self.refresh.on_click(lambda _: explorer.on_refresh())
        self.load.on_click(lambda _: explorer.on_load())
        self.read.on_click(lambda _: explorer.on_read())
        self.statistics.on_click(lambda _: explorer.on_statistics())

    def _keep_code(self, explorer: HistoryExplorer) -> None:
        # The code line is for copying; an edit in the page is undone.
        if not self.quiet and self.code.value != explorer.code:
            with self.quietly():
                self.code.value = explorer.code


def _choice(explorer: HistoryExplorer, trait: str) -> Any:
    def on_change(change: Any) -> None:
        explorer.on_choice(trait, change.new)

    return on_change
