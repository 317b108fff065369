"""The IPython extension, kernel autoloading, and its enable / disable commands."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from zenml_widgets.extension import autoload

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "jupyter-config" / "ipython" / "ipython_kernel_config.py"


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    yield ip
    ip.magics_manager.magics["line"].pop("zenml_history", None)
    ip.config.pop(autoload.SECTION, None)


def test_load_and_unload(shell: InteractiveShell) -> None:
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="only")])
    html = shell.display_formatter.formatters["text/html"]
    shell.run_line_magic("load_ext", "zenml_widgets")
    assert "zenml_history" in shell.magics_manager.magics["line"]
    rendered = html(model)
    assert rendered is not None and "only" in rendered and "Dense" in rendered
    shell.run_line_magic("unload_ext", "zenml_widgets")
    assert "zenml_history" not in shell.magics_manager.magics["line"]
    assert html(model) is None


def test_autoload_loads(shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(autoload.ENV, raising=False)
    autoload.load_ipython_extension(shell)
    assert "zenml_history" in shell.magics_manager.magics["line"]


@pytest.mark.parametrize("value", ["0", "false", "OFF"])
def test_autoload_opt_out_by_environment(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(autoload.ENV, value)
    autoload.load_ipython_extension(shell)
    assert "zenml_history" not in shell.magics_manager.magics["line"]
    shell.run_line_magic("load_ext", "zenml_widgets")  # an explicit load still works
    assert "zenml_history" in shell.magics_manager.magics["line"]
    shell.run_line_magic("unload_ext", "zenml_widgets")


def test_autoload_opt_out_by_config(shell: InteractiveShell, monkeypatch: Any) -> None:
    monkeypatch.delenv(autoload.ENV, raising=False)
    shell.config.merge(Config({autoload.SECTION: {"autoload": False}}))
    autoload.load_ipython_extension(shell)
    assert "zenml_history" not in shell.magics_manager.magics["line"]


def test_autoload_never_raises(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import zenml_widgets.extension as extension

    def broken(_ipython: Any) -> None:
        raise RuntimeError("no luck")

    monkeypatch.delenv(autoload.ENV, raising=False)
    monkeypatch.setattr(extension, "load_ipython_extension", broken)
    with caplog.at_level(logging.WARNING, logger="zenml_widgets"):
        autoload.load_ipython_extension(shell)
    assert "extension not loaded in this kernel" in caplog.text and "no luck" in caplog.text


# -- enable / disable ---------------------------------------------------------------------------


def read(folder: Path) -> dict[str, Any]:
    return json.loads((folder / autoload.JSON_CONFIG).read_text())


def test_enable_and_disable_merge_into_the_shared_json(tmp_path: Path) -> None:
    folder = tmp_path / "etc" / "ipython"
    folder.mkdir(parents=True)
    others = {
        "InteractiveShellApp": {"extensions": ["other_ext"], "exec_lines": ["x = 1"]},
        "IPKernelApp": {"matplotlib": "inline"},
    }
    (folder / autoload.JSON_CONFIG).write_text(json.dumps(others))

    assert autoload.main(["enable", "--prefix", str(tmp_path)]) == 0
    config = read(folder)
    assert config["InteractiveShellApp"]["extensions"] == ["other_ext", autoload.EXTENSION]
    assert config["InteractiveShellApp"]["exec_lines"] == ["x = 1"]
    assert config["IPKernelApp"] == {"matplotlib": "inline"}
    autoload.enable(folder)  # idempotent
    assert read(folder)["InteractiveShellApp"]["extensions"].count(autoload.EXTENSION) == 1

    assert autoload.main(["disable", "--prefix", str(tmp_path)]) == 0
    assert read(folder) == others


def test_enable_creates_and_disable_removes_its_own_file(tmp_path: Path) -> None:
    folder = tmp_path / "etc" / "ipython"
    autoload.enable(folder)
    assert read(folder) == {"InteractiveShellApp": {"extensions": [autoload.EXTENSION]}}
    autoload.disable(folder)
    assert not (folder / autoload.JSON_CONFIG).exists()


def test_with_the_installed_py_config_disable_sets_a_flag(tmp_path: Path) -> None:
    folder = tmp_path / "etc" / "ipython"
    folder.mkdir(parents=True)
    shutil.copy(SHIPPED, folder / autoload.PY_CONFIG)
    assert "installed" in autoload.status(folder)
    autoload.disable(folder)
    assert read(folder) == {autoload.SECTION: {"autoload": False}}
    assert "switched off" in autoload.status(folder)
    assert "enabled through the installed" in autoload.enable(folder)
    assert not (folder / autoload.JSON_CONFIG).exists()


def test_a_broken_json_file_is_left_alone(tmp_path: Path, capsys: Any) -> None:
    folder = tmp_path / "etc" / "ipython"
    folder.mkdir(parents=True)
    (folder / autoload.JSON_CONFIG).write_text("{not json")
    assert autoload.main(["enable", "--prefix", str(tmp_path)]) == 1
    assert "Nothing was changed" in capsys.readouterr().err
    assert (folder / autoload.JSON_CONFIG).read_text() == "{not json"


# -- a real kernel --------------------------------------------------------------------------------

PROBE = (
    "ip = get_ipython(); "
    "print('zenml_history' in ip.magics_manager.magics['line'], "
    "'IPython.extensions.autoreload' in ip.extension_manager.loaded)"
)


def kernel_has_magic(ipython_dir: Path, cwd: Path, **env: str) -> bool:
    """Start a kernel with ``ipython_dir`` as its IPython dir; whether the magic is there.

    The other extension configured beside ours must always be loaded too.
    """
    from jupyter_client.manager import KernelManager

    kernel_env = {**os.environ, "IPYTHONDIR": str(ipython_dir), **env}
    kernel_env.pop("ZENML_WIDGETS_REPOSITORY", None)
    if autoload.ENV not in env:
        kernel_env.pop(autoload.ENV, None)
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=kernel_env, cwd=str(cwd))
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        lines: list[str] = []

        def keep(msg: dict[str, Any]) -> None:
            if msg["header"]["msg_type"] == "stream":
                lines.append(msg["content"]["text"])

        reply = client.execute_interactive(PROBE, output_hook=keep, timeout=60)
        assert reply["content"]["status"] == "ok"
        has_magic, has_other = "".join(lines).split()
        assert has_other == "True", "another package's extension was lost"
        return has_magic == "True"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.slow
def test_the_shipped_config_loads_the_extension_in_a_new_kernel(tmp_path: Path) -> None:
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    shutil.copy(SHIPPED, profile / autoload.PY_CONFIG)
    (profile / autoload.JSON_CONFIG).write_text(
        json.dumps({"InteractiveShellApp": {"extensions": ["autoreload"]}})
    )
    nowhere = tmp_path / "no-repository-here"
    nowhere.mkdir()
    assert kernel_has_magic(tmp_path / "ipython", nowhere)
    assert not kernel_has_magic(tmp_path / "ipython", nowhere, **{autoload.ENV: "0"})
    autoload.disable(profile)
    assert not kernel_has_magic(tmp_path / "ipython", nowhere)
