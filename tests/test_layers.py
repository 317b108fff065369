"""The package's layers (STYLE.md): lower layers never import higher ones, and only the store
touches SQLAlchemy. Every import counts, including those inside functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from zenml_widgets import _LAZY as LAZY

PACKAGE = Path(__file__).resolve().parents[1] / "zenml_widgets"

# Rank of each top-level part of the package; a module may import parts of a lower rank, or its
# own part. Parts of equal rank are siblings and may not import each other.
RANKS: dict[str, float] = {
    "exceptions": 0,
    "hooks": 0,
    "visualizers": 0.5,
    "rendering": 0.5,
    "store": 1,
    "materializers": 1,
    "artifacts": 0.9,
    "config": 1,
    "stack": 2,
    "views": 3,
    "repository": 3.5,
    "runner": 3.7,
    "integrations": 3.8,
    "display": 4,
    "widgets": 5,
    "magics": 6,
    "extension": 6.5,
    "cli": 6.5,
    "examples": 7,
    "__init__": 8,
}
# Third-party packages only some parts may import.
ONLY = {
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "ipywidgets": {"widgets", "magics", "extension", "integrations", "visualizers"},
}


def part_of(module: Path) -> str:
    rel = module.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def imported_modules(module: Path) -> list[tuple[int, str]]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "zenml_widgets":
                # `from zenml_widgets import step` imports the module that lazily provides it
                for alias in node.names:
                    target = LAZY.get(alias.name, f"zenml_widgets.{alias.name}")
                    found.append((node.lineno, target))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_respects_the_layers(module: Path) -> None:
    part = part_of(module)
    assert part in RANKS, f"{part!r} has no layer yet: add it to RANKS in {__file__}"
    problems = []
    for line, name in imported_modules(module):
        top, _, rest = name.partition(".")
        if top == "zenml_widgets" and rest:
            target = rest.split(".")[0]
            if target == part:
                continue
            if target not in RANKS or RANKS[target] >= RANKS[part]:
                problems.append(f"line {line}: {part} (rank {RANKS[part]}) imports {name}")
        elif top in ONLY and part not in ONLY[top]:
            problems.append(f"line {line}: {part} imports {name}; only {sorted(ONLY[top])} may")
    assert not problems, "\n".join(problems)


def test_import_is_fast_and_light() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import zenml_widgets; "
        "from zenml_widgets import Repository, step, pipeline, Output; "
        "print(time.perf_counter() - t); "
        "heavy = ('tensorflow', 'keras', 'IPython', 'ipywidgets', 'facets_overview'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[1] == "[]", out
