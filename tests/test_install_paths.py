"""Autoload on every documented install path, checked in brand-new environments with real kernels.

* a wheel (``pip install zenml-widgets``): the wheel's data files put the ``.py`` kernel config
  into ``{prefix}/etc/ipython``;
* an editable install (``pip install -e``, as scripts/demo.sh does): pip does not install data
  files then, so the script runs ``python -m zenml_widgets.extension.autoload enable``, which
  writes ``{prefix}/etc/ipython/ipython_kernel_config.json``.

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


def test_a_wheel_installs_the_kernel_config(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("zenml_widgets-*.whl")
    python = new_environment(tmp_path / "wheel-env")
    pip(python, "install", "--no-deps", str(wheel))
    prefix = tmp_path / "wheel-env"
    assert (prefix / "etc" / "ipython" / "ipython_kernel_config.py").is_file()

    has_magic, kernel_prefix, package = kernel_probe(python, tmp_path)
    assert Path(kernel_prefix) == prefix
    assert Path(package).is_relative_to(prefix)  # the installed copy, not this checkout
    assert has_magic
    assert not kernel_probe(python, tmp_path, ZENML_WIDGETS_AUTOLOAD="0")[0]
    subprocess.run([str(python), "-m", "zenml_widgets.extension.autoload", "disable"], check=True)
    assert not kernel_probe(python, tmp_path)[0]


def test_an_editable_install_needs_and_gets_enable(tmp_path: Path) -> None:
    """What scripts/demo.sh does: ``pip install -e .`` then ``enable``."""
    python = new_environment(tmp_path / "editable-env")
    pip(python, "install", "--no-deps", "-e", str(ROOT))
    prefix = tmp_path / "editable-env"
    assert not (prefix / "etc" / "ipython" / "ipython_kernel_config.py").exists()
    assert not kernel_probe(python, tmp_path)[0]  # why the scripts run `enable`

    demo = (ROOT / "scripts" / "demo.sh").read_text()
    assert '-m pip install --quiet --disable-pip-version-check -e ".[all]"' in demo
    assert "-m zenml_widgets.extension.autoload enable" in demo
    subprocess.run([str(python), "-m", "zenml_widgets.extension.autoload", "enable"], check=True)
    assert (prefix / "etc" / "ipython" / "ipython_kernel_config.json").is_file()
    has_magic, kernel_prefix, package = kernel_probe(python, tmp_path)
    assert Path(kernel_prefix) == prefix
    assert Path(package).is_relative_to(ROOT)
    assert has_magic
    subprocess.run([str(python), "-m", "zenml_widgets.extension.autoload", "disable"], check=True)
    assert not kernel_probe(python, tmp_path)[0]
