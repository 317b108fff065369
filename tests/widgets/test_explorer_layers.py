"""The explorer's layers (docs/ARCHITECTURE.md): state <- panels <- view. Every import
counts, also those only for type checking, so there is no import circle inside widgets/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WIDGETS = Path(__file__).resolve().parents[2] / "zenml_widgets" / "widgets"
PACKAGE = "zenml_widgets.widgets"

# A module may import modules of a lower rank only.
RANKS = {
    "code": 0,
    "dag_widget": 0,
    "live": 0,
    "object_preview": 0,
    "options": 0,
    "run_pager": 0,
    "runs_grid": 0,
    "state": 1,
    "panel": 2,
    "controls": 3,
    "curves_panel": 3,
    "data_panel": 3,
    "logs_panel": 3,
    "run_panels": 3,
    "runs_overlay": 2.5,
    "runs_table_panel": 3,
    "selection_preview": 3,
    "tags_panel": 3,
    "explorer": 4,
    "__init__": 5,
}


def imports(module: Path) -> set[str]:
    """Every module imported anywhere in ``module`` (top-level, in functions, for types)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def widget_imports(module: Path) -> set[str]:
    """The modules of widgets/ that ``module`` imports."""
    prefix = PACKAGE + "."
    found = {n.removeprefix(prefix).split(".")[0] for n in imports(module) if n.startswith(prefix)}
    return found & set(RANKS)


MODULES = sorted(WIDGETS.glob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert sorted(m.stem for m in MODULES) == sorted(RANKS)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_modules_import_only_lower_layers(module: Path) -> None:
    rank = RANKS[module.stem]
    wrong = sorted(n for n in widget_imports(module) if n != module.stem and RANKS[n] >= rank)
    assert not wrong, f"{module.name} (rank {rank}) imports {wrong}"


def test_the_state_imports_no_ipywidgets() -> None:
    for name in ("state", "options", "run_pager"):
        found = imports(WIDGETS / f"{name}.py")
        assert not any(i.split(".")[0] in ("ipywidgets", "IPython") for i in found), name


def test_panels_never_import_the_view() -> None:
    for name in ("panel", "run_panels", "runs_table_panel", "data_panel", "logs_panel"):
        assert not {"explorer", "controls"} & widget_imports(WIDGETS / f"{name}.py"), name
