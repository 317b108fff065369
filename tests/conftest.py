"""Fixtures shared by the whole test suite.

Sections, each self-contained:

* PostgreSQL -- ``postgres_server`` (one server per session) and ``postgres_url`` (a fresh, empty
  database per test). Set ``ZENML_WIDGETS_TEST_POSTGRES_URL`` to use a running server instead.
* Metadata stores -- ``store_url``: a test using it runs once on SQLite and once on PostgreSQL.
* Browser -- ``chromium_browser``: headless Debian Chromium driven by Playwright.

Tests that need PostgreSQL or Chromium get the ``postgres`` / ``browser`` marker automatically, so
``pytest -m "not postgres and not browser"`` is the quick run. When a server or browser is missing
those tests fail (they never skip): run ``scripts/install-system-deps.sh``.

Heavy imports (psycopg, Playwright) happen inside the fixtures, so a run that needs neither does
not need them installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Shared test pipelines and the `repo`, `sqlite_repo` and `count_queries` fixtures.
pytest_plugins = ("zw_testing",)

if TYPE_CHECKING:
    from infra.latency_proxy import LatencyProxy
    from infra.postgres import PostgresServer
    from playwright.sync_api import Browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the real services their fixtures need."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "postgres_server" in fixtures and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)
        if "chromium_browser" in fixtures and item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)


# --- PostgreSQL ------------------------------------------------------------------------------

POSTGRES_URL_ENV = "ZENML_WIDGETS_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session: started here, or the one in the env variable."""
    from infra.postgres import PostgresNotFoundError, PostgresServer, PostgresStartError

    url = os.environ.get(POSTGRES_URL_ENV)
    try:
        server = PostgresServer.connect(url) if url else PostgresServer.start()
    except (PostgresNotFoundError, PostgresStartError) as e:
        source = f"the server in {POSTGRES_URL_ENV}" if url else "a throwaway PostgreSQL server"
        # A failure, not a skip: CI must really test PostgreSQL. `from None` shows the text once.
        raise pytest.fail.Exception(f"Could not use {source}: {e}", pytrace=False) from None
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL of a new, empty PostgreSQL database, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def latency_proxy(postgres_url: str) -> Iterator[tuple[str, LatencyProxy]]:
    """A new PostgreSQL database reached through a ``LatencyProxy`` that counts round trips: the
    URL through the proxy, and the proxy. Each way takes 2 ms, so that statements a client sends
    together (a pipeline) reach the server before its first answer comes back, as they would
    across a real network."""
    from infra.latency_proxy import LatencyProxy

    location = postgres_url.partition("://")[2].rpartition("@")[2].partition("/")[0]
    host, _, port = location.rpartition(":")
    with LatencyProxy(host, int(port), delay=0.002) as proxy:
        yield proxy.url(postgres_url), proxy


# --- Metadata stores -------------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLAlchemy URL of an empty metadata store; the test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/metadata.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


# --- Browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Browser]:
    """Headless Chromium for a module's tests (see ``tests/infra/browser.py`` for the helpers).
    Not for the session: Playwright's sync API keeps an asyncio loop running in the main thread
    while it is open, and tests after the browser's own (a live explorer's ``asyncio.run``)
    need that thread free."""
    from infra.browser import ChromiumNotFoundError, launch_chromium
    from playwright.sync_api import expect, sync_playwright

    # A kernel answers a click in well under a second, but on a loaded 2-core CI machine (a
    # JupyterLab server, its kernel and Chromium beside the suite) it can take several: wait
    # for what a test expects longer than Playwright's 5 s before calling it a failure.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        try:
            browser = launch_chromium(playwright)
        except ChromiumNotFoundError as e:
            raise pytest.fail.Exception(str(e), pytrace=False) from None
        try:
            yield browser
        finally:
            browser.close()
