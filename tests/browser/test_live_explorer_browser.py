"""A run started in one notebook, watched in the explorer of another, in JupyterLab 4 driven
by headless Chromium: its step statuses turn to ``completed`` and its log tail grows with no
click (the explorer's live refresh, a task on the kernel's event loop)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from infra.dask_cluster import TESTS_DIR
from infra.jupyterlab import Lab, run_all_cells, serve_notebook, write_notebook
from zw_testing import wait_until

from zenml_widgets.repository import Repository

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The run's notebook: the pipeline runs in a thread of its kernel (``HeldRun``), so the cell
# ends at once; its step ``held`` prints a line every 0.2 s until the file ``release-live``.
RUN_CELL = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(TESTS_DIR)!r})
from infra.log_steps import HeldRun
from zenml_widgets.repository import Repository
held = HeldRun(Repository(), Path.cwd(), name="live")
"""
WATCH_CELL = """
from zenml_widgets import HistoryExplorer
explorer = HistoryExplorer()
explorer.select("held_chain", "live", "held")
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab serving an empty repository, a notebook that starts a run and holds it until
    a file ``release`` exists, and a notebook that shows it in the explorer."""
    repo = Repository.init(tmp_path / "repo")
    write_notebook(repo.root / "watch.ipynb", [WATCH_CELL])
    with serve_notebook(repo.root, "run.ipynb", [RUN_CELL]) as server:
        yield server


def test_a_run_of_another_notebook_turns_completed_in_the_explorer_with_no_click(
    lab: Lab, tmp_path: Path, chromium_browser: Browser, request: Any
) -> None:
    from infra.browser import browser_page, save_screenshot
    from playwright.sync_api import expect

    root = tmp_path / "repo"
    with browser_page(chromium_browser, request.node.name) as page:
        for name in ("run", "watch"):  # the run goes on in the first one's kernel
            # a workspace each: the page shows that notebook only
            page.goto(lab.url(f"lab/workspaces/{name}/tree/{name}.ipynb"), timeout=60_000)
            run_all_cells(page)
            if name == "run":
                wait_until(lambda: running(root))
        svg = page.locator(".zw-dag-widget svg.zw-dag")
        step = svg.locator("g.zw-dag-step")
        expect(step).to_have_count(3, timeout=60_000)
        expect(svg.locator('g.zw-dag-step[data-step="held"]')).to_have_attribute(
            "data-status", "running"
        )
        expect(svg.locator('g.zw-dag-step[data-step="after"]')).to_have_attribute(
            "data-status", "pending"
        )
        progress = page.locator(".zw-run-progress")
        expect(progress).to_contain_text("running · 1 of 3 steps done · now: held")
        logs = page.locator(".zw-logs-panel pre.zw-logs")
        expect(logs).to_contain_text("tick 1")
        first = _ticks(logs.inner_text())
        expect(logs).to_contain_text(f"tick {first + 10}")  # the tail grows, no click
        save_screenshot(page, f"{request.node.name}-running")
        (root / "release-live").touch()
        for name in ("start", "held", "after"):
            expect(svg.locator(f'g.zw-dag-step[data-step="{name}"]')).to_have_attribute(
                "data-status", "completed"
            )
        expect(logs).to_contain_text("released")
        expect(progress).to_have_text("")
        save_screenshot(page, f"{request.node.name}-completed")


def running(root: Path) -> bool:
    step = Repository(root).get_pipeline("held_chain").get_run("live")["held"]
    return step.status == "running"


def _ticks(text: str) -> int:
    """The last tick number in ``text``."""
    return max(int(n) for n in re.findall(r"tick (\d+)", text))
