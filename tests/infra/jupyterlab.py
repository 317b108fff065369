"""A private JupyterLab 4 or Notebook 7 server for browser tests, and helpers to drive its
notebooks.

Every server gets its own config, data, runtime and IPython folders and a free loopback port,
so tests never touch the user's Jupyter set-up or each other. ``Lab(..., app="notebook")``
serves Notebook 7 instead of JupyterLab; ``theme="JupyterLab Dark"`` starts either in that
theme. Both expose the application to the page (``window.jupyterapp``), so that tests can run
its commands (``run_all_cells``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


APPS = {"lab": "JupyterLab 4", "notebook": "Notebook 7"}
DARK = "JupyterLab Dark"


def _write_settings(path: Path, values: dict[str, object]) -> None:
    path = path.with_name(path.name + ".jupyterlab-settings")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))


class Lab:
    """A JupyterLab (``app="lab"``) or Notebook 7 (``app="notebook"``) server of this test."""

    def __init__(
        self, root: Path, home: Path, *, app: str = "lab", theme: str | None = None
    ) -> None:
        for folder in ("config", "data", "runtime", "ipython"):
            (home / folder).mkdir(parents=True, exist_ok=True)
        settings = home / "config" / "lab" / "user-settings" / "@jupyterlab"
        # Every cell laid out, also those out of view (measurements need their boxes).
        _write_settings(settings / "notebook-extension" / "tracker", {"windowingMode": "none"})
        _write_settings(settings / "apputils-extension" / "notification", {"fetchNews": "false"})
        if theme is not None:
            _write_settings(settings / "apputils-extension" / "themes", {"theme": theme})
        self.app = app
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
            [sys.executable, "-m", "jupyter", app, *self._arguments(root)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=root,
        )  # fmt: skip
        self.log_path = home / "lab.log"

    def _arguments(self, root: Path) -> list[str]:
        common = [
            "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={root}",
        ]  # fmt: skip
        if self.app == "notebook":
            return [*common, "--JupyterNotebookApp.expose_app_in_browser=True"]
        return [
            *common, "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip

    def notebook_url(self, name: str) -> str:
        """The page of notebook ``name`` in this front end."""
        return self.url(f"notebooks/{name}" if self.app == "notebook" else f"lab/tree/{name}")

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


def write_notebook(path: Path, cells: Sequence[str]) -> None:
    """A notebook of code ``cells`` for the python3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@contextmanager
def serve_notebook(
    root: Path,
    name: str,
    cells: Sequence[str],
    *,
    home: Path | None = None,
    app: str = "lab",
    theme: str | None = None,
) -> Iterator[Lab]:
    """Write notebook ``name`` with code ``cells`` into ``root`` and serve ``root`` with a Lab
    (or Notebook 7: ``app="notebook"``), its Jupyter dirs in ``home`` (default: ``jupyter``
    beside ``root``). This process's stores are closed first: the kernel reads the history
    written here as a new process would."""
    from zenml_widgets.stack import forget_metadata_stores

    forget_metadata_stores()
    write_notebook(root / name, cells)
    home = home if home is not None else root.parent / "jupyter"
    server = Lab(root, home, app=app, theme=theme)
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


def wait_for_idle_kernel(page: Page, timeout: float = 90) -> None:
    """Wait until the page's notebook has a kernel and it is idle (JupyterLab and Notebook 7:
    asked of the application the page exposes)."""
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const panel = app && app.shell.currentWidget;
            const kernel = panel && panel.sessionContext && panel.sessionContext.session
                && panel.sessionContext.session.kernel;
            return !!kernel && kernel.status === "idle" && kernel.connectionStatus === "connected";
        }""",
        timeout=timeout * 1000,
    )


def run_all_cells(page: Page, timeout: float = 180) -> None:
    """Run every cell of the open notebook and wait until each has run (its prompt numbered)
    and the kernel is idle again."""
    wait_for_idle_kernel(page)
    wait_for_command(page, "notebook:run-all-cells")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll(
                '.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
            return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:?$/.test(p));
        }""",
        timeout=timeout * 1000,
    )
    wait_for_idle_kernel(page, timeout)


def wait_for_command(page: Page, command: str, timeout: float = 60) -> None:
    """Wait until the page's application has ``command`` (plugins register theirs as they
    start)."""
    page.wait_for_function(
        "(c) => window.jupyterapp && window.jupyterapp.commands.hasCommand(c)",
        arg=command,
        timeout=timeout * 1000,
    )
