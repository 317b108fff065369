"""``%zenml_history`` in JupyterLab 4, driven by headless Chromium like a user would.

The test starts its own JupyterLab on a free loopback port with private config, data, runtime
and IPython folders, opens a notebook that runs the magic, picks pipeline, run, step and output
in the page, and checks that the preview and the code line follow. A screenshot is kept in
``test-artifacts/``.
"""

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

CELL = "%load_ext zenml_widgets\n%zenml_history"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab serving a repository with two runs and a notebook that runs the magic."""
    repo = Repository.init(tmp_path / "repo")
    t.make_training(epochs=1).run(run_name="first", repository=repo)
    t.make_training(epochs=2, seed=1).run(run_name="second", repository=repo)
    forget_metadata_stores()
    with serve_notebook(repo.root, tmp_path / "jupyter", "explore.ipynb", [CELL]) as server:
        yield server


def test_explorer_in_jupyterlab(lab: Lab, chromium_browser: Browser, request: Any) -> None:
    from infra.browser import browser_page, save_screenshot
    from playwright.sync_api import expect

    with browser_page(chromium_browser, f"{request.node.name}", width=None) as page:
        page.goto(lab.url("lab/tree/explore.ipynb"), timeout=60_000)
        wait_for_kernel(page)
        page.locator(".jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")

        pipeline = dropdown(page, "pipeline")
        expect(pipeline).to_be_visible(timeout=60_000)
        code = (
            page.locator(".widget-text")
            .filter(has=page.locator("label.widget-label", has_text=re.compile("^code$")))
            .locator("input")
        )
        expect(code).to_have_value("Repository()")

        pipeline.select_option(label="training_pipeline")
        expect(code).to_have_value('Repository().get_pipeline("training_pipeline")')
        expect(page.get_by_text("2 runs")).to_be_visible()
        runs = dropdown(page, "run")
        expect(runs.locator("option")).to_have_count(2)
        assert runs.locator("option").first.inner_text().startswith("second")

        runs.select_option(index=1)
        expect(code).to_have_value(
            'Repository().get_pipeline("training_pipeline").get_run("first")'
        )
        # the run preview table (the DAG above it names the entrypoint too, in a tooltip)
        expect(page.locator(".widget-html td").get_by_text("evaluate_model")).to_be_visible()

        dropdown(page, "step").select_option(index=0)
        expect(code).to_have_value(re.compile(r'\.get_step\("importer"\)$'))
        dropdown(page, "output").select_option(index=0)
        expect(code).to_have_value(re.compile(r'\.outputs\["train"\]\.read\(\)$'))
        expect(page.get_by_text("40 rows, 2 columns")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("PandasMaterializer").first).to_be_visible()
        code.scroll_into_view_if_needed()
        shot = save_screenshot(page, request.node.name)
        page.get_by_role("button", name="Statistics").click()
        stats = page.locator(".widget-output").get_by_text("Numeric features")
        expect(stats).to_be_visible(timeout=60_000)
        stats.scroll_into_view_if_needed()
        save_screenshot(page, f"{request.node.name}-statistics")
        assert shot.stat().st_size > 10_000
