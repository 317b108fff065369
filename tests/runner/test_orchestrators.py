"""Orchestrators as plug-ins: the orchestrator table, third-party orchestrators installed through
real entry points (a ``*.dist-info`` folder on ``sys.path``), and options checked when a stack is
registered.

The toy orchestrator of docs/ARCHITECTURE.md and the one of README.md are taken
from their code blocks, installed and run here, so both stay true.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zenml_widgets import orchestration, pipeline, step
from zenml_widgets.cli import main
from zenml_widgets.exceptions import (
    OrchestratorError,
    OrchestratorOptionError,
    ZenMLWidgetsError,
)
from zenml_widgets.orchestration import BUILTIN, DASK_OPTIONS
from zenml_widgets.orchestration.options import MemorySizeOption, parse_memory_size
from zenml_widgets.repository import Repository
from zenml_widgets.runner.orchestrators import Orchestrator

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
README = ROOT / "README.md"


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(), flags=re.S | re.M)


def doc_plugin() -> tuple[str, dict[str, str]]:
    """The toy orchestrator's module and entry points, as the architecture doc gives them (the
    doc's only blocks that define ``ToyOrchestrator`` and use the entry-point group)."""
    [source] = [b for b in code_blocks(DOC, "python") if "class ToyOrchestrator(" in b]
    [toml] = [b for b in code_blocks(DOC, "toml") if orchestration.GROUP in b]
    points = tomllib.loads(toml)["project"]["entry-points"]["zenml_widgets.orchestrators"]
    return source, points


def readme_plugin() -> tuple[str, dict[str, str]]:
    """The README's orchestrator example and the entry point its comment gives."""
    [source] = [b for b in code_blocks(README, "python") if "zenml_widgets.orchestrators" in b]
    points = dict(re.findall(r'^#\s+(\w+) = "([\w.]+:\w+)"$', source, flags=re.M))
    return source, points


Install = Callable[..., Path]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Installs a distribution into a folder on ``sys.path``: ``install(dist, modules,
    entry_points)`` writes ``{dist}-0.1.dist-info/`` (METADATA, entry_points.txt) and the
    modules (name -> source). Returns the folder."""
    folder = tmp_path / "site"
    folder.mkdir()
    modules: list[str] = []

    def install(dist: str, sources: dict[str, str], points: dict[str, str]) -> Path:
        info = folder / f"{dist.replace('-', '_')}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        lines = [f"{name} = {target}" for name, target in points.items()]
        group = f"[{orchestration.GROUP}]\n"
        (info / "entry_points.txt").write_text(group + "\n".join(lines) + "\n")
        for module, source in sources.items():
            (folder / f"{module}.py").write_text(source)
            modules.append(module)
        orchestration.forget_entry_points()
        return folder

    monkeypatch.syspath_prepend(str(folder))
    yield install
    orchestration.forget_entry_points()
    for module in modules:
        sys.modules.pop(module, None)


# --- a pipeline with two independent branches ------------------------------------------------


@step
def origin() -> int:
    return 2


@step
def times(x: int, factor: int = 2) -> int:
    return x * factor


@step
def total(a: int, b: int) -> int:
    return a + b


@pipeline
def diamond(origin, left, right, total):
    x = origin()
    total(a=left(x=x), b=right(x=x))


def make_diamond() -> Any:
    return diamond(origin=origin(), left=times(), right=times(factor=3), total=total())


def register_args(root: Path, name: str, *options: str, orchestrator: str = "dask") -> list[str]:
    args = ["-R", str(root), "stack", "register", name, "--metadata-url", f"sqlite:///{name}.db"]
    args += ["--artifact-store", name, "--orchestrator", orchestrator]
    for option in options:
        args += ["--orchestrator-option", option]
    return args


def fresh_python(code: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [*paths, ROOT]))}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


# --- third-party orchestrators ---------------------------------------------------------------


def test_the_documented_toy_orchestrator_runs_a_pipeline(
    tmp_path: Path, install: Install, capsys: pytest.CaptureFixture[str]
) -> None:
    source, points = doc_plugin()
    assert points == {"toy": "toy_orch:ToyOrchestrator"}
    install("toy-orch", {"toy_orch": source}, points)
    root = tmp_path / "repo"
    Repository.init(root)
    journal = tmp_path / "journal.txt"
    args = register_args(root, "play", f"journal={journal}", "pause=0", orchestrator="toy")
    assert main([*args, "--activate"]) == 0
    assert main(register_args(root, "bad", "pause=-1", orchestrator="toy")) == 2
    err = capsys.readouterr().err
    assert "Stack 'bad'" in err and "'pause'" in err and "a number >= 0" in err

    repo = Repository(root)
    assert repo.get_stack("play").config.orchestrator_options == {
        "journal": str(journal),
        "pause": 0,
    }
    run = make_diamond().run(run_name="first", repository=repo)
    assert run.status == "completed"
    assert [s.name for s in run.steps] == ["origin", "left", "right", "total"]
    assert {s.status for s in run.steps} == {"completed"}
    assert run.get_step("total").output.read() == 2 * 2 + 2 * 3
    # The toy ran the ready step listed last first: right before left, as recorded.
    assert journal.read_text().split() == ["origin", "right", "left", "total"]
    assert run.get_step("right").end_time <= run.get_step("left").start_time
    assert run.get_step("total").inputs["b"].producer_step.name == "right"

    again = make_diamond().run(run_name="again", repository=repo)
    assert [s.status for s in again.steps] == ["cached"] * 4
    assert main(["-R", str(root), "stack", "list"]) == 0
    assert "* play: metadata sqlite:///play.db, artifacts play, orchestrator toy journal=" in (
        capsys.readouterr().out
    )


def test_the_readme_orchestrator_runs_a_pipeline(tmp_path: Path, install: Install) -> None:
    source, points = readme_plugin()
    assert points == {"toy": "toy_orch:ToyOrchestrator"}
    install("toy-orch", {"toy_orch": source}, points)
    repo = Repository.init(tmp_path / "repo")
    repo.register_stack(
        "toy",
        "sqlite:///toy.db",
        "toy",
        orchestrator="toy",
        orchestrator_options={"label": 7},  # kept as text, as its StrOption says
        activate=True,
    )
    assert repo.get_stack("toy").config.orchestrator_options == {"label": "7"}
    run = make_diamond().run(repository=repo)
    assert run.status == "completed"
    assert run.get_step("total").output.read() == 10
    assert repo.get_pipeline("diamond").runs[-1].name == run.name


def test_register_help_lists_third_party_orchestrators(
    install: Install, capsys: pytest.CaptureFixture[str]
) -> None:
    source, points = doc_plugin()
    folder = install("toy-orch", {"toy_orch": source}, points)
    with pytest.raises(SystemExit) as exit_:
        main(["stack", "register", "--help"])
    assert exit_.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "toy: Runs one step at a time in the calling process" in shown
    assert "toy: journal (text): a file to which each step's name is added" in shown
    assert "pause (a number >= 0)" in shown

    # The same from a new process, which finds the distribution itself.
    code = "from zenml_widgets.cli import main; main(['stack', 'register', '--help'])"
    proc = fresh_python(code, folder)
    assert proc.returncode == 0, proc.stderr
    shown = " ".join(proc.stdout.split())
    assert "local: one step after another" in shown and "dask: steps as tasks" in shown
    assert "toy: Runs one step at a time" in shown and "journal (text)" in shown


def test_a_broken_entry_point_is_named_when_used_never_at_import(
    tmp_path: Path, install: Install, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = install("broken-orch", {}, {"broken": "no_such_module:Nope"})
    probe = (
        "import sys, zenml_widgets, zenml_widgets.runner; from zenml_widgets.cli import "
        "build_parser; build_parser().parse_args(['stack', 'register', 'x', '--metadata-url', "
        "'u', '--artifact-store', 'a', '--orchestrator', 'dask']); "
        "print(sorted(m for m in ('importlib.metadata', 'dask', 'distributed') "
        "if m in sys.modules))"
    )
    proc = fresh_python(probe, folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"  # entry points unread, Dask not imported

    assert "broken" in orchestration.orchestrator_names()
    repo = Repository.init(tmp_path / "repo")
    with pytest.raises(OrchestratorError) as e:
        repo.register_stack("b", "sqlite:///b.db", "b", orchestrator="broken")
    for part in ("'broken'", "broken = no_such_module:Nope", "broken-orch 0.1", "ModuleNotFound"):
        assert part in str(e.value)
    assert orchestration.GROUP in str(e.value)
    assert "b" not in Repository(repo.root).stacks

    assert main(register_args(repo.root, "b", orchestrator="broken")) == 1
    assert "broken = no_such_module:Nope" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["stack", "register", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "broken: The orchestrator 'broken' (entry point 'broken = no_such_module:Nope'" in shown
    assert "dask: address" in shown  # the others are still described


IMPOSTOR = '''
class Impostor:
    """Has an orchestrator's attributes but is not one."""

    NAME = "impostor"
    OPTIONS = {}
'''


def test_an_entry_point_that_is_not_an_orchestrator_is_refused(
    tmp_path: Path, install: Install
) -> None:
    source, _ = doc_plugin()
    install(
        "odd-orch",
        {"impostor_orch": IMPOSTOR, "toy_orch": source},
        {"impostor": "impostor_orch:Impostor", "renamed": "toy_orch:ToyOrchestrator"},
    )
    repo = Repository.init(tmp_path / "repo")
    with pytest.raises(OrchestratorError, match=r"'renamed' \(entry point .*NAME is 'toy'"):
        repo.register_stack("r", "sqlite:///r.db", "r", orchestrator="renamed")
    repo.register_stack("i", "sqlite:///i.db", "i", orchestrator="impostor")
    with pytest.raises(OrchestratorError, match=r"not a subclass of .*Orchestrator") as e:
        make_diamond().run(repository=repo, stack_key="i")
    assert "odd-orch 0.1" in str(e.value)
    assert repo.get_pipelines() == []  # refused before anything was recorded


def test_a_builtin_name_wins_over_an_entry_point(install: Install) -> None:
    source, _ = doc_plugin()
    install("toy-orch", {"toy_orch": source}, {"dask": "toy_orch:ToyOrchestrator"})
    with pytest.warns(UserWarning, match=r"'dask' is built in; the entry point 'dask = toy_orch"):
        names = orchestration.orchestrator_names()
    assert names == ["local", "dask"]
    assert orchestration.get_orchestrator("dask") is BUILTIN["dask"]
    assert "toy_orch" not in sys.modules


# --- the table -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BUILTIN))
def test_each_builtin_row_and_its_class_agree(name: str) -> None:
    entry = BUILTIN[name]
    cls = entry.load()
    assert issubclass(cls, Orchestrator)
    assert name == cls.NAME
    assert cls.OPTIONS is entry.options
    assert entry.summary == cls.SUMMARY


def test_reading_the_table_imports_neither_orchestrators_nor_dask() -> None:
    code = (
        "import sys; from zenml_widgets import orchestration as o; "
        "o.BUILTIN['dask'].check('s', {'n_workers': '2', 'memory_limit': '4GB'}); "
        "o.describe_options(); o.describe_orchestrators(); "
        "print(sorted(m for m in ('zenml_widgets.runner', 'dask', 'distributed', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    proc = fresh_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_help_and_readme_list_every_dask_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["stack", "register", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    readme = README.read_text()
    for name, option in DASK_OPTIONS.items():
        assert f"{name} ({option.accepts}): {option.help}" in shown
        assert f"| `{name}` |" in readme


def test_an_unknown_orchestrator_is_refused_listing_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Repository.init(tmp_path / "repo")
    with pytest.raises(ZenMLWidgetsError, match=r"Unknown orchestrator 'dsak' for stack 'x'.*"):
        repo.register_stack("x", "sqlite:///x.db", "x", orchestrator="dsak")
    with pytest.raises(ZenMLWidgetsError, match=r"Did you mean 'dask'\?"):
        repo.register_stack("x", "sqlite:///x.db", "x", orchestrator="dsak")
    with pytest.raises(SystemExit) as e:
        main(register_args(repo.root, "x", orchestrator="spark"))
    assert e.value.code == 2
    assert "invalid choice: 'spark' (choose from 'local', 'dask'" in capsys.readouterr().err


# --- options checked at registration ---------------------------------------------------------

REFUSED = [
    ({"n_workers": "abc"}, "n_workers", "a whole number >= 1"),
    ({"n_workers": 0}, "n_workers", "a whole number >= 1"),
    ({"n_workers": -1}, "n_workers", "a whole number >= 1"),
    ({"n_workers": 2.5}, "n_workers", "a whole number >= 1"),
    ({"threads_per_worker": "abc"}, "threads_per_worker", "a whole number >= 1"),
    ({"threads_per_worker": 0}, "threads_per_worker", "a whole number >= 1"),
    ({"timeout": "abc"}, "timeout", "a number > 0"),
    ({"timeout": 0}, "timeout", "a number > 0"),
    ({"timeout": -3}, "timeout", "a number > 0"),
    ({"memory_limit": "lots"}, "memory_limit", "'auto', a number of bytes, a size such as '4GB'"),
    ({"memory_limit": "-4GB"}, "memory_limit", "'auto', a number of bytes"),
    ({"address": "http://scheduler:8786"}, "address", "tcp://, tls://, inproc://, ws://, wss://"),
    ({"address": "tcp://scheduler"}, "address", "followed by host:port"),
    ({"address": "tcp://scheduler:99999"}, "address", "followed by host:port"),
    ({"address": ""}, "address", "a bare host:port for tcp://"),
    ({"address": "tcp://h:8786", "n_workers": 2}, "n_workers", "cannot be given together"),
    ({"address": "h:8786", "threads_per_worker": 2}, "threads_per_worker", "cannot be given"),
    ({"address": "h:8786", "memory_limit": "4GB"}, "memory_limit", "cannot be given together"),
]


def _ids(case: tuple[dict[str, Any], str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in case[0].items())


@pytest.mark.parametrize("case", REFUSED, ids=_ids)
def test_bad_option_values_are_refused_naming_stack_and_option(
    tmp_path: Path, case: tuple[dict[str, Any], str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    options, option, accepted = case
    repo = Repository.init(tmp_path / "repo")
    before = (repo.root / ".zen" / "config.json").read_text()
    with pytest.raises(OrchestratorOptionError) as e:
        repo.register_stack("cluster", "sqlite:///c.db", "c", orchestrator="dask",
                            orchestrator_options=options)  # fmt: skip
    message = str(e.value)
    assert message.startswith("Stack 'cluster': ")
    assert f"'{option}'" in message and accepted in message
    assert (repo.root / ".zen" / "config.json").read_text() == before
    assert not (repo.root / "c.db").exists()

    cli_options = [f"{k}={v}" for k, v in options.items()]
    assert main(register_args(repo.root, "cluster", *cli_options)) == 2
    err = capsys.readouterr().err
    assert "Stack 'cluster'" in err and f"'{option}'" in err and accepted in err
    assert "cluster" not in Repository(repo.root).stacks


ACCEPTED: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"n_workers": "4", "threads_per_worker": 2}, {"n_workers": 4, "threads_per_worker": 2}),
    ({"n_workers": 3.0}, {"n_workers": 3}),
    ({"timeout": "2.5"}, {"timeout": 2.5}),
    ({"timeout": 0.1}, {"timeout": 0.1}),
    *(
        ({"memory_limit": m}, {"memory_limit": m})
        for m in ("auto", 4_000_000_000, "4GB", "512MiB", "4 gb", "2G", 0.5, 1, 0, "0.25")
    ),
    *(
        ({"address": a, "timeout": 5}, {"address": a, "timeout": 5})
        for a in (
            "tcp://127.0.0.1:8786",
            "127.0.0.1:8786",
            "scheduler.internal:8786",
            "tls://scheduler:8786",
            "tcp://[::1]:8786",
            "ws://scheduler:8786",
            "wss://scheduler:8786",
            "ucx://10.0.0.1:13337",
            "inproc://10.0.0.1/4242/1",
        )
    ),
]


@pytest.mark.parametrize(
    ("options", "kept"), ACCEPTED, ids=[_ids((o, "", "")) for o, _ in ACCEPTED]
)
def test_good_option_values_are_kept_converted(
    tmp_path: Path, options: dict[str, Any], kept: dict[str, Any]
) -> None:
    repo = Repository.init(tmp_path / "repo")
    stack = repo.register_stack("c", "sqlite:///c.db", "c", orchestrator="dask",
                                orchestrator_options=options, validate=False)  # fmt: skip
    assert stack.config.orchestrator_options == kept
    assert Repository(repo.root).get_stack("c").config.orchestrator_options == kept


UNITS = ["", "b", "k", "kb", "kib", "ki", "m", "mb", "mib", "g", "gb", "gib", "t", "tb", "p", "pib"]


@given(
    number=st.one_of(st.integers(0, 10**6).map(str), st.floats(0, 1e6).map(repr), st.just("")),
    space=st.sampled_from(["", " "]),
    unit=st.sampled_from([*UNITS, "x", "bytes", "gg"]).flatmap(
        lambda u: st.sampled_from([u, u.upper(), u.capitalize()])
    ),
)
def test_memory_sizes_read_as_dask_reads_them(number: str, space: str, unit: str) -> None:
    from dask.utils import parse_bytes

    text = number + space + unit
    try:
        expected: int | None = parse_bytes(text)
    except ValueError:
        expected = None
    try:
        got: int | None = parse_memory_size(text)
    except ValueError:
        got = None
    assert got == expected, text


@given(st.text(alphabet="0123456789.eE+- kKmMgGiIbBauto", max_size=8))
def test_memory_size_option_accepts_what_dask_parses(text: str) -> None:
    from dask.utils import parse_bytes

    try:
        dask_reads = text == "auto" or parse_bytes(text) >= 0
    except (ValueError, OverflowError):
        dask_reads = False
    try:
        MemorySizeOption("m").coerce(text)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == dask_reads, text


# --- stacks already in .zen/config.json ------------------------------------------------------


def test_a_bad_stack_in_the_config_is_reported_when_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Stacks registered when they were fine, then edited by hand (or by another version).
    repo = Repository.init(tmp_path / "repo")
    path = repo.root / ".zen" / "config.json"
    broken = {
        "bad": ("dask", {"n_workers": "abc"}),
        "both": ("dask", {"address": "tcp://h:1", "n_workers": 2}),
        "gone": ("spark", {}),
    }
    for name in broken:
        repo.register_stack(name, f"sqlite:///{name}.db", name)
    config = json.loads(path.read_text())
    for name, (orchestrator, options) in broken.items():
        config["stacks"][name]["orchestrator"] = orchestrator
        config["stacks"][name]["orchestrator_options"] = options
    path.write_text(json.dumps(config))

    make_diamond().run(run_name="fine", repository=repo.root)  # the active stack still runs
    assert main(["-R", str(repo.root), "runs"]) == 0
    assert "fine  completed" in capsys.readouterr().out
    assert main(["-R", str(repo.root), "stack", "list"]) == 0
    listed = {line.split(":")[0].strip("* "): line for line in capsys.readouterr().out.splitlines()}
    assert "cannot run pipelines" not in listed["default"]
    assert "[cannot run pipelines: Stack 'bad': option 'n_workers'" in listed["bad"]
    assert "'address' and 'n_workers'" in listed["both"]
    assert "Unknown orchestrator 'spark' for stack 'gone'" in listed["gone"]

    with pytest.raises(OrchestratorOptionError, match=r"Stack 'bad': option 'n_workers'.*'abc'"):
        make_diamond().run(repository=repo.root, stack_key="bad")
    with pytest.raises(ZenMLWidgetsError, match=r"Unknown orchestrator 'spark' for stack 'gone'"):
        make_diamond().run(repository=repo.root, stack_key="gone")
    assert Repository(repo.root).get_pipelines("bad") == []  # refused before recording

    # Changing the config keeps the bad stacks as they were written, to be fixed by hand.
    assert main(register_args(repo.root, "more", orchestrator="local")) == 0
    saved = json.loads(path.read_text())["stacks"]
    assert saved["bad"]["orchestrator_options"] == {"n_workers": "abc"}
    assert saved["gone"]["orchestrator"] == "spark"
