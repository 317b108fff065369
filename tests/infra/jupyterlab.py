"""A private JupyterLab server for browser tests, and helpers to drive its notebooks.

Every server gets its own config, data, runtime and IPython folders and a free loopback port,
so tests never touch the user's Jupyter set-up or each other.
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


@contextmanager
def serve_notebook(root: Path, home: Path, name: str, cells: Sequence[str]) -> Iterator[Lab]:
    """Write notebook ``name`` with code ``cells`` into ``root`` and serve ``root`` with a Lab."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / name)
    server = Lab(root, home)
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
