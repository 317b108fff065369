"""``%zenml_history`` in JupyterLab 4, driven by headless Chromium like a user would.

The test starts its own JupyterLab on a free loopback port with private config, data, runtime
and IPython folders, opens a notebook that runs the magic, picks pipeline, run, step and output
in the page, and checks that the preview and the code line follow. A screenshot is kept in
``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
import zw_testing as t

from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL = "%load_ext zenml_widgets\n%zenml_history"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Lab:
    """A JupyterLab server of this test."""

    def __init__(self, root: Path, home: Path) -> None:
        for folder in ("config", "data", "runtime", "ipython"):
            (home / folder).mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "IPYTHONDIR": str(home / "ipython"),
            "ZENML_WIDGETS_AUTOLOAD": "0",  # the notebook loads the extension itself
        }
        env.pop("ZENML_WIDGETS_REPOSITORY", None)
        self.log = (home / "lab.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0", f"--ServerApp.token={self.token}",
                f"--ServerApp.root_dir={root}", "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=root,
        )  # fmt: skip
        self.log_path = home / "lab.log"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"JupyterLab did not start in {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab serving a repository with two runs and a notebook that runs the magic."""
    repo = Repository.init(tmp_path / "repo")
    t.make_training(epochs=1).run(run_name="first", repository=repo)
    t.make_training(epochs=2, seed=1).run(run_name="second", repository=repo)
    forget_metadata_stores()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, repo.root / "explore.ipynb")
    server = Lab(repo.root, tmp_path / "jupyter")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def dropdown(page: Page, name: str) -> Locator:
    """The ``<select>`` of the explorer's dropdown described as ``name``."""
    label = page.locator("label.widget-label", has_text=re.compile(f"^{name}$"))
    return page.locator(".widget-dropdown").filter(has=label).locator("select")


def wait_for_kernel(page: Page) -> None:
    """Wait until the notebook has a kernel, idle (keys sent before that are dropped)."""
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    kernel_name = page.locator(".jp-Toolbar-kernelName").first
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        name = kernel_name.inner_text(timeout=5_000).strip() if kernel_name.count() else ""
        status = page.locator(".jp-Notebook-ExecutionIndicator").first
        idle = status.count() and status.get_attribute("data-status") == "idle"
        if name and name != "No Kernel" and "Connecting" not in name and idle:
            return
        page.wait_for_timeout(300)
    pytest.fail("the notebook's kernel never became idle")


def test_explorer_in_jupyterlab(lab: Lab, chromium_browser: Browser, request: Any) -> None:
    from infra.browser import new_offline_context, save_screenshot
    from playwright.sync_api import expect

    context = new_offline_context(chromium_browser, allow_hosts=["127.0.0.1"])
    page = context.new_page()
    try:
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
    except Exception:
        save_screenshot(page, f"{request.node.name}-failure")
        raise
    finally:
        context.close()
