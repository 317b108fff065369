"""The run DAG and run comparison of the explorer in JupyterLab 4 and Notebook 7, in headless
Chromium.

The DAG is an anywidget widget: clicking a step node in the picture selects that step (the
code line, step dropdown and SVG outline follow), so does Enter on a step reached with the
keyboard; the picture fits the cell, zooms and pans. Choosing a run to compare with shows the
changed parameters. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import zw_testing as t
from infra.jupyterlab import Lab, dropdown, run_all_cells, serve_notebook, wait_for_kernel

from zenml_widgets import pipeline, step
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL = "%load_ext zenml_widgets\n%zenml_history training_pipeline second"


@pytest.fixture(params=["lab", "notebook"])
def lab(request: Any, tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab 4 or Notebook 7 on a repository with two runs; the notebook opens the
    explorer on 'second'."""
    repo = Repository.init(tmp_path / "repo")
    t.make_training(epochs=1).run(run_name="first", repository=repo)
    t.make_training(epochs=2).run(run_name="second", repository=repo)
    forget_metadata_stores()
    with serve_notebook(
        repo.root, tmp_path / "jupyter", "dag.ipynb", [CELL], app=request.param
    ) as server:
        yield server


def code_line(page: Page) -> Any:
    return (
        page.locator(".widget-text")
        .filter(has=page.locator("label.widget-label", has_text=re.compile("^code$")))
        .locator("input")
    )


def test_clicking_a_dag_node_selects_the_step(
    lab: Lab, chromium_browser: Browser, request: Any
) -> None:
    from infra.browser import browser_page, save_screenshot
    from playwright.sync_api import expect

    name = f"{request.node.name}-{lab.app}"
    with browser_page(chromium_browser, name) as page:
        page.goto(lab.notebook_url("dag.ipynb"), timeout=60_000)
        run_all_cells(page)

        widget = page.locator(".zw-dag-widget")
        svg = widget.locator("svg.zw-dag")
        expect(svg).to_be_visible(timeout=60_000)
        expect(svg.locator("g.zw-dag-step")).to_have_count(3)
        expect(svg.locator('g.zw-dag-step[data-step="importer"]')).to_have_attribute(
            "data-status", "cached"
        )
        expect(svg.get_by_text("was cached from run 'first'")).to_be_visible()
        expect(svg.locator("g.zw-dag-selected")).to_have_count(0)
        view = widget.locator(".zw-dag-view").bounding_box()
        picture = svg.bounding_box()
        assert view is not None and picture is not None
        assert picture["x"] + picture["width"] <= view["x"] + view["width"] + 1  # fits

        svg.locator('g.zw-dag-step[data-step="trainer"] rect').first.click()
        expect(code_line(page)).to_have_value(
            re.compile(r'\.get_run\("second"\)\.get_step\("trainer"\)$')
        )
        expect(svg.locator('g.zw-dag-selected[data-step="trainer"]')).to_have_count(1)
        expect(dropdown(page, "step").locator("option:checked")).to_have_text(
            re.compile("^trainer")
        )

        # The keyboard: Tab reaches the steps, arrows move between them, Enter selects.
        svg.locator('g.zw-dag-step[data-step="importer"]').focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        focused = page.evaluate("() => document.activeElement.getAttribute('data-step')")
        assert focused == "evaluator"
        page.keyboard.press("Enter")
        expect(code_line(page)).to_have_value(re.compile(r'\.get_step\("evaluator"\)$'))

        # Zoom in, then pan by dragging: the picture moves inside its frame.
        fitted = int(widget.locator(".zw-dag-zoom").inner_text().rstrip("%"))
        widget.get_by_role("button", name="Zoom in").click()
        widget.get_by_role("button", name="Zoom in").click()
        zoomed = int(widget.locator(".zw-dag-zoom").inner_text().rstrip("%"))
        assert zoomed > fitted, (fitted, zoomed)
        before = widget.locator(".zw-dag-stage").evaluate("e => e.style.transform")
        box = widget.locator(".zw-dag-view").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 - 150, box["y"] + 10, steps=5)
        page.mouse.up()
        after = widget.locator(".zw-dag-stage").evaluate("e => e.style.transform")
        assert after != before, (before, after)
        widget.get_by_role("button", name="Fit the cell's width").click()
        svg.scroll_into_view_if_needed()
        shot = save_screenshot(page, name)

        compare = dropdown(page, "compare")
        expect(compare.locator("option")).to_have_count(2)  # none, first (not itself)
        compare.select_option(index=1)
        expect(page.get_by_text("Changed parameters")).to_be_visible(timeout=30_000)
        expect(page.locator(".widget-html td", has_text="epochs").first).to_be_visible()
        page.get_by_text("Changed parameters").scroll_into_view_if_needed()
        save_screenshot(page, f"{name}-compare")
        assert shot.stat().st_size > 10_000


@step
def load() -> int:
    """The first of six steps in a row: the widest DAG six steps can make."""
    return 1


@step
def clean(number: int) -> int:
    """One more link of the chain."""
    return number + 1


@step
def featurize(number: int) -> int:
    """One more link of the chain."""
    return number + 1


@step
def train(number: int) -> int:
    """One more link of the chain."""
    return number + 1


@step
def evaluate(number: int) -> int:
    """One more link of the chain."""
    return number + 1


@step
def publish_report(number: int) -> int:
    """The sixth step."""
    return number + 1


@pipeline
def six_steps(load, clean, featurize, train, evaluate, publish_report):
    publish_report(number=evaluate(number=train(number=featurize(number=clean(number=load())))))


WIDE_CELLS = [
    "%load_ext zenml_widgets\n"
    "from zenml_widgets import Repository\n"
    "from zenml_widgets.display.dag import PipelineRunDagVisualizer\n"
    "PipelineRunDagVisualizer().visualize(Repository().get_pipeline('six_steps').runs[-1])",
    "%zenml_history six_steps wide",
]


@pytest.fixture
def wide_lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab on a repository with one run of six steps in a row (a DAG ~2750 px wide)."""
    repo = Repository.init(tmp_path / "repo")
    six_steps(
        load=load(), clean=clean(), featurize=featurize(), train=train(), evaluate=evaluate(),
        publish_report=publish_report(),
    ).run(run_name="wide", repository=repo)  # fmt: skip
    forget_metadata_stores()
    with serve_notebook(repo.root, tmp_path / "jupyter", "wide.ipynb", WIDE_CELLS) as server:
        yield server


def test_a_wide_dag_shrinks_to_fit_its_cell(
    wide_lab: Lab, chromium_browser: Browser, request: Any
) -> None:
    from infra.browser import browser_page, save_screenshot
    from playwright.sync_api import expect

    with browser_page(chromium_browser, f"{request.node.name}", width=None) as page:
        page.goto(wide_lab.url("lab/tree/wide.ipynb"), timeout=60_000)
        wait_for_kernel(page)
        page.locator(".jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        svgs = page.locator("svg.zw-dag")
        expect(svgs).to_have_count(2, timeout=60_000)  # the visualizer's and the explorer's
        for index in range(2):
            svg = svgs.nth(index)
            expect(svg.locator("g.zw-dag-step")).to_have_count(6)
            # the natural size: the viewBox (the widget sets width and height as it zooms)
            _, _, natural, tall = map(float, (svg.get_attribute("viewBox") or "").split())
            container = svg.locator("xpath=..")
            output = svg.locator("xpath=ancestor::*[contains(@class,'jp-OutputArea-output')]")
            box, area = svg.bounding_box(), output.bounding_box()
            outer = container.bounding_box()
            assert box is not None and area is not None and outer is not None
            # smaller than natural size, as wide as the cell, same proportions
            assert box["width"] < natural
            assert box["height"] / box["width"] == pytest.approx(tall / natural, rel=0.02)
            # the container stays inside the cell and needs no scrolling: the last step shows
            assert outer["x"] + outer["width"] <= area["x"] + area["width"] + 1
            assert container.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
            last = svg.locator('g.zw-dag-step[data-step="publish_report"]')
            last_box = last.bounding_box()
            assert last_box is not None
            assert last_box["x"] + last_box["width"] <= outer["x"] + outer["width"] + 1
            svg.scroll_into_view_if_needed()
            save_screenshot(page, f"{request.node.name}-{index}")
