"""Autoload on every documented install path, checked in brand-new environments with real kernels.

Both a wheel (``pip install zenml-widgets``) and an editable install (``pip install -e .``, as
scripts/demo.sh does) put the ``.py`` kernel config into ``{prefix}/etc/ipython``: the package is
built with hatchling, whose ``shared-data`` is installed in editable installs too. ``pip
uninstall`` removes the file again; ``python -m zenml_widgets.extension.autoload status|disable``
keep working.

Each environment is a new venv without pip; the test's own pip installs the package into it
(``pip --python``) without dependencies, and a ``.pth`` file lends it this environment's
site-packages for those, so the test needs no download beyond the build backend.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

PROBE = (
    "import sys, zenml_widgets; ip = get_ipython(); "
    "print('zenml_history' in ip.magics_manager.magics['line'], sys.prefix, "
    "zenml_widgets.__file__)"
)


def new_environment(path: Path) -> Path:
    """A venv at ``path`` that sees this environment's packages (but not its zenml_widgets)."""
    venv.EnvBuilder(with_pip=False).create(path)
    python = path / "bin" / "python"
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(target) / "_outer_env.pth").write_text("\n".join(ours) + "\n")
    return python


def pip(python: Path, *args: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "--disable-pip-version-check",
            "-q",
            *args,
        ],
        check=True,
        cwd=ROOT,
    )


def kernel_probe(python: Path, tmp_path: Path, **env: str) -> tuple[bool, str, str]:
    """Start a real kernel of ``python``: (has %zenml_history, sys.prefix, package file)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path / "kernels"
    spec = kernels / "probe"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "probe",
                "language": "python",
            }
        )
    )
    ipython_dir = tmp_path / "ipython-empty"
    ipython_dir.mkdir(exist_ok=True)
    kernel_env = {**os.environ, "IPYTHONDIR": str(ipython_dir), **env}
    for name in ("ZENML_WIDGETS_REPOSITORY", "ZENML_WIDGETS_AUTOLOAD", "PYTHONPATH"):
        if name not in env:
            kernel_env.pop(name, None)
    manager = KernelManager(
        kernel_name="probe", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
    )
    manager.start_kernel(env=kernel_env, cwd=str(tmp_path))
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=90)
        lines: list[str] = []

        def keep(msg: dict[str, Any]) -> None:
            if msg["header"]["msg_type"] == "stream":
                lines.append(msg["content"]["text"])

        reply = client.execute_interactive(PROBE, output_hook=keep, timeout=90)
        assert reply["content"]["status"] == "ok", reply["content"]
        has_magic, prefix, package = "".join(lines).split()
        return has_magic == "True", prefix, package
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def autoload(python: Path, command: str) -> str:
    done = subprocess.run(
        [str(python), "-m", "zenml_widgets.extension.autoload", command],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def check_installed_config(python: Path, prefix: Path, tmp_path: Path, package_root: Path) -> None:
    """The kernel config is in place and works, can be switched off, and ``status`` says so."""
    config = prefix / "etc" / "ipython" / "ipython_kernel_config.py"
    assert config.is_file()
    assert "zenml_widgets.extension.autoload" in config.read_text()
    assert f"{config}: installed" in autoload(python, "status")

    has_magic, kernel_prefix, package = kernel_probe(python, tmp_path)
    assert Path(kernel_prefix) == prefix
    assert Path(package).is_relative_to(package_root)
    assert has_magic
    assert not kernel_probe(python, tmp_path, ZENML_WIDGETS_AUTOLOAD="0")[0]
    autoload(python, "disable")
    assert "switched off" in autoload(python, "status")
    assert not kernel_probe(python, tmp_path)[0]
    autoload(python, "enable")
    assert kernel_probe(python, tmp_path)[0]


def check_uninstall_removes_it(python: Path, prefix: Path) -> None:
    pip(python, "uninstall", "--yes", "zenml-widgets")
    folder = prefix / "etc" / "ipython"
    assert not (folder / "ipython_kernel_config.py").exists()
    assert not folder.exists() or not any(folder.rglob("*.py"))


def test_a_wheel_installs_the_kernel_config(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("zenml_widgets-*.whl")
    prefix = tmp_path / "wheel-env"
    python = new_environment(prefix)
    pip(python, "install", "--no-deps", str(wheel))
    check_installed_config(python, prefix, tmp_path, prefix)  # the installed copy
    check_uninstall_removes_it(python, prefix)


def test_an_editable_install_autoloads_with_no_extra_command(tmp_path: Path) -> None:
    """What scripts/demo.sh does: ``pip install -e .``, and nothing more."""
    prefix = tmp_path / "editable-env"
    python = new_environment(prefix)
    pip(python, "install", "--no-deps", "-e", str(ROOT))
    check_installed_config(python, prefix, tmp_path, ROOT)  # this checkout
    check_uninstall_removes_it(python, prefix)

    demo = (ROOT / "scripts" / "demo.sh").read_text()
    assert '-m pip install --quiet --disable-pip-version-check -e ".[all]"' in demo
    assert "autoload enable" not in demo  # no longer needed
