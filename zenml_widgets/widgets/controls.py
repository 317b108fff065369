"""The explorer's controls (dropdowns, buttons, the code line, the preview boxes) and how a
dropdown is shown a new list of options. Nothing here reacts to them: the explorer wires them.
"""

from __future__ import annotations

import ipywidgets as w

from zenml_widgets.widgets.options import Options

_LABEL = {"description_width": "64px"}


def _wide() -> w.Layout:
    # A Layout per widget: a shared one would hide them all when one is hidden.
    return w.Layout(width="min(100%, 760px)")


def show_options(dropdown: w.Dropdown, options: Options, value: str | None) -> None:
    """Show ``options`` with ``value`` selected (if offered), or nothing selected.

    New options are set with no selection first: a Dropdown given new options while something
    is selected selects the first one by itself. Unchanged options are not sent again.
    """
    if [tuple(o) for o in dropdown.options] == options:
        show_value(dropdown, value)
        return
    with dropdown.hold_sync():
        dropdown.index = None
        dropdown.options = options
        if value is not None and any(v == value for _, v in options):
            dropdown.value = value


def show_value(dropdown: w.Dropdown, value: str | None) -> None:
    """Select ``value`` (or nothing) if the dropdown offers it."""
    offered = value is not None and any(v == value for _, v in dropdown.options)
    dropdown.value = value if offered else None


class Controls:
    """Every control of the explorer, made once; the explorer only changes their values.

    Panels (``panel.py``) bring their own widgets; ``HistoryExplorer.parts`` lays both out.
    """

    def __init__(self) -> None:
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
        self.dropdowns = {  # by the name of the state trait each one shows
            "stack_key": self.stack,
            "pipeline_name": self.pipeline,
            "run_name": self.run,
            "step_name": self.step,
            "output_name": self.output,
        }
        self.paging = w.HBox([self.filter, self.newer, self.older, self.page_label, self.refresh])
        self.actions = w.HBox(
            [self.variable, self.load, self.read, self.statistics, self.progress, self.status]
        )
