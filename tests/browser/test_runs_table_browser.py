"""The explorer's runs grid in JupyterLab 4 and Notebook 7 (dark theme), headless Chromium, at
1,200 px (JupyterLab with its file browser open): sort by a metric by clicking its header,
select a run by clicking its row (highlighted; the run dropdown follows), the name column stays
in view when scrolled sideways, 20,000 runs scroll virtually (a few dozen rows in the page,
fetched a page at a time), the dropdowns stay where they were when the table opens, nothing
overflows the cell and the text has a contrast of at least 4.5:1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import zw_testing as t
from infra import pagecheck
from infra.jupyterlab import DARK, Lab, dropdown, run_all_cells, serve_notebook, wait_for_command

from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    "%load_ext zenml_widgets\nexplorer = %zenml_history training_pipeline\nexplorer",
    "%zenml_history bulk",
]
BULK = 20_000


@pytest.fixture(params=["lab", "notebook"])
def lab(request: Any, tmp_path: Path) -> Iterator[tuple[Lab, list[str]]]:
    """Three runs whose ``trainer.output`` is not in start order (and the names ordered by it,
    highest first), and a pipeline ``bulk`` of 20,000 runs."""
    repo = Repository.init(tmp_path / "repo")
    for name, epochs in (("low", 1), ("high", 9), ("mid", 4)):
        t.make_training(epochs=epochs, seed=3).run(run_name=name, repository=repo)
    runs = list(repo.get_pipeline("training_pipeline").runs)
    scores = {r.name: r.get_step("trainer").output.read() for r in runs}
    order = sorted(scores, key=lambda n: scores[n], reverse=True)
    assert order != ["mid", "high", "low"]  # sorting changes what the table shows
    t.bulk_runs(repo, "bulk", BULK)
    forget_metadata_stores()
    with serve_notebook(
        repo.root, tmp_path / "jupyter", "table.ipynb", CELLS, app=request.param, theme=DARK
    ) as server:
        yield server, order


def open_table(page: Page, server: Lab, index: int) -> Locator:
    """Open the runs table of the ``index``-th explorer; returns its grid."""
    explorer = page.locator(".zw-explorer").nth(index)
    explorer.locator(".zw-runs-table-toggle").click()
    grid = explorer.locator(".zw-grid")
    grid.locator("tr.zw-grid-row[data-name]").first.wait_for(timeout=30_000)
    return grid


def names(grid: Locator) -> list[str]:
    return [str(n) for n in grid.locator("tr.zw-grid-row[data-name]").evaluate_all(
        "rows => rows.map(r => r.dataset.name)"
    )]  # fmt: skip


def test_sort_select_sticky_and_virtual_scrolling(
    lab: tuple[Lab, list[str]], chromium_browser: Browser, request: Any
) -> None:
    from infra.browser import browser_page, save_screenshot
    from playwright.sync_api import expect

    server, order = lab
    name = f"{request.node.name}-{server.app}"
    with browser_page(chromium_browser, name) as page:
        page.goto(server.notebook_url("table.ipynb"), timeout=60_000)
        if server.app == "lab":
            wait_for_command(page, "filebrowser:activate")
            page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
        run_all_cells(page)
        run = dropdown(page, "run").first
        before = run.bounding_box()
        grid = open_table(page, server, 0)
        after = run.bounding_box()
        assert before is not None and after is not None
        assert after["y"] == before["y"]  # the open table pushes no dropdown down
        expect(grid.locator("tr.zw-grid-row[data-name]")).to_have_count(3)
        assert names(grid) == ["mid", "high", "low"]  # newest first

        header = grid.locator(".zw-grid-sort", has_text=re.compile(r"^trainer\.output"))
        header.click()
        expect(grid.locator(".zw-grid-sort", has_text="▼")).to_have_text(
            re.compile(r"^trainer\.output")
        )
        expect(grid.locator("tr.zw-grid-row").first).to_have_attribute("data-name", order[0])
        assert names(grid) == order

        target = order[-1]
        grid.locator(f'tr.zw-grid-row[data-name="{target}"] td').nth(2).click()
        expect(run.locator("option:checked")).to_have_text(re.compile(f"^{target}"))
        selected = grid.locator("tr.zw-selected")
        expect(selected).to_have_attribute("data-name", target)
        plain = grid.locator("tr.zw-grid-row:not(.zw-selected) td").nth(1)
        colours = [
            cell.evaluate("e => getComputedStyle(e).backgroundColor")
            for cell in (selected.locator("td").nth(1), plain)
        ]
        assert colours[0] != colours[1], colours  # the selected row is highlighted
        _check_sticky_name_column(page, grid)
        _check_layout_and_contrast(page)
        save_screenshot(page, name)

        bulk = open_table(page, server, 1)
        _check_virtual_scrolling(page, bulk)
        save_screenshot(page, f"{name}-bulk")


def _check_sticky_name_column(page: Page, grid: Locator) -> None:
    from infra.browser import scroll_right_keeps

    view = grid.locator(".zw-grid-view")
    assert view.evaluate("e => e.scrollWidth > e.clientWidth")  # wider than the cell
    left = scroll_right_keeps(page, view, grid.locator("tr.zw-grid-row td").first)
    other = grid.locator("tr.zw-grid-row td").nth(2).bounding_box()
    assert other is not None and other["x"] < left["x"]  # the rest scrolled under it
    view.evaluate("e => { e.scrollLeft = 0 }")


def _check_layout_and_contrast(page: Page) -> None:
    areas = pagecheck.overflow(page)
    assert all(a["overflow"] <= 1 for a in areas), areas
    pager = page.locator(".zw-grid-tool").evaluate_all(
        "tools => tools.filter(t => t.scrollWidth > t.clientWidth + 1).map(t => t.textContent)"
    )
    assert pager == []  # no button squeezed into a cut label
    texts = pagecheck.contrast(page, ".zw-grid, .zw-dag-widget, div.zw")
    lowest = min(texts, key=lambda t: t["ratio"])
    assert lowest["ratio"] >= 4.5, lowest


def _check_virtual_scrolling(page: Page, grid: Locator) -> None:
    from playwright.sync_api import expect

    expect(grid.locator(".zw-grid-range")).to_have_text(re.compile(r"of 20,000$"))
    view = grid.locator(".zw-grid-view")
    assert grid.locator("tr.zw-grid-row").count() < 60  # only the rows in view, and a few more
    view.evaluate("e => { e.scrollTop = e.scrollHeight / 2 }")
    middle = f"bulk-{BULK // 2 - 1:05d}"  # newest first: the middle row is run 9,999
    expect(grid.locator(f'tr.zw-grid-row[data-name="{middle}"]')).to_have_count(1, timeout=30_000)
    grid.get_by_role("button", name="Last rows").click()
    expect(grid.locator('tr.zw-grid-row[data-name="bulk-00000"]')).to_have_count(1, timeout=30_000)
    assert grid.locator("tr.zw-grid-row").count() < 60
    expect(grid.locator(".zw-grid-range")).to_have_text(re.compile("\u201320,000 of 20,000$"))
