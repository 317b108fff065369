"""The test infrastructure itself: the PostgreSQL server, per-test databases and Chromium."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser

from infra import browser as browser_infra
from infra.browser import ChromiumNotFoundError, new_offline_context, save_screenshot
from infra.postgres import (
    PostgresNotFoundError,
    PostgresServer,
    PostgresStartError,
    default_parent_dir,
    find_bindir,
)

# --- PostgreSQL ------------------------------------------------------------------------------


def scalar(url: str, query: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query)).scalar()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A server started here even when the session uses ZENML_WIDGETS_TEST_POSTGRES_URL."""
    with PostgresServer.start() as server:
        yield server


@pytest.fixture
def reachable_tmp() -> Iterator[Path]:
    """An empty directory the ``postgres`` OS user can enter (pytest's tmp_path is 0700 as root)."""
    with tempfile.TemporaryDirectory(prefix="zw-infra-test-", dir=default_parent_dir()) as d:
        os.chmod(d, 0o755)
        yield Path(d)


def test_server_accepts_connections(postgres_server: PostgresServer) -> None:
    assert postgres_server.url.startswith("postgresql+psycopg://")
    assert scalar(postgres_server.url, "select 1") == 1


@pytest.mark.postgres
def test_started_server_is_loopback_only_and_not_durable(own_server: PostgresServer) -> None:
    url = sa.make_url(own_server.url)
    assert (url.host, url.username, url.database) == ("127.0.0.1", "postgres", "zenml_widgets_test")
    assert scalar(own_server.url, "show listen_addresses") == "127.0.0.1"
    assert scalar(own_server.url, "select inet_server_addr()::text") == "127.0.0.1/32"
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        assert scalar(own_server.url, f"show {setting}") == "off", setting
    assert own_server.data_dir is not None
    assert scalar(own_server.url, "show unix_socket_directories") == str(own_server.data_dir.parent)


def test_created_databases_are_isolated(postgres_server: PostgresServer) -> None:
    first, second = postgres_server.create_database(), postgres_server.create_database()
    try:
        assert first != second
        engine = sa.create_engine(first)
        with engine.begin() as conn:
            conn.execute(sa.text("create table runs (name text)"))
            conn.execute(sa.text("insert into runs values ('nightly-1')"))
        assert scalar(first, "select count(*) from runs") == 1
        assert not sa.inspect(sa.create_engine(second)).has_table("runs")
        # An engine still holding a connection does not stop the database from being dropped.
        with engine.connect():
            postgres_server.drop_database(first)
        engine.dispose()
        with pytest.raises(sa.exc.OperationalError, match="does not exist"):
            scalar(first, "select 1")
    finally:
        postgres_server.drop_database(first)
        postgres_server.drop_database(second)


def test_postgres_url_is_a_fresh_empty_database(postgres_url: str) -> None:
    assert sa.inspect(sa.create_engine(postgres_url)).get_table_names() == []


def test_store_url(store_url: str, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["store_url"]
    engine = sa.create_engine(store_url)
    assert engine.dialect.name == {"sqlite": "sqlite", "postgres": "postgresql"}[backend]
    with engine.begin() as conn:
        conn.execute(sa.text("create table pipelines (name text)"))
        conn.execute(sa.text("insert into pipelines values ('training')"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("select name from pipelines")).scalar() == "training"
    engine.dispose()


def test_create_database_rejects_names_that_are_not_identifiers(
    postgres_server: PostgresServer,
) -> None:
    with pytest.raises(ValueError, match="not a lowercase SQL identifier"):
        postgres_server.create_database('x"; drop database postgres; --')


@pytest.mark.postgres
def test_stop_shuts_down_and_removes_the_data_dir(reachable_tmp: Path) -> None:
    server = PostgresServer.start(parent_dir=reachable_tmp)
    assert server.data_dir is not None and (server.data_dir / "PG_VERSION").is_file()
    url = server.url
    server.stop()
    assert list(reachable_tmp.iterdir()) == []
    with pytest.raises(sa.exc.OperationalError):
        scalar(url, "select 1")
    server.stop()  # a second stop is harmless


@pytest.mark.postgres
def test_failed_start_shows_the_log_tail_and_cleans_up(reachable_tmp: Path) -> None:
    with pytest.raises(PostgresStartError) as info:
        PostgresServer.start(
            parent_dir=reachable_tmp, settings={"shared_buffers": "'lots'"}, timeout=10
        )
    message = str(info.value)
    assert "did not start" in message
    assert "Last lines of the server log" in message
    assert "shared_buffers" in message  # the server's own complaint, from its log
    assert list(reachable_tmp.iterdir()) == []


def test_missing_binaries_say_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotFoundError, match=r"scripts/install-system-deps\.sh"):
        find_bindir(candidates=[tmp_path])


# --- Browser ---------------------------------------------------------------------------------


def test_chromium_reads_an_offline_data_page(
    chromium_browser: Browser, request: pytest.FixtureRequest
) -> None:
    context = new_offline_context(chromium_browser)
    try:
        page = context.new_page()
        page.goto("data:text/html,<title>infra</title><h1 id=greeting>Hello from a data page</h1>")
        assert page.inner_text("#greeting") == "Hello from a data page"
        outcome = page.evaluate(
            "fetch('http://example.com/').then(() => 'loaded', () => 'blocked')"
        )
        assert outcome == "blocked"
        path = save_screenshot(page, request.node.nodeid)
    finally:
        context.close()
    assert path.parent == browser_infra.ARTIFACTS_DIR
    assert path.name == "tests_infra_test_infra.py_test_chromium_reads_an_offline_data_page.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_chromium_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_infra.shutil, "which", lambda name: None)
    with pytest.raises(ChromiumNotFoundError, match=r"scripts/install-system-deps\.sh"):
        browser_infra.launch_chromium(object())  # type: ignore[arg-type]
