"""The explorer's runs grid timed end to end in JupyterLab and headless Chromium: what a user
waits for between a click (or Enter) and the new rows. Used by ``bench_explorer.py --browser``;
it borrows the tests' helpers (``tests/infra``: a private JupyterLab, Debian's ``chromium``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TARGET = 0.300
NEW_FIRST_ROW = """(before) => {
  const row = document.querySelector(".zw-grid tr.zw-grid-row[data-name]");
  return row && row.dataset.name !== before;
}"""
SHOWS = """(total) => {
  const range = document.querySelector(".zw-grid-range");
  return range && range.textContent.endsWith("of " + total)
    && document.querySelector(".zw-grid tr.zw-grid-row[data-name]");
}"""


def grid_in_browser(root: Path, runs: int, repeat: int = 7) -> None:
    """Sort by a metric and clear a filter in the page; medians of ``repeat``."""
    from infra.browser import launch_chromium, new_offline_context
    from infra.jupyterlab import run_all_cells, serve_notebook
    from playwright.sync_api import sync_playwright

    cells = ["%load_ext zenml_widgets\n%zenml_history bulk"]
    with (
        tempfile.TemporaryDirectory() as home,
        serve_notebook(root, Path(home), "bench-grid.ipynb", cells) as lab,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = new_offline_context(browser, allow_hosts=["127.0.0.1"]).new_page()
        page.set_viewport_size({"width": 1200, "height": 900})
        page.goto(lab.notebook_url("bench-grid.ipynb"), timeout=60_000)
        run_all_cells(page)
        page.locator(".zw-runs-table-toggle").click()
        grid = page.locator(".zw-grid")
        grid.locator("tr.zw-grid-row[data-name]").first.wait_for()
        header = grid.locator(".zw-grid-sort", has_text="loader.summary.accuracy")
        sorts = []
        for _ in range(repeat):
            before = grid.locator("tr.zw-grid-row").first.get_attribute("data-name")
            start = time.perf_counter()
            header.click()
            page.wait_for_function(NEW_FIRST_ROW, arg=before)
            sorts.append(time.perf_counter() - start)
        report("sort by a metric: click -> new rows", statistics.median(sorts), target=TARGET)
        box = page.locator(".zw-runs-table-filter input")
        clears = []
        for _ in range(repeat):
            box.fill(f"loader.i >= {runs // 2}")
            box.press("Enter")
            page.wait_for_function(SHOWS, arg=f"{runs - runs // 2:,}")
            start = time.perf_counter()
            box.fill("")
            box.press("Enter")
            page.wait_for_function(SHOWS, arg=f"{runs:,}")
            clears.append(time.perf_counter() - start)
        report("clear the filter: Enter -> all rows", statistics.median(clears), target=TARGET)
        browser.close()
    (root / "bench-grid.ipynb").unlink(missing_ok=True)
