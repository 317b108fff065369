"""docs/ARCHITECTURE.md ("How to add an explorer panel") stays true: its example panel, run as
written, shows in the explorer for each selection."""

from __future__ import annotations

import re
from typing import Any

from zw_testing import ARCHITECTURE_DOC, doc_blocks

from zenml_widgets.repository import Repository
from zenml_widgets.widgets.panel import Panel

DOC = ARCHITECTURE_DOC


def python_blocks() -> list[str]:
    return doc_blocks("How to add an explorer panel")


def test_the_example_panel_shows_for_each_selection(history: Repository) -> None:
    blocks = python_blocks()
    assert len(blocks) == 2
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    explorer = namespace["ExplorerWithDuration"]()
    panel = explorer.duration
    assert isinstance(panel, Panel) and explorer.children[-1] is panel.widget
    assert panel.widget.layout.display == "none"  # no run selected

    explorer.select("training_pipeline", "latest")
    assert panel.widget.layout.display == ""
    assert re.fullmatch(r"<b>second</b> took \d.*", panel.widget.value), panel.widget.value
    explorer.ui.run.value = "first"  # as the browser would
    assert panel.widget.value.startswith("<b>first</b> took")
    explorer.pipeline_name = None
    assert panel.widget.layout.display == "none"
    explorer.close()
    assert panel.widget.comm is None
