"""The zenml-widgets command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zenml_widgets.cli import main
from zenml_widgets.repository import Repository


def test_init_and_stack_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert "Created a repository" in capsys.readouterr().out
    config = json.loads((tmp_path / ".zen" / "config.json").read_text())
    assert config["active_stack"] == "default"
    assert config["stacks"]["default"] == {
        "metadata_store_url": "sqlite:///.zen/metadata.db",
        "artifact_store": ".zen/artifacts",
    }
    r = ["-R", str(tmp_path)]
    args = ["--metadata-url", "sqlite:///.zen/b.db", "--artifact-store", ".zen/b"]
    assert main([*r, "stack", "register", "b", *args, "--activate"]) == 0
    assert (tmp_path / ".zen" / "b.db").exists()  # opened (and created) at registration
    assert main([*r, "stack", "list"]) == 0
    assert "* b:" in capsys.readouterr().out
    assert main([*r, "stack", "delete", "b"]) == 1
    assert "active" in capsys.readouterr().err
    assert main([*r, "stack", "set", "default"]) == 0
    assert main([*r, "stack", "delete", "b"]) == 0
    assert list(Repository(tmp_path).stacks) == ["default"]
    assert main([*r, "stack", "set", "nope"]) == 1
    assert "Its stacks are: 'default'" in capsys.readouterr().err


def test_init_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert main(["init", str(tmp_path)]) == 1
    assert "already holds a repository" in capsys.readouterr().err


def test_outside_a_repository_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZENML_WIDGETS_REPOSITORY", raising=False)
    assert main(["-R", str(tmp_path), "runs"]) == 1
    assert "zenml-widgets init" in capsys.readouterr().err


def test_runs_lists_latest_runs(sqlite_repo: Repository) -> None:
    import zw_testing as t

    t.make_training().run(run_name="one", repository=sqlite_repo)
    t.make_training(epochs=2).run(run_name="two", repository=sqlite_repo)
    out = subprocess.run(
        [sys.executable, "-m", "zenml_widgets.cli", "-R", str(sqlite_repo.root), "runs"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = out.splitlines()
    assert lines[0] == "training_pipeline (stack default): 2 runs"
    assert lines[1].split()[:2] == ["two", "completed"]
    assert lines[2].split()[:2] == ["one", "completed"]


def test_gc_reports_what_it_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import time

    assert main(["init", str(tmp_path)]) == 0
    abandoned = tmp_path / ".zen" / "artifacts" / ".tmp" / "abc"
    abandoned.mkdir(parents=True)
    stale = time.time() - 2 * 86400
    os.utime(abandoned, (stale, stale))
    capsys.readouterr()
    assert main(["-R", str(tmp_path), "gc"]) == 0
    out = capsys.readouterr().out
    assert "stack 'default': removed 1 abandoned temporary write folder(s)" in out
    assert str(abandoned) in out and not abandoned.exists()


def test_stack_list_never_prints_a_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path)]) == 0
    url = "postgresql+psycopg://ml:s3cr3t-pw@127.0.0.1:1/history"
    Repository(tmp_path).register_stack("team", url, str(tmp_path / "art"), validate=False)
    capsys.readouterr()
    assert main(["-R", str(tmp_path), "stack", "list"]) == 0
    out = capsys.readouterr().out
    assert "s3cr3t-pw" not in out
    assert "postgresql+psycopg://ml:***@127.0.0.1:1/history" in out


def test_a_failed_register_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    assert main(["init", str(tmp_path)]) == 0
    before = (tmp_path / ".zen" / "config.json").read_text()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there
    url = f"postgresql+psycopg://ml:pw@127.0.0.1:{port}/history"
    args = ["-R", str(tmp_path), "stack", "register", "team", "--metadata-url", url]
    assert main([*args, "--artifact-store", str(tmp_path / "art"), "--activate"]) == 1
    assert f"127.0.0.1:{port}" in capsys.readouterr().err
    assert (tmp_path / ".zen" / "config.json").read_text() == before
    assert list(Repository(tmp_path).stacks) == ["default"]


REGISTER_MANY = """
import sys
from zenml_widgets.repository import Repository
worker = sys.argv[1]
repo = Repository(sys.argv[2])
for i in range(6):
    repo.register_stack(f"w{worker}-{i}", f"sqlite:///w{worker}-{i}.db", f"art-{worker}-{i}",
                        validate=False)
"""


def test_concurrent_registers_keep_every_stack(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    procs = [
        subprocess.Popen([sys.executable, "-c", REGISTER_MANY, str(w), str(tmp_path)])
        for w in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    config = json.loads((tmp_path / ".zen" / "config.json").read_text())
    expected = {"default"} | {f"w{w}-{i}" for w in range(4) for i in range(6)}
    assert set(config["stacks"]) == expected
    assert set(Repository(tmp_path).stacks) == expected
    assert not list((tmp_path / ".zen").glob("*.tmp"))  # no temporary file left behind


# -- papercuts (issue 20) -------------------------------------------------------------------------


def test_runs_says_1_run_not_1_runs(
    sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    import zw_testing as t

    t.make_training().run(run_name="one", repository=sqlite_repo)
    assert main(["-R", str(sqlite_repo.root), "runs"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "training_pipeline (stack default): 1 run"


def test_runs_without_pipelines_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["-R", str(tmp_path), "runs"]) == 0
    assert "No pipelines in any stack" in capsys.readouterr().out
    assert main(["-R", str(tmp_path), "runs", "--stack", "default"]) == 0
    assert "No pipelines in stack 'default'" in capsys.readouterr().out


def test_runs_help_explains_every_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["runs", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "only this pipeline (default: every pipeline)" in text
    assert "the stack whose pipelines to list (default: the active one)" in text
    assert "how many runs per pipeline (default 10)" in text


def test_backfill_progress_ends_full_when_values_exist(
    sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    import zw_testing as t

    t.make_training().run(run_name="one", repository=sqlite_repo)  # values recorded already
    capsys.readouterr()
    assert main(["-R", str(sqlite_repo.root), "backfill-values"]) == 0
    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "3/3" in bar, bar
