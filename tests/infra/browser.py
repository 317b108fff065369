"""Headless Chromium for browser tests, using Debian's ``chromium`` (never Playwright's download).

``launch_chromium`` starts the browser; ``new_offline_context`` gives a context that cannot reach
the network; ``save_screenshot`` keeps a picture of a page under ``test-artifacts/`` for CI;
``browser_page`` joins them for a test: an offline page, pictured if the test fails.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, Route

INSTALL_HINT = (
    "Run `scripts/install-system-deps.sh` (as root) to install the Debian `chromium` package."
)

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts"


class ChromiumNotFoundError(RuntimeError):
    """No ``chromium`` executable on ``PATH``."""


def launch_chromium(playwright: Playwright, *, timeout_ms: float = 30_000) -> Browser:
    """Launch the system's headless Chromium through ``playwright``."""
    executable = shutil.which("chromium")
    if executable is None:
        raise ChromiumNotFoundError(f"No `chromium` executable on PATH. {INSTALL_HINT}")
    return playwright.chromium.launch(
        executable_path=executable,
        headless=True,
        args=list(CHROMIUM_ARGS),
        timeout=timeout_ms,
    )


def new_offline_context(browser: Browser, *, allow_hosts: Iterable[str] = ()) -> BrowserContext:
    """Return a browser context whose pages cannot load anything over the network.

    Requests to ``allow_hosts`` (for example ``"127.0.0.1"`` for a local Jupyter server) still go
    through; everything else is aborted. ``data:`` and ``blob:`` pages always work.
    """
    allowed = frozenset(allow_hosts)
    context = browser.new_context(offline=not allowed)

    def block(route: Route) -> None:
        if urlsplit(route.request.url).hostname in allowed:
            route.continue_()
        else:
            route.abort("internetdisconnected")

    context.route("**/*", block)
    return context


def save_screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG of ``page`` as ``test-artifacts/<name>.png`` and return its path.

    ``name`` is made file-name safe, so a pytest node id (``request.node.nodeid``) works.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "screenshot"
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{safe}.png"
    page.screenshot(path=path, full_page=True)
    return path


@contextmanager
def browser_page(
    browser: Browser, name: str, *, width: int | None = 1200, height: int = 900
) -> Iterator[Page]:
    """A page of a new offline context (only ``127.0.0.1`` reachable), ``width`` x ``height``
    pixels (``None``: Playwright's default size). If the block fails, a full-page screenshot
    ``<name>-failure.png`` is saved first; the context is closed however the block ends."""
    context = new_offline_context(browser, allow_hosts=["127.0.0.1"])
    page = context.new_page()
    if width is not None:
        page.set_viewport_size({"width": width, "height": height})
    try:
        yield page
    except Exception:
        save_screenshot(page, f"{name}-failure")
        raise
    finally:
        context.close()


def scroll_right_keeps(page: Page, scroller: Locator, cell: Locator) -> dict[str, float]:
    """Scroll ``scroller`` all the way right and check that ``cell`` (a sticky first column)
    stayed where it was (within a pixel) while the scroller did scroll; returns the cell's box."""
    before = cell.bounding_box()
    scroller.evaluate("e => { e.scrollLeft = e.scrollWidth }")
    page.wait_for_timeout(200)
    after = cell.bounding_box()
    assert before is not None and after is not None
    assert abs(after["x"] - before["x"]) <= 1, (before, after)  # the sticky cell stayed
    assert scroller.evaluate("e => e.scrollLeft") > 0
    return dict(after)
