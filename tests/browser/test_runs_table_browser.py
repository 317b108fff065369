"""The explorer's runs table in JupyterLab 4 and headless Chromium: sort by a metric by clicking
its header, then click a run's row and see the run dropdown follow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import zw_testing as t
from infra.jupyterlab import Lab, dropdown, serve_notebook, wait_for_kernel

from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL = "%load_ext zenml_widgets\n%zenml_history training_pipeline"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[Lab, list[str]]]:
    """Three runs whose ``trainer.output`` metric is not in start order, and the run names
    ordered by that metric, highest first (read from the artifacts)."""
    repo = Repository.init(tmp_path / "repo")
    for name, epochs in (("low", 1), ("high", 9), ("mid", 4)):
        t.make_training(epochs=epochs, seed=3).run(run_name=name, repository=repo)
    runs = list(repo.get_pipeline("training_pipeline").runs)
    scores = {r.name: r.get_step("trainer").output.read() for r in runs}
    order = sorted(scores, key=lambda n: scores[n], reverse=True)
    assert order != ["mid", "high", "low"]  # sorting changes what the table shows
    forget_metadata_stores()
    with serve_notebook(repo.root, tmp_path / "jupyter", "table.ipynb", [CELL]) as server:
        yield server, order


def test_sort_by_metric_and_click_a_row(
    lab: tuple[Lab, list[str]], chromium_browser: Browser, request: Any
) -> None:
    from infra.browser import new_offline_context, save_screenshot
    from playwright.sync_api import expect

    server, order = lab
    context = new_offline_context(chromium_browser, allow_hosts=["127.0.0.1"])
    page = context.new_page()
    page.set_viewport_size({"width": 900, "height": 900})  # narrower than the table
    try:
        page.goto(server.url("lab/tree/table.ipynb"), timeout=60_000)
        wait_for_kernel(page)
        page.locator(".jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        toggle = page.locator(".zw-runs-table-toggle")
        expect(toggle).to_be_visible(timeout=60_000)
        toggle.click()
        grid = page.locator(".zw-runs-table-grid")
        rows = grid.locator(".zw-runs-table-run")
        expect(rows).to_have_count(3, timeout=30_000)
        expect(rows.first).to_have_text("mid")  # newest first
        # Every header and run name is shown whole (not cut with an ellipsis); a table wider
        # than the cell scrolls sideways inside its own box.
        cut = grid.locator(".zw-runs-table-sort, .zw-runs-table-run").evaluate_all(
            "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"
        )
        assert cut == []
        box = grid.evaluate(
            "g => [getComputedStyle(g).overflowX, g.scrollWidth, g.clientWidth, "
            "g.closest('.jp-OutputArea-output').clientWidth]"
        )
        assert box[0] == "auto" and box[2] <= box[3], box
        grid.locator(".zw-runs-table-sort", has_text=re.compile(r"^trainer\.output")).click()
        expect(grid.locator(".zw-runs-table-sort", has_text="▼")).to_have_text(
            re.compile(r"^trainer\.output")
        )
        expect(rows.first).to_have_text(order[0])
        assert [n.strip() for n in rows.all_inner_texts()] == order
        run = dropdown(page, "run")
        target = order[-1]
        grid.locator(".zw-runs-table-run", has_text=target).click()
        expect(run.locator("option:checked")).to_have_text(re.compile(f"^{target}"))
        expect(page.locator(".zw-runs-chart-box svg title").first).to_be_attached()
        save_screenshot(page, request.node.name)
    except Exception:
        save_screenshot(page, f"{request.node.name}-failure")
        raise
    finally:
        context.close()
