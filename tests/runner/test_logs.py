"""Step logs on the local orchestrator: what a step prints and logs is kept per attempt in the
artifact store, echoed to the console prefixed with the step's name, and read back as text,
lines and records; bad output loses nothing but what the cap cuts, and says so."""

from __future__ import annotations

import ast
import io
import itertools
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from zw_testing import wait_until

from zenml_widgets import pipeline, step
from zenml_widgets.artifacts.step_logs import log_key
from zenml_widgets.exceptions import StepFailedError
from zenml_widgets.repository import Repository
from zenml_widgets.runner.log_routing import StreamRouter
from zenml_widgets.views import StepView

TESTS = Path(__file__).resolve().parents[1]


@step(enable_cache=False)
def chatty() -> int:
    print("hello from chatty")
    print("to stderr", file=sys.stderr)
    logging.getLogger("my.lib").info("info record %d", 3)
    logging.getLogger("my.lib").debug("below the level")
    try:
        raise KeyError("inner")
    except KeyError:
        logging.getLogger("my.lib").exception("with a traceback")
    sys.stdout.buffer.write(b"bytes \xff\xfe end\n")
    helper = threading.Thread(target=lambda: print("from a thread of the step"))
    helper.start()
    helper.join()
    print("no line break", end="")
    return 3


@step(enable_cache=False)
def quiet(x: int) -> int:
    return x


@pipeline(enable_cache=False)
def talking(chatty, quiet):
    quiet(x=chatty())


def test_a_steps_output_is_kept_in_order_with_its_streams(
    sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    before = time.time()
    run = talking(chatty=chatty(), quiet=quiet()).run(repository=sqlite_repo)
    step_ = run.get_step("chatty")
    text = step_.logs
    assert text.startswith(
        "hello from chatty\nto stderr\nINFO:my.lib:info record 3\nERROR:my.lib:with a traceback\n"
        "Traceback (most recent call last):\n"
    )
    tail = "KeyError: 'inner'\nbytes \\xff\\xfe end\nfrom a thread of the step\nno line break\n"
    assert tail in text
    assert "below the level" not in text
    assert step_.attempts[0].logs == text
    records = step_.log_records()
    assert list(records.columns) == ["time", "stream", "level", "logger", "message"]
    assert list(records["stream"]) == ["stdout", "stderr", "logging", "logging", "stdout",
                                       "stdout", "stdout"]  # fmt: skip
    assert records["level"].tolist()[2:4] == ["INFO", "ERROR"]
    assert records["logger"].tolist()[2] == "my.lib"
    assert records["message"][3].startswith("with a traceback\nTraceback")  # one record
    assert all(before - 1 <= t.timestamp() <= time.time() for t in records["time"])
    assert run.get_step("quiet").logs == ""  # printed nothing: no logs, no files
    out, err = capsys.readouterr()
    assert "[chatty] hello from chatty\n" in out and "[chatty] from a thread of the step\n" in out
    assert "[chatty] to stderr\n" in err and "[chatty] INFO my.lib: info record 3\n" in err


def test_stream_logs_false_prints_nothing_but_keeps_everything(
    sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    run = talking(chatty=chatty(), quiet=quiet()).run(repository=sqlite_repo, stream_logs=False)
    out, err = capsys.readouterr()
    assert "chatty" not in out and "hello" not in out and "to stderr" not in err
    assert run.get_step("chatty").logs.startswith("hello from chatty\n")


class _Text(str):
    pass


@step(enable_cache=False)
def writer() -> str:
    sizes = [sys.stdout.write("abc"), sys.stdout.write(_Text("de\n")), sys.stderr.write("e\n")]
    refused = []
    for stream in (sys.stdout, sys.stderr):
        for bad in (b"bytes", None, 3):
            try:
                stream.write(bad)  # type: ignore[arg-type]
            except TypeError as e:
                refused.append(str(e))
    write = sys.stdout.write  # kept, as some code keeps it
    write("out again\n")
    print("printed", 1, sep=" ", end="\n")
    return repr((sizes, refused))


@pipeline(enable_cache=False)
def writing(writer):
    writer()


def test_a_steps_writes_behave_as_a_real_streams(sqlite_repo: Repository) -> None:
    run = writing(writer=writer()).run(repository=sqlite_repo, stream_logs=False)
    step_ = run.get_step("writer")
    sizes, refused = ast.literal_eval(step_.output.read())  # sizes written, errors raised
    assert sizes == [3, 3, 2]
    real = []
    for bad in (b"bytes", None, 3):
        with pytest.raises(TypeError) as e:
            io.TextIOWrapper(io.BytesIO()).write(bad)  # type: ignore[arg-type]
        real.append(str(e.value))
    assert refused == real * 2
    lines = step_.log_lines()
    assert [(x.stream, x.message) for x in lines] == [
        ("stdout", "abcde"),
        ("stderr", "e"),
        ("stdout", "out again"),
        ("stdout", "printed 1"),
    ]


_kept: dict[str, object] = {}


@step(enable_cache=False)
def keeper() -> int:
    _kept["write"] = sys.stdout.write  # a reference kept past the attempt
    print("in keeper")
    return 1


@step(enable_cache=False)
def reuser(x: int) -> int:
    write = _kept["write"]
    assert callable(write)
    write("kept write, in reuser\n")
    for i in range(2000):  # stdout and stderr interleaved, through the fast and slow paths
        print(f"line {i}", file=sys.stderr if i % 7 == 0 else sys.stdout)
        if i % 500 == 0:
            sys.stdout.buffer.write(b"bytes %d\n" % i)
    return x


@pipeline(enable_cache=False)
def keeping(keeper, reuser):
    reuser(x=keeper())


def test_a_kept_write_goes_where_new_ones_go_and_streams_keep_their_order(
    sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    run = keeping(keeper=keeper(), reuser=reuser()).run(repository=sqlite_repo, stream_logs=False)
    assert run.get_step("keeper").logs == "in keeper\n"
    lines = run.get_step("reuser").log_lines()
    assert lines[0].message == "kept write, in reuser"
    expected = []
    for i in range(2000):
        expected.append(("stderr" if i % 7 == 0 else "stdout", f"line {i}"))
        if i % 500 == 0:
            expected.append(("stdout", f"bytes {i}"))
    assert [(x.stream, x.message) for x in lines[1:]] == expected
    assert all(a.time <= b.time for a, b in itertools.pairwise(lines))
    write = _kept.pop("write")
    assert callable(write)
    capsys.readouterr()
    write("outside any step\n")  # goes to the console, as a new write would
    assert capsys.readouterr().out == "outside any step\n"


def test_an_assigned_stdout_write_is_called_then_given_back_as_ipython_does(
    sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    """IPython wraps ``sys.stdout.write`` around every cell (``stream.write = tee``, then the
    one it read back): steps run inside keep their lines, the wrapper sees each write, and
    once it is given back the router is itself again, fast path and all."""
    from zenml_widgets.runner.log_routing import AssignedWrite, StdoutRouter

    talking(chatty=chatty(), quiet=quiet()).run(repository=sqlite_repo, stream_logs=False)
    router = sys.stdout
    assert type(router) is StdoutRouter  # installed by the run above
    seen: list[str] = []
    original = router.write  # outside a step: the router itself

    def tee(data: str) -> int:
        seen.append(data)
        return int(original(data))

    router.write = tee  # type: ignore[method-assign]
    assert type(sys.stdout) is AssignedWrite and sys.stdout.write is tee
    run = talking(chatty=chatty(), quiet=quiet()).run(repository=sqlite_repo, stream_logs=False)
    print("in the cell, outside a step")
    router.write = original  # type: ignore[method-assign]
    assert type(sys.stdout) is StdoutRouter and sys.stdout.write is router
    assert "hello from chatty\n" in run.get_step("chatty").logs  # kept, through the wrapper
    assert "hello from chatty" in seen and "in the cell, outside a step" in seen
    assert "in the cell, outside a step\n" in capsys.readouterr().out
    again = talking(chatty=chatty(), quiet=quiet()).run(repository=sqlite_repo, stream_logs=False)
    assert again.get_step("chatty").logs == run.get_step("chatty").logs


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_the_echo_shows_each_line_prefixed_on_any_console(
    monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    from zenml_widgets.artifacts.step_logs import MORE, NEW, Block
    from zenml_widgets.runner.capture import echo

    out, err = io.BytesIO(), io.BytesIO()
    console = io.TextIOWrapper(out, encoding=encoding, errors="replace")
    console.write("before\n")  # held by the console, shown first
    monkeypatch.setattr(sys, "stdout", console)
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(err, encoding=encoding))
    echo("stép", [
        Block.of(1.0, "stdout", "", "one\ntwo é"),
        Block.of(1.0, "INFO", "lib", "record\nsecond", NEW, MORE),
        Block.of(1.0, "stdout", "", "three"),
    ])  # fmt: skip
    assert out.getvalue().decode(encoding) == ("before\n[stép] one\n[stép] two é\n[stép] three\n")
    assert err.getvalue().decode(encoding) == "[stép] INFO lib: record\n[stép] second\n"


def test_outside_steps_nothing_changes(
    sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    talking(chatty=chatty(), quiet=quiet()).run(repository=sqlite_repo, stream_logs=False)
    assert root.level == level and root.handlers == handlers  # restored when steps end
    assert isinstance(sys.stdout, StreamRouter)  # installed once, and kept
    print("after the run")
    assert capsys.readouterr().out == "after the run\n"


def test_logging_outside_steps_goes_where_python_sends_it(tmp_path: Path) -> None:
    code = """
        import logging, sys, threading, time
        from zenml_widgets import pipeline, step

        running = threading.Event()

        @step(enable_cache=False)
        def s() -> int:
            running.set()
            logging.getLogger("x").info("inside")
            time.sleep(1)
            return 1

        @pipeline(enable_cache=False)
        def p(s):
            s()

        def other() -> None:  # a thread that is no step's: Python's last resort still speaks
            running.wait()
            logging.getLogger("x").warning("other thread")
            logging.getLogger("x").info("other info")

        threading.Thread(target=other).start()
        p(s=s()).run(repository=sys.argv[1], stream_logs=False)
        logging.getLogger("elsewhere").warning("a warning nobody handles")
        logging.getLogger("elsewhere").info("an info nobody asked for")
        """
    Repository.init(tmp_path / "repo")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(tmp_path / "repo")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "other thread\na warning nobody handles\n"
    step_ = Repository(tmp_path / "repo").get_pipeline("p").runs.newest(1)[0].get_step("s")
    assert step_.logs == "INFO:x:inside\n"


def test_the_level_is_a_stack_option(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo")
    artifacts = str(tmp_path / "artifacts")
    repo.register_stack("debug", repo.active_stack.metadata_url, artifacts,
                        log_options={"level": "debug"}, activate=True)  # fmt: skip
    run = talking(chatty=chatty(), quiet=quiet()).run(repository=repo, stream_logs=False)
    assert "DEBUG:my.lib:below the level\n" in run.get_step("chatty").logs
    with pytest.raises(Exception, match="log option level='loud' is not valid"):
        repo.register_stack("bad", repo.active_stack.metadata_url, artifacts,
                            log_options={"level": "loud"})  # fmt: skip


def test_capture_off_is_a_stack_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = Repository.init(tmp_path / "repo")
    artifacts = str(tmp_path / "artifacts")
    repo.register_stack("plain", repo.active_stack.metadata_url, artifacts,
                        log_options={"capture": False}, activate=True)  # fmt: skip
    run = flood(flooding=flooding(lines=2, width=0)).run(repository=repo)
    out, _ = capsys.readouterr()
    assert "line 0000000 \nline 0000001 \n" in out and "[flooding]" not in out  # as it was
    assert run.get_step("flooding").logs == ""
    with pytest.raises(Exception, match=r"log option capture=.no. is not valid.*true or false"):
        repo.register_stack("bad", repo.active_stack.metadata_url, artifacts,
                            log_options={"capture": "no"})  # fmt: skip


@step(enable_cache=False)
def flooding(lines: int = 100_000, width: int = 20) -> int:
    for i in range(lines):
        print(f"line {i:07d} " + "x" * width)
    return lines


@pipeline(enable_cache=False)
def flood(flooding):
    flooding()


def test_the_cap_keeps_head_and_tail_and_says_how_much_was_cut(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo")
    repo.register_stack("small", repo.active_stack.metadata_url, str(tmp_path / "a"),
                        log_options={"max_bytes": "64KiB"}, activate=True)  # fmt: skip
    run = flood(flooding=flooding(lines=100_000)).run(repository=repo, stream_logs=False)
    lines = run.get_step("flooding").logs.splitlines()
    assert lines[0].startswith("line 0000000 ") and lines[-1].startswith("line 0099999 ")
    notice = [x for x in lines if x.startswith("[... ")]
    assert len(notice) == 1 and "lines (" in notice[0] and "cut" in notice[0]
    cut = int(notice[0].split()[1].replace(",", ""))
    kept = [int(x.split()[1]) for x in lines if x.startswith("line ")]
    assert kept == sorted(kept) and len(kept) + cut == 100_000  # nothing else lost
    key = log_key(run.id, run.get_step("flooding").id, 1)
    folder = Path(repo.active_stack.artifact_root) / key
    assert sum(f.stat().st_size for f in folder.iterdir()) <= 64 * 1024 + 1024


@step(enable_cache=False)
def hostile() -> int:
    sys.stdout.buffer.write(b"\x00\x01 control \x1b[31mred\x1b[0m \xc3\x28 invalid\n")
    sys.stdout.write("lone \udcff surrogate\n")
    sys.stdout.write("y" * 10_000_000 + "\n")
    sys.stdout.write("after the long line\n")
    return 0


@pipeline(enable_cache=False)
def hostile_pipeline(hostile):
    hostile()


def test_binary_invalid_utf8_and_a_10mb_line_lose_nothing(sqlite_repo: Repository) -> None:
    started = time.perf_counter()
    run = hostile_pipeline(hostile=hostile()).run(repository=sqlite_repo, stream_logs=False)
    assert time.perf_counter() - started < 60
    text = run.get_step("hostile").logs
    lines = text.split("\n")
    assert lines[0] == "\x00\x01 control \x1b[31mred\x1b[0m \\xc3( invalid"
    assert lines[1] == "lone \\udcff surrogate"
    assert lines[2] == "y" * 10_000_000  # split in pieces to store, joined again to read
    assert lines[3] == "after the long line"


@step(enable_cache=False, retries=1, retry_delay=0.01)
def fails_once(marker: str = "") -> int:
    first = not Path(marker).exists()
    Path(marker).touch()
    print("attempt starts, first:", first)
    if first:
        raise RuntimeError("first attempt fails")
    return 1


@pipeline(enable_cache=False)
def retrying(fails_once):
    fails_once()


def test_each_attempt_has_its_own_logs_ending_with_its_error(
    sqlite_repo: Repository, tmp_path: Path
) -> None:
    marker = str(tmp_path / "marker")
    run = retrying(fails_once=fails_once(marker=marker)).run(repository=sqlite_repo,
                                                             stream_logs=False)  # fmt: skip
    step_ = run.get_step("fails_once")
    first, second = step_.attempts
    assert first.logs.startswith("attempt starts, first: True\nTraceback (most recent call last)")
    assert 'in fails_once\n    raise RuntimeError("first attempt fails")' in first.logs
    assert "runner/attempts.py" not in first.logs  # the step's own frames only
    assert second.logs == "attempt starts, first: False\n" == step_.logs
    assert step_.log_records(attempt=1)["message"].iloc[0] == "attempt starts, first: True"


@step
def cached_talker(x: int = 1) -> int:
    print("computed", x)
    return x


@pipeline
def cacheable(cached_talker):
    cached_talker()


def test_a_cached_steps_logs_are_those_of_the_run_that_produced_its_outputs(
    sqlite_repo: Repository,
) -> None:
    first = cacheable(cached_talker=cached_talker()).run(repository=sqlite_repo,
                                                         stream_logs=False)  # fmt: skip
    second = cacheable(cached_talker=cached_talker()).run(repository=sqlite_repo,
                                                          stream_logs=False)  # fmt: skip
    cached = second.get_step("cached_talker")
    assert cached.status == "cached"
    assert cached.logs == (
        f"(cached: these are the logs of step 'cached_talker' of run {first.name!r}, which "
        "produced the outputs this step reused)\ncomputed 1\n"
    )


def test_two_steps_printing_at_once_in_threads_do_not_mix(sqlite_repo: Repository) -> None:
    from zenml_widgets.runner.capture import LogSettings, capture
    from zenml_widgets.runner.context import StepContext, running

    stack = sqlite_repo.active_stack
    barrier = threading.Barrier(2)

    def work(step_id: int) -> None:
        context = StepContext(stack, "p", 99, "r", step_id, f"s{step_id}", 1)
        with running(context):
            capture(context, LogSettings())
            barrier.wait()
            for i in range(3000):
                print(f"step {step_id} line {i}")
                if i % 500 == 0:
                    logging.getLogger("w").warning("step %d warns %d", step_id, i)

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from zenml_widgets.views.logs import AttemptLogs

    for n in (1, 2):
        lines = AttemptLogs(stack, 99, n, 1).lines()
        printed = [x.message for x in lines if x.stream == "stdout"]
        assert printed == [f"step {n} line {i}" for i in range(3000)]
        warned = [x.message for x in lines if x.stream == "WARNING"]
        assert warned == [f"step {n} warns {i}" for i in range(0, 3000, 500)]


# the step prints "early 0..2", waits for the file ``release``, prints "late"
_SLOW_SCRIPT = """
import sys
from infra.log_steps import waiter, waiting

waiting(waiter=waiter(release=sys.argv[1])).run(run_name="r", repository=sys.argv[2])
"""


def _start_slow(tmp_path: Path, repo: Repository) -> tuple[subprocess.Popen[str], Path]:
    script = tmp_path / "slow_script.py"
    script.write_text(textwrap.dedent(_SLOW_SCRIPT))
    release = tmp_path / "release"
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(release), str(repo.root)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return proc, release


def _step(repo: Repository) -> StepView:
    """The running step of ``_start_slow``, once it is recorded."""
    found: StepView = wait_until(
        lambda: Repository(repo.root).get_pipeline("waiting").get_run("r")["waiter"]
    )
    return found


def test_another_process_reads_a_running_steps_logs_and_follows_them(
    sqlite_repo: Repository, tmp_path: Path
) -> None:
    proc, release = _start_slow(tmp_path, sqlite_repo)
    try:
        step_ = _step(sqlite_repo)
        wait_until(lambda: step_.logs == "early 0\nearly 1\nearly 2\n")
        assert step_.status == "running"
        follow = subprocess.Popen(
            [sys.executable, "-m", "zenml_widgets.cli", "-R", str(sqlite_repo.root), "logs",
             "waiting", "r", "waiter", "--follow"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert follow.stdout is not None
        assert [follow.stdout.readline() for _ in range(3)] == [f"early {i}\n" for i in range(3)]
        release.touch()
        assert follow.stdout.readline() == "late\n"
        assert follow.wait(timeout=60) == 0  # it ends with the step
        assert follow.stdout.read() == ""
    finally:
        release.touch()
        proc.wait(timeout=120)
    assert proc.returncode == 0


def test_a_killed_process_keeps_what_it_had_flushed(
    sqlite_repo: Repository, tmp_path: Path
) -> None:
    proc, _release = _start_slow(tmp_path, sqlite_repo)
    try:
        step_ = _step(sqlite_repo)
        wait_until(lambda: "early 2" in step_.logs)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    again = _step(sqlite_repo)
    assert again.logs == "early 0\nearly 1\nearly 2\n"
    assert again.attempts[0].log().lines()


def test_a_failing_steps_run_still_keeps_its_logs(sqlite_repo: Repository) -> None:
    import zw_testing as t

    with pytest.raises(StepFailedError):
        t.failing_pipeline(importer=t.importer(), exploding=t.exploding()).run(
            run_name="broken", repository=sqlite_repo, stream_logs=False
        )
    step_ = sqlite_repo.get_pipeline("failing_pipeline").get_run("broken").get_step("exploding")
    assert step_.logs.rstrip("\n").splitlines()[-1] == (step_.error or "").rstrip().splitlines()[-1]


def test_progress_shows_a_tqdm_bar_over_the_steps(
    sqlite_repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    # progress=None shows it in a notebook (a kernel); True asks for it anywhere: tqdm.auto
    # draws text on stderr here, a widget in a notebook.
    talking(chatty=chatty(), quiet=quiet()).run(
        run_name="barred", repository=sqlite_repo, stream_logs=False, progress=True
    )
    err = capsys.readouterr().err
    assert "talking barred" in err and "2/2" in err and "step" in err
    talking(chatty=chatty(), quiet=quiet()).run(repository=sqlite_repo, stream_logs=False)
    assert "2/2" not in capsys.readouterr().err  # not a notebook: no bar by default


def test_an_unreachable_artifact_store_mid_step_loses_no_line_and_says_so(
    sqlite_repo: Repository, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from infra.log_steps import staged, stages

    result: dict[str, object] = {}
    runner = threading.Thread(
        target=lambda: result.update(
            run=staged(stages=stages(folder=str(tmp_path))).run(
                run_name="r", repository=sqlite_repo, stream_logs=False
            )
        )
    )
    runner.start()
    step_ = wait_until(lambda: sqlite_repo.get_pipeline("staged").get_run("r")["stages"])
    wait_until(lambda: step_.logs == "stage 0\n")
    folder = sqlite_repo.active_stack.artifact_store.path(step_.attempt_logs().key)  # type: ignore[attr-defined]
    folder.rename(folder.with_name("away"))
    folder.write_text("not a folder")  # the store fails every write of these logs now
    (tmp_path / "go-1").touch()
    wait_until(lambda: "cannot be written to the artifact store" in caplog.text)
    folder.unlink()
    folder.with_name("away").rename(folder)  # it answers again
    (tmp_path / "go-2").touch()
    runner.join(timeout=60)
    assert step_.status == "completed"  # the step did not depend on its logs
    lines = step_.log_lines()
    assert [x.message for x in lines if x.stream == "stdout"] == ["stage 0", "stage 1", "stage 2"]
    (warning,) = [x for x in lines if x.stream == "WARNING"]
    assert warning.logger == "zenml_widgets.logs"
    assert "the artifact store could not be written for" in warning.message
    assert "(FileExistsError: " in warning.message  # what the store said
