"""Facets statistics in a default-width JupyterLab 4 notebook at a 1,200 px page width: the
whole table, every histogram and top-values chart included, fits the cell's output area, with no
horizontal scrolling. A screenshot goes to ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from infra.jupyterlab import Lab, serve_notebook, wait_for_kernel

from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL = """\
import numpy as np, pandas as pd
from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (
    FacetStatisticsVisualizer,
)
rng = np.random.default_rng(0)
def frame(n):
    return pd.DataFrame({
        "total_transaction_amount_in_euros_last_quarter": rng.normal(-2.5e9, 7.3e8, n),
        "customer_lifetime_value_estimate_2024": rng.lognormal(12, 3, n),
        "days_since_account_creation": rng.integers(-40_000, 4_000_000, n),
        "merchant_category_description": rng.choice(["groceries and supermarkets", "x"], n),
    })
FacetStatisticsVisualizer().visualize({"training examples": frame(2000), "evaluation": frame(500)})
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    repo = Repository.init(tmp_path / "repo")
    forget_metadata_stores()
    with serve_notebook(repo.root, tmp_path / "jupyter", "stats.ipynb", [CELL]) as server:
        yield server


def test_histograms_are_visible_without_scrolling_at_1200px(
    lab: Lab, chromium_browser: Browser, request: Any
) -> None:
    from infra.browser import browser_page, save_screenshot
    from playwright.sync_api import expect

    with browser_page(chromium_browser, request.node.name) as page:
        page.goto(lab.url("lab/tree/stats.ipynb"), timeout=60_000)
        wait_for_kernel(page)
        page.locator(".jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        charts = page.locator(".jp-OutputArea-output svg.zwfs-chart")
        expect(charts.first).to_be_visible(timeout=60_000)
        save_screenshot(page, request.node.nodeid)

        area = page.locator(".jp-OutputArea-output:has(svg.zwfs-chart)").first.bounding_box()
        assert area is not None
        boxes = [charts.nth(i).bounding_box() for i in range(charts.count())]
        assert len(boxes) >= 4  # a histogram (or top values) per feature and dataset
        outside = [b for b in boxes if b is None or b["x"] + b["width"] > area["x"] + area["width"]]
        assert outside == [], (area, outside)
        assert all(b is not None and b["x"] >= area["x"] for b in boxes)
        assert all(b is not None and b["width"] >= 96 for b in boxes)  # shrunk, but not below
        root = page.locator(".zwfs-root").first
        assert root.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # nothing scrolls
