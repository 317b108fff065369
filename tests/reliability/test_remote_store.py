"""A team store over a network that fails: dropped connections, a server that goes away and
comes back, statements that hang, a read-only role, and passwords that must never show."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import zw_testing as t
from infra.latency_proxy import LatencyProxy

from zenml_widgets.exceptions import StoreError
from zenml_widgets.repository import Repository
from zenml_widgets.stack import forget_metadata_stores

pytestmark = [pytest.mark.postgres]

PASSWORD = "s3cr3t-Pa55"


def conninfo(url: str) -> str:
    return "postgresql://" + url.partition("://")[2]


@pytest.fixture
def team(
    tmp_path: Path, latency_proxy: tuple[str, LatencyProxy]
) -> Iterator[tuple[Path, LatencyProxy, str]]:
    """A repository with three runs on a PostgreSQL stack reached through the proxy; the
    repository root, the proxy and the proxied URL."""
    url, proxy = latency_proxy
    repo = t.make_repo(tmp_path / "repo", url)
    for i in range(3):
        t.make_training(epochs=i + 1).run(run_name=f"run-{i}", repository=repo)
    forget_metadata_stores()
    proxy.wait_idle()
    yield repo.root, proxy, url
    forget_metadata_stores()


def _explorer_on_the_pipeline(root: Path) -> Any:
    """An explorer of the team's store with ``training_pipeline`` selected."""
    from zenml_widgets.widgets import HistoryExplorer

    explorer = HistoryExplorer(Repository(root))
    explorer.ui.pipeline.value = "training_pipeline"
    return explorer


def test_a_dropped_connection_is_reopened_on_the_next_click(
    team: tuple[Path, LatencyProxy, str],
) -> None:
    root, proxy, _ = team
    explorer = _explorer_on_the_pipeline(root)
    proxy.cut()  # the VPN drops
    explorer.ui.run.value = "run-1"
    assert explorer.error == "" and explorer.state.run is not None
    assert [s.name for s in explorer.state.run.steps] == ["importer", "trainer", "evaluator"]


def test_a_store_that_goes_away_says_so_and_comes_back(
    team: tuple[Path, LatencyProxy, str],
) -> None:
    root, proxy, _ = team
    explorer = _explorer_on_the_pipeline(root)
    proxy.refusing = True
    proxy.cut()  # the database restarts
    explorer.ui.run.value = "run-2"
    host = f"127.0.0.1:{proxy.port}"
    assert f"The metadata store at {host} is unreachable" in explorer.error
    assert "unreachable" in explorer.ui.message.value and "⟳ refresh" in explorer.ui.message.value
    proxy.refusing = False  # it is back: no kernel restart needed
    explorer.ui.refresh.click()
    explorer.ui.run.value = "run-0"
    assert explorer.error == "" and explorer.state.run is not None
    assert explorer.state.run.name == "run-0"


def test_a_statement_that_hangs_is_cancelled(team: tuple[Path, LatencyProxy, str]) -> None:
    root, _, url = team
    repo = Repository(root)
    repo.register_stack(
        "impatient", url, str(root / "team-artifacts"),
        metadata_store_options={"statement_timeout": 1},
    )  # fmt: skip
    pipeline = repo.get_pipeline("training_pipeline", stack_key="impatient")
    holder = psycopg.connect(conninfo(url))
    try:
        holder.execute("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")  # a transaction holds it
        started = time.monotonic()
        with pytest.raises(StoreError, match="statement timeout"):
            pipeline.runs[-1]
        assert time.monotonic() - started < 10
    finally:
        holder.rollback()
        holder.close()
    assert pipeline.runs[-1].name == "run-2"  # the lock is gone: the same store reads again


def test_stack_options_of_the_metadata_store_are_checked(tmp_path: Path) -> None:
    from zenml_widgets import cli

    repo = t.make_repo(tmp_path / "repo")
    with pytest.raises(Exception, match=r"statement_timeout=0.*is not valid"):
        repo.register_stack(
            "x", "sqlite:///x.db", "art", metadata_store_options={"statement_timeout": 0}
        )
    with pytest.raises(Exception, match="unknown metadata store option 'timeout'"):
        repo.register_stack("y", "sqlite:///y.db", "art", metadata_store_options={"timeout": 3})
    code = cli.main([
        "-R", str(repo.root), "stack", "register", "z", "--metadata-url", "sqlite:///z.db",
        "--artifact-store", "art", "--metadata-store-option", "statement_timeout=2.5",
    ])  # fmt: skip
    assert code == 0
    assert Repository(repo.root).get_stack("z").config.metadata_store_options == {
        "statement_timeout": 2.5
    }


VIEWER_GRANTS = """
CREATE ROLE viewer LOGIN PASSWORD '{password}';
GRANT CONNECT ON DATABASE {database} TO viewer;
GRANT USAGE ON SCHEMA public TO viewer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO viewer;
"""


@pytest.fixture
def viewer(
    team: tuple[Path, LatencyProxy, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Repository, str]]:
    """The team's history browsed by a role that may only SELECT, whose URL (with a password)
    comes from the environment: the repository and the URL's password."""
    root, _, url = team
    database = url.rpartition("/")[2]
    with psycopg.connect(conninfo(url), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS viewer")
        for statement in VIEWER_GRANTS.format(password=PASSWORD, database=database).split(";"):
            if statement.strip():
                admin.execute(statement)
    head, _, rest = url.partition("://")
    monkeypatch.setenv("TEAM_VIEWER_URL", f"{head}://viewer:{PASSWORD}@{rest.partition('@')[2]}")
    repo = Repository(root)
    repo.register_stack(
        "browse", "env:TEAM_VIEWER_URL", str(root / "team-artifacts"), activate=True
    )
    yield Repository(root), PASSWORD
    forget_metadata_stores()
    with psycopg.connect(conninfo(url), autocommit=True) as admin:
        admin.execute("DROP OWNED BY viewer")
        admin.execute("DROP ROLE viewer")


def test_a_read_only_role_browses_everything(viewer: tuple[Repository, str]) -> None:
    from zenml_widgets.widgets import HistoryExplorer

    repo, _ = viewer
    explorer = HistoryExplorer(repo).select("training_pipeline", "run-1", "trainer", "output")
    assert explorer.error == "" and explorer.state.output is not None
    frame = repo.get_pipeline("training_pipeline").runs.to_dataframe(sort="trainer.epochs")
    assert frame["name"].tolist() == ["run-2", "run-1", "run-0"]
    run = repo.get_pipeline("training_pipeline").runs[-1]
    assert run._repr_mimebundle_()["text/html"]
    assert isinstance(run.steps[1].output.read(), float)
    out = subprocess.run(
        [sys.executable, "-m", "zenml_widgets.cli", "-R", str(repo.root), "runs"],
        capture_output=True, text=True, env=os.environ, check=True,
    )  # fmt: skip
    assert "run-2" in out.stdout


def test_a_read_only_role_cannot_write_and_is_told_why(viewer: tuple[Repository, str]) -> None:
    repo, _ = viewer
    with pytest.raises(StoreError) as info:
        t.make_training(epochs=9).run(run_name="nope", repository=repo)
    message = str(info.value)
    assert "role 'viewer'" in message and "permission denied" in message
    assert "only read history (SELECT)" in message and "INSERT" in message


def test_passwords_never_show(
    viewer: tuple[Repository, str], team: tuple[Path, LatencyProxy, str],
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from zenml_widgets import cli
    from zenml_widgets.widgets import HistoryExplorer

    repo, password = viewer
    _, proxy, _ = team
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    stack = repo.active_stack
    shown += [repr(repo), repr(stack), repr(stack.metadata_store), str(stack.config)]
    explorer = HistoryExplorer(repo).select("training_pipeline", "run-0")
    shown += [repr(explorer.state.run), explorer.ui.preview.value, explorer.code]
    try:
        t.make_training(epochs=9).run(run_name="nope", repository=repo)
    except StoreError as e:
        shown += [str(e), repr(e), str(e.original)]
    proxy.refusing = True
    proxy.cut()
    explorer.ui.run.value = "run-2"
    shown += [explorer.error, explorer.ui.message.value]
    try:
        forget_metadata_stores()
        Repository(repo.root).get_pipeline("training_pipeline")
    except StoreError as e:
        shown += [str(e), repr(e), str(e.original)]
    proxy.refusing = False
    cli.main(["-R", str(repo.root), "stack", "list"])
    captured = capsys.readouterr()
    shown += [captured.out, captured.err, caplog.text]
    assert any("unreachable" in s for s in shown)
    leaks = [s for s in shown if password in s]
    assert leaks == []
