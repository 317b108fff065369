"""The rich displays in JupyterLab 4 and Notebook 7, in their dark theme, at 1,200 px (JupyterLab
with its file browser open), measured from computed styles in Chromium:

* text cells align left and number cells right, against the front end's own table rules;
* nothing reaches past its output area, and the DAG and the statistics fit the cell (no
  sideways scrolling); only the runs table scrolls, with its run names sticky;
* every piece of text has a contrast of at least 4.5:1 against what is behind it.

The measurements go to ``test-artifacts/displays-<front end>.json`` (and screenshots beside).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from infra import pagecheck
from infra.jupyterlab import DARK, Lab, run_all_cells, serve_notebook, wait_for_command

from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    "%load_ext zenml_widgets\nfrom zenml_widgets.repository import Repository\n"
    "repo = Repository()\nrepo",
    "pipeline = repo.get_pipeline('daily_features')\npipeline",
    "pipeline.get_run('day-03-strict')",  # a failed run: its error
    "step = pipeline.runs[-2].get_step('build_features')\nstep",
    "step.outputs['features']",  # a DataFrame: shape, dtypes, head
    "repo.get_pipeline('keras_training_pipeline').runs[-1].get_step('trainer').output",
    "pipeline.runs.table(limit=20)",
    "from zenml_widgets.display.dag import PipelineRunDagVisualizer\n"
    "PipelineRunDagVisualizer().visualize(pipeline.runs[-2])",
    "from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (\n"
    "    FacetStatisticsVisualizer,\n)\nquality = repo.get_pipeline('data_quality').runs\n"
    "FacetStatisticsVisualizer().visualize({\n"
    "    'run A': quality[0].get_step('split').outputs['train'],\n"
    "    'run B': quality[-1].get_step('split').outputs['train'],\n})",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    pytest.importorskip("sklearn")
    from zenml_widgets.examples import demo

    root = tmp_path_factory.mktemp("displays") / "demo"
    demo.build(root, days=4, keras_runs=1, quiet=True)
    forget_metadata_stores()
    yield root
    forget_metadata_stores()


def open_notebook(page: Page, server: Lab, name: str) -> None:
    """Open the notebook at 1,200 px, with JupyterLab's file browser open, and run it."""
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(server.notebook_url(name), timeout=60_000)
    if server.app == "lab":
        wait_for_command(page, "filebrowser:activate")
        page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
        page.wait_for_selector(".jp-FileBrowser", state="visible")
    run_all_cells(page, timeout=300)


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_displays_hold_against_the_front_end_in_its_dark_theme(
    app: str, demo_root: Path, tmp_path: Path, chromium_browser: Browser, request: Any
) -> None:
    from infra.browser import browser_page, save_screenshot

    Repository(demo_root)  # it exists
    home = tmp_path / "jupyter"
    notebook = f"displays-{app}.ipynb"
    with (
        browser_page(chromium_browser, request.node.name, width=None) as page,
        serve_notebook(demo_root, home, notebook, CELLS, app=app, theme=DARK) as s,
    ):
        open_notebook(page, s, notebook)
        page.wait_for_selector("svg.zw-dag", timeout=60_000)
        page.wait_for_selector(".zwfs-root", timeout=60_000)
        assert page.evaluate("() => document.body.dataset.jpThemeLight") == "false"
        measured = _measure(page)
        (ARTIFACTS / f"displays-{app}.json").parent.mkdir(exist_ok=True)
        (ARTIFACTS / f"displays-{app}.json").write_text(json.dumps(measured, indent=1))
        save_screenshot(page, f"{request.node.name}")
        _check(measured)
        _check_sticky_names(page)


def _measure(page: Page) -> dict[str, Any]:
    texts = pagecheck.contrast(page)
    lowest = sorted(texts, key=lambda t: t["ratio"])[:5]
    return {
        "alignment": pagecheck.alignment(page),
        "areas": pagecheck.overflow(page),
        "texts": len(texts),
        "lowest contrast": lowest,
    }


def _check(measured: dict[str, Any]) -> None:
    align = measured["alignment"]
    assert align["count"] > 50
    assert align["text"] == ["left"] and align["numbers"] == ["right"], align
    areas = measured["areas"]
    assert len(areas) >= len(CELLS) - 1  # the DAG's cell shows one output (and its repr)
    assert all(a["overflow"] <= 1 for a in areas), areas
    scrolling = [s for a in areas for s in a["scrolling"]]
    # Only the runs table scrolls sideways; the DAG and the statistics fit the cell.
    assert all("zw-scroll" in s["cls"] for s in scrolling), scrolling
    assert measured["texts"] > 200
    assert measured["lowest contrast"][0]["ratio"] >= 4.5, measured["lowest contrast"]


def _check_sticky_names(page: Page) -> None:
    from infra.browser import scroll_right_keeps

    box = page.locator("div.zw-scroll").first
    scroll_right_keeps(page, box, box.locator("tbody tr td").first)
