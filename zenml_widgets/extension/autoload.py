"""Loading the extension in every new Jupyter kernel, and turning that off.

Two ways get ``zenml_widgets.extension.autoload`` into a kernel's extensions:

* the package installs ``{sys.prefix}/etc/ipython/ipython_kernel_config.py`` (wheel and editable
  installs alike: hatchling's shared-data; ``pip uninstall`` removes it), which *appends* to
  ``c.InteractiveShellApp.extra_extensions`` (a lazy append merges with other config files
  instead of replacing their lists, and no other file of the folder is touched);
* ``python -m zenml_widgets.extension.autoload enable`` merges the extension into
  ``ipython_kernel_config.json`` next to it, keeping every other setting of that shared file.

Opting out: ``ZENML_WIDGETS_AUTOLOAD=0`` in the kernel's environment, or ``... disable``, which
removes the JSON entry and, where the installed ``.py`` file is present, records
``{"ZenMLWidgets": {"autoload": false}}`` in the JSON file. Loading never fails kernel start:
a problem becomes one warning in the kernel log.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ENV = "ZENML_WIDGETS_AUTOLOAD"
EXTENSION = "zenml_widgets.extension.autoload"
SECTION = "ZenMLWidgets"
JSON_CONFIG = "ipython_kernel_config.json"
PY_CONFIG = "ipython_kernel_config.py"
_OFF = {"0", "false", "no", "off"}

log = logging.getLogger("zenml_widgets")


class AutoloadConfigError(Exception):
    """A kernel config file could not be read or written; nothing was changed."""


def disabled_reason(ipython: Any) -> str | None:
    """Why autoloading is off for this kernel (environment or config), or ``None``."""
    if os.environ.get(ENV, "").strip().lower() in _OFF:
        return f"${ENV}={os.environ[ENV]}"
    section = ipython.config.get(SECTION, {}) if ipython is not None else {}
    if section.get("autoload", True) is False:
        return f"{SECTION}.autoload = False in the IPython config"
    return None


def load_ipython_extension(ipython: Any) -> None:
    """Load ``zenml_widgets`` unless opted out; never raise (kernel start must not fail)."""
    try:
        reason = disabled_reason(ipython)
        if reason is not None:
            log.debug("zenml_widgets: not loading the extension (%s)", reason)
            return
        from zenml_widgets.extension import load_ipython_extension as load

        load(ipython)
    except Exception as e:
        log.warning(
            "zenml_widgets: extension not loaded in this kernel: %s: %s", type(e).__name__, e
        )


def unload_ipython_extension(ipython: Any) -> None:
    """Undo ``load_ipython_extension``."""
    from zenml_widgets.extension import unload_ipython_extension as unload

    unload(ipython)


# -- the enable / disable / status commands -----------------------------------------------------


def config_dir(prefix: str | Path | None = None, *, user: bool = False) -> Path:
    """The folder whose kernel config is changed: ``{prefix}/etc/ipython`` or the user's
    IPython profile (``--user``, which applies to kernels of every environment)."""
    if user:
        from IPython.paths import get_ipython_dir

        return Path(get_ipython_dir()) / "profile_default"
    return Path(prefix if prefix is not None else sys.prefix) / "etc" / "ipython"


def installed_py_config(folder: Path) -> bool:
    """Whether the ``.py`` config that the package installs is in ``folder``."""
    path = folder / PY_CONFIG
    try:
        return path.is_file() and EXTENSION in path.read_text(encoding="utf-8")
    except OSError:
        return False


def read_config(path: Path) -> dict[str, Any]:
    """The JSON config at ``path`` (``{}`` if absent); refuses anything but a JSON object."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError) as e:
        raise AutoloadConfigError(f"Cannot read {path}: {e}. Nothing was changed.") from e
    if not isinstance(data, dict):
        raise AutoloadConfigError(f"{path} does not hold a JSON object. Nothing was changed.")
    return data


def write_config(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` atomically; an empty config removes the file."""
    if not data:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".zenml_widgets-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _shell_app(data: dict[str, Any]) -> dict[str, Any]:
    section = data.setdefault("InteractiveShellApp", {})
    if not isinstance(section, dict):
        raise AutoloadConfigError("InteractiveShellApp in the kernel config is not an object.")
    return section


def _prune(data: dict[str, Any], section: str) -> None:
    if not data.get(section):
        data.pop(section, None)


def enable(folder: Path) -> str:
    """Turn autoloading on for kernels reading ``folder``; returns what was done."""
    path = folder / JSON_CONFIG
    data = read_config(path)
    ours = data.get(SECTION, {})
    if isinstance(ours, dict):
        ours.pop("autoload", None)
    _prune(data, SECTION)
    if installed_py_config(folder):
        done = f"enabled through the installed {folder / PY_CONFIG}"
    else:
        extensions = _shell_app(data).setdefault("extensions", [])
        if EXTENSION not in extensions:
            extensions.append(EXTENSION)
        done = f"enabled in {path}"
    write_config(path, data)
    return f"zenml_widgets autoload {done}."


def disable(folder: Path) -> str:
    """Turn autoloading off for kernels reading ``folder``; other settings stay as they are."""
    path = folder / JSON_CONFIG
    data = read_config(path)
    app = _shell_app(data)
    for key in ("extensions", "extra_extensions"):
        entries = app.get(key)
        if isinstance(entries, list) and EXTENSION in entries:
            app[key] = [e for e in entries if e != EXTENSION]
            if not app[key]:
                del app[key]
    _prune(data, "InteractiveShellApp")
    if installed_py_config(folder):
        data.setdefault(SECTION, {})["autoload"] = False
    write_config(path, data)
    return f"zenml_widgets autoload disabled for kernels reading {folder}."


def status(folder: Path) -> str:
    """Where autoloading is configured in ``folder``, and whether it is switched off."""
    data = read_config(folder / JSON_CONFIG)
    app = data.get("InteractiveShellApp", {})
    listed = any(EXTENSION in (app.get(k) or []) for k in ("extensions", "extra_extensions"))
    lines = [
        f"{folder / PY_CONFIG}: {'installed' if installed_py_config(folder) else 'absent'}",
        f"{folder / JSON_CONFIG}: {'lists the extension' if listed else 'does not list it'}",
    ]
    if data.get(SECTION, {}).get("autoload") is False:
        lines.append(f"{SECTION}.autoload = false: switched off (run `enable` to undo)")
    if os.environ.get(ENV, "").strip().lower() in _OFF:
        lines.append(f"${ENV}={os.environ[ENV]}: switched off in this environment")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m zenml_widgets.extension.autoload {enable,disable,status} [--user|--prefix]``."""
    parser = argparse.ArgumentParser(
        prog="zenml-widgets jupyter",
        description="Load the zenml_widgets IPython extension in new Jupyter kernels, or not.",
    )
    parser.add_argument("command", choices=("enable", "disable", "status"))
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--prefix", help="environment prefix (default: this Python's sys.prefix)")
    where.add_argument("--user", action="store_true", help="the user's IPython profile instead")
    args = parser.parse_args(argv)
    folder = config_dir(args.prefix, user=args.user)
    action = {"enable": enable, "disable": disable, "status": status}[args.command]
    try:
        print(action(folder))
    except (AutoloadConfigError, OSError) as e:
        print(f"zenml-widgets: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
