"""Learning curves in JupyterLab 4 and headless Chromium: the explorer's step curves (escaped
names, the log-scale switch), the runs grid's overlay of the runs in view and of runs marked
with Ctrl-click (run names in the legend and on hover), and ``runs.table().curves(...)`` in a
cell, whose log-scale checkbox works with no JavaScript of ours."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from infra.jupyterlab import Lab, run_all_cells, serve_notebook
from infra.metric_steps import two_trainers, worker_curves

from zenml_widgets import log_metric, pipeline, step
from zenml_widgets.repository import Repository

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAME = "<b>loss</b> & 'x'"
CELLS = [
    "%load_ext zenml_widgets\n%zenml_history escaping esc html_names",
    "%zenml_history two_trainers",
    "from zenml_widgets.repository import Repository\n"
    "Repository().get_pipeline('two_trainers').runs.table().curves('a.metrics.loss')",
]


@step(enable_cache=False)
def html_names(epochs: int = 6) -> float:
    for epoch in range(epochs):
        log_metric(NAME, 10.0 ** (-epoch))
        log_metric("accuracy", epoch / 10)
    return 1.0


@pipeline(enable_cache=False)
def escaping(html_names):
    html_names()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    repo = Repository.init(tmp_path / "repo")
    escaping(html_names=html_names()).run(run_name="esc", repository=repo)
    for i in range(4):
        two_trainers(a=worker_curves(epochs=4 + i), b=worker_curves(epochs=2)).run(
            run_name=f"<r{i}>", repository=repo
        )
    with serve_notebook(repo.root, "curves.ipynb", CELLS) as server:
        yield server


def test_curves_in_the_explorer_the_overlay_and_a_cell(
    lab: Lab, chromium_browser: Browser, request: Any
) -> None:
    from infra.browser import browser_page, save_screenshot

    with browser_page(chromium_browser, request.node.name, height=1000) as page:
        page.goto(lab.notebook_url("curves.ipynb"), timeout=60_000)
        run_all_cells(page)
        _check_step_curves(page)
        _check_overlay(page)
        _check_cell(page)
        save_screenshot(page, request.node.name)


def _check_step_curves(page: Page) -> None:
    from playwright.sync_api import expect

    panel = page.locator(".zw-explorer").nth(0).locator(".zw-curves-panel")
    charts = panel.locator("svg.zw-curves-chart")
    expect(charts).to_have_count(2)
    labels = charts.evaluate_all("cs => cs.map(c => c.getAttribute('aria-label'))")
    assert labels == [f"{NAME} over step", "accuracy over step"]  # the text, not markup
    assert panel.locator(".zw-curves-box b").count() == 0  # nothing of the name became HTML
    hover = panel.locator("g.zw-curve title").nth(0).text_content()
    assert hover is not None and hover.startswith(f"{NAME}: 1e-05 at step 5")
    panel.locator(".zw-curves-log").click()
    expect(charts.nth(0)).to_have_attribute("aria-label", f"{NAME} over step (log scale)")


def _check_overlay(page: Page) -> None:
    from playwright.sync_api import expect

    explorer = page.locator(".zw-explorer").nth(1)
    explorer.locator(".zw-runs-table-toggle").click()
    grid = explorer.locator(".zw-grid")
    grid.locator("tr.zw-grid-row[data-name]").first.wait_for(timeout=30_000)
    overlay = explorer.locator(".zw-runs-overlay")
    legend = overlay.locator(".zw-legend-item")
    expect(legend).to_have_count(4)  # every run is in view: reported by the page
    assert legend.all_text_contents() == ["<r3>", "<r2>", "<r1>", "<r0>"]
    titles = overlay.locator("g.zw-curve title").all_text_contents()
    assert [t.split(":")[0] for t in titles] == ["<r3>", "<r2>", "<r1>", "<r0>"]
    grid.locator('tr.zw-grid-row[data-name="<r1>"] td').nth(1).click(modifiers=["Control"])
    expect(grid.locator("tr.zw-marked")).to_have_attribute("data-name", "<r1>")
    overlay.locator(".zw-overlay-runs button", has_text="marked runs").click()
    expect(legend).to_have_count(1)
    expect(legend).to_have_text("<r1>")


def _check_cell(page: Page) -> None:
    from playwright.sync_api import expect

    output = page.locator(".jp-OutputArea-output .zw-curves").last
    linear, log = output.locator(".zw-linear"), output.locator(".zw-logscale")
    expect(linear).to_be_visible()
    expect(log).to_be_hidden()
    output.locator("label", has_text="log scale").click()
    expect(linear).to_be_hidden()
    expect(log).to_be_visible()
    assert output.locator(".zw-legend-item").all_text_contents() == ["<r3>", "<r2>", "<r1>", "<r0>"]
