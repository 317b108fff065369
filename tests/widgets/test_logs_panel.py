"""The explorer's Logs panel: the selected step's log tail, escaped, streams coloured, ANSI
colours rendered or stripped, "Show all" for long logs, a cached step's logs on request."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from zenml_widgets import HistoryExplorer, pipeline, step
from zenml_widgets.display.log_html import log_html, strip_ansi
from zenml_widgets.repository import Repository


@step
def noisy(lines: int = 500) -> int:
    print("<script>alert('x')</script> & \x1b[1;31mred\x1b[0m plain \x1b[2K\x07")
    print("to stderr", file=sys.stderr)
    logging.getLogger("noisy.model").warning("careful <b>")
    for i in range(lines):
        print(f"line {i}")
    return lines


@pipeline
def noisy_pipeline(noisy):
    noisy()


def test_the_tail_escaped_coloured_and_shown_all_on_request(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo")
    noisy_pipeline(noisy=noisy()).run(run_name="one", repository=repo, stream_logs=False)
    explorer = HistoryExplorer(repo).select("noisy_pipeline", "one")
    assert explorer.logs.box.layout.display == "none"  # no step selected
    explorer.select("noisy_pipeline", "one", "noisy")
    panel = explorer.logs
    assert panel.box.layout.display == ""
    assert "last 200 of 503 lines" in panel.title.value
    assert panel.view.value.count("zw-log-line") == 200
    assert "line 499" in panel.view.value and "line 299<" not in panel.view.value
    assert panel.more.layout.display == ""
    panel.more.click()
    html = panel.view.value
    assert html.count("zw-log-line") == 503 and "503 lines" in panel.title.value
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<span style='font-weight:600;color:#c62828'>red</span> plain </span>" in html
    assert "\x1b" not in html and "\x07" not in html
    assert "data-stream='stderr' style='color:var(--jp-error-color1,#b00020)'>to stderr" in html
    assert "WARNING:noisy.model:careful &lt;b&gt;</span>" in html
    assert panel.more.layout.display == "none"


def test_ansi_stripped_when_asked() -> None:
    from zenml_widgets.artifacts.step_logs import LogLine

    line = LogLine(0.0, "stdout", "", "\x1b[32mok\x1b[0m \x1b]0;title\x07<i>")
    assert strip_ansi(line.message) == "ok <i>"
    assert ">ok &lt;i&gt;</span>" in log_html([line], ansi=False)


def test_a_cached_steps_logs_are_read_on_request(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo")
    noisy_pipeline(noisy=noisy(lines=3)).run(run_name="one", repository=repo, stream_logs=False)
    noisy_pipeline(noisy=noisy(lines=3)).run(run_name="two", repository=repo, stream_logs=False)
    explorer = HistoryExplorer(repo).select("noisy_pipeline", "two", "noisy")
    panel = explorer.logs
    assert "cached: its logs are those of the run that produced its outputs" in panel.title.value
    assert panel.view.value == "" and panel.more.description == "Show logs"
    panel.more.click()
    assert "of step &#x27;noisy&#x27; of run &#x27;one&#x27;" in panel.view.value
    assert "line 2<" in panel.view.value
