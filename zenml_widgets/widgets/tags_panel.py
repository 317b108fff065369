"""The explorer's tags panel: the selected run's tags, each with a button that removes it, and
a key and value box that add one. A ``Panel`` (``panel.py``).

Tags are read with the run (``run.tags``: no round trip of their own when the run's steps were
just read); adding or removing one is one statement in the store (``run.set_tag`` /
``run.remove_tag``), after which the panel shows the run's tags as the view now knows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as w

from zenml_widgets.display.views import tag_label
from zenml_widgets.visualizers.html import MUTED, esc
from zenml_widgets.widgets.panel import close_all

if TYPE_CHECKING:
    from zenml_widgets.views import PipelineRunView
    from zenml_widgets.widgets.state import ExplorerState

Wrap = Callable[[Callable[..., object]], Callable[..., None]]


class TagsPanel:
    """The selected run's tags, with remove buttons, and a box to add one.

    Args:
        wrap: makes a click handler of a callable; the explorer passes its ``_action`` (a
            failed write shows as the explorer's error, clicks are dropped while it writes
            the screen).
        changed: called after a tag was set or removed (the explorer redraws a run's display,
            which lists its tags).
    """

    def __init__(self, wrap: Wrap, changed: Callable[[], None] = lambda: None) -> None:
        self._wrap = wrap
        self._changed = changed
        self.label = w.HTML(f"<span style='color:{MUTED}'>tags</span>")
        self.label.layout.width = "64px"
        self.chips = w.HBox(layout=w.Layout(flex_flow="row wrap", align_items="center"))
        self.key = w.Text(placeholder="tag, e.g. baseline", layout=w.Layout(width="180px"))
        self.value = w.Text(placeholder="value (optional)", layout=w.Layout(width="180px"))
        self.add = w.Button(description="Add tag", icon="tag", layout=w.Layout(width="auto"))
        self.add.add_class("zw-tag-add")
        self.box = w.HBox(
            [self.label, self.chips, self.key, self.value, self.add],
            layout=w.Layout(display="none", flex_flow="row wrap", align_items="center"),
        )
        self.box.add_class("zw-tags")
        self.run: PipelineRunView | None = None
        self.add.on_click(wrap(lambda _: self.add_tag()))

    @property
    def widget(self) -> w.HBox:
        """The panel's box."""
        return self.box

    def show(self, state: ExplorerState) -> None:
        """Show the selected run's tags; hide when no run is selected."""
        self.run = state.run
        self.box.layout.display = "none" if self.run is None else ""
        if self.run is not None:
            self._draw(self.run.tags)

    def close(self) -> None:
        """Close the panel's widgets."""
        close_all(self.box)

    def add_tag(self, key: str | None = None, value: str | None = None) -> None:
        """Set tag ``key`` (default: the key box) to ``value`` (default: the value box) on
        the selected run; the boxes are cleared once it is stored."""
        if self.run is None:
            return
        key = self.key.value.strip() if key is None else key
        value = self.value.value if value is None else value
        self.run.set_tag(key, value)
        self.key.value = self.value.value = ""
        self._draw(self.run.tags)
        self._changed()

    def remove_tag(self, key: str) -> None:
        """Remove tag ``key`` from the selected run."""
        if self.run is None:
            return
        self.run.remove_tag(key)
        self._draw(self.run.tags)
        self._changed()

    def _draw(self, tags: dict[str, str]) -> None:
        old = list(self.chips.children)
        self.chips.children = [self._chip(k, v) for k, v in tags.items()] or [
            w.HTML(f"<span style='color:{MUTED}'>none</span>")
        ]
        for chip in old:
            close_all(chip)

    def _chip(self, key: str, value: str) -> w.HBox:
        label = tag_label(key, value)
        remove = w.Button(
            icon="times",
            tooltip=f"Remove tag {label}",
            layout=w.Layout(width="28px", padding="0"),
        )
        remove.on_click(self._wrap(lambda _: self.remove_tag(key)))
        chip = w.HBox([w.HTML(f"<code>{esc(label)}</code>"), remove])
        chip.add_class("zw-tag")
        return chip
