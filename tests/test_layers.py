"""The package's layers (STYLE.md and the architecture picture): what each part may import.

Every import counts: ``import`` / ``from`` statements anywhere (inside functions too), string
imports (``importlib.import_module("...")``, ``__import__("...")`` with a literal), and dotted
paths in tables: any string literal that is a whole ``zenml_widgets.x.y`` or
``zenml_widgets.x.y:attr`` naming a module of the package counts as an import of that module.
Three rules:

1. **Ranks.** A module may import its own top-level part and parts of a lower rank (``RANKS``).
2. **The picture.** The architecture picture's parts (``PARTS``) never import the parts its
   ``NEVER`` pairs name.
3. **No circles.** The top-level parts, and the picture's parts, import each other without a
   circle.

Two choices, encoded here:

* **Plug-in tables.** Three tables of dotted paths register implementations that live in a
  higher layer and are imported on first use: ``rendering.BUILTIN_RENDERERS`` (the display
  functions that render each kind of view: Visual -> Display), ``materializers/registry.py``'s
  ``LAZY_MATERIALIZERS`` (materializers imported when their type shows up: Artifacts ->
  Integrations) and ``orchestration.BUILTIN`` (the built-in orchestrators, whose options the
  config checks without importing the runner: Base -> Runner). Their entries are registrations,
  not dependencies: the ranks do not apply to them and they are no edge of the circle graph.
  Only entries of exactly those assignments are treated so, only towards the parts listed in
  ``PLUGIN_TABLES``; they still obey the picture's never pairs, and each entry must resolve
  (``test_plugin_entries_resolve``).
* **TYPE_CHECKING.** Imports under ``if TYPE_CHECKING:`` count for the ranks and the never pairs
  (an annotation depends on that layer's API), not for the circle test (they never run).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from zenml_widgets import _LAZY as LAZY

PACKAGE = Path(__file__).resolve().parents[1] / "zenml_widgets"

# Rank of each top-level part of the package; a module may import parts of a lower rank, or its
# own part. Parts of equal rank are siblings and may not import each other.
RANKS: dict[str, float] = {
    "exceptions": 0,
    "hooks": 0,
    "orchestration": 0.5,
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

# The architecture picture, copied here (tests read nothing outside the repository).
PICTURE = """
Notebook = zenml_widgets/extension/, zenml_widgets/magics.py, zenml_widgets/widgets/
Display = zenml_widgets/display/
CLI = zenml_widgets/cli.py
Runner = zenml_widgets/runner/
Views = zenml_widgets/views/, zenml_widgets/repository.py
Integrations = zenml_widgets/integrations/
History = zenml_widgets/store/, zenml_widgets/stack.py, zenml_widgets/config.py
Artifacts = zenml_widgets/artifacts/, zenml_widgets/materializers/
Visual = zenml_widgets/visualizers/, zenml_widgets/rendering.py
Base = zenml_widgets/exceptions.py, zenml_widgets/hooks.py, zenml_widgets/orchestration/
"""
NEVER = {
    ("Runner", "Views"): "executing a step never reads through the read-only views",
    ("Views", "Runner"): "reading history never runs anything",
    ("Views", "Display"): "the read API knows no screen",
    ("Views", "Notebook"): "the read API knows no notebook",
    ("History", "Views"): "the store knows no views",
    ("History", "Runner"): "the store knows no runner",
    ("Artifacts", "History"): "bytes and types know no metadata",
    ("Visual", "Views"): "visualizers take data, not history",
    ("Visual", "History"): "visualizers take data, not history",
    ("Display", "Notebook"): "displays work without widgets",
    ("Runner", "Notebook"): "running needs no notebook",
    ("Runner", "Display"): "running needs no screen",
}
# Not in the picture: the package root (lazy names, the hooks it sets) and the examples.
OUTSIDE_PICTURE = {"__init__", "examples"}

# (module, table name) -> the parts its dotted paths may register (see the module docstring).
PLUGIN_TABLES: dict[tuple[str, str], set[str]] = {
    ("rendering.py", "BUILTIN_RENDERERS"): {"display"},
    ("materializers/registry.py", "LAZY_MATERIALIZERS"): {"integrations", "materializers"},
    ("orchestration/__init__.py", "BUILTIN"): {"runner"},
}

DOTTED = re.compile(r"zenml_widgets(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_][\w.]*)?")
STRING_IMPORTERS = {"import_module", "__import__"}


@dataclass(frozen=True)
class Edge:
    """One import of module ``name`` at ``line``: a statement, a string, or a plug-in entry."""

    line: int
    name: str
    kind: str = "statement"
    type_checking: bool = False


def part_of(module: Path) -> str:
    return module.relative_to(PACKAGE).parts[0].removesuffix(".py")


def picture_parts() -> dict[str, str]:
    """Top-level part -> the picture's part."""
    found = {}
    for line in PICTURE.strip().splitlines():
        name, _, paths = line.partition(" = ")
        for path in paths.split(", "):
            found[path.removeprefix("zenml_widgets/").rstrip("/").removesuffix(".py")] = name
    return found


PICTURE_PARTS = picture_parts()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    nodes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                nodes |= {id(n) for n in ast.walk(statement)}
    return nodes


def _plugin_nodes(module: Path, tree: ast.Module) -> set[int]:
    """The string literals of this module's plug-in tables."""
    rel = module.relative_to(PACKAGE).as_posix()
    tables = {table for (path, table) in PLUGIN_TABLES if path == rel}
    nodes: set[int] = set()
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else []
        targets += node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id in tables for t in targets):
            nodes |= {id(n) for n in ast.walk(node)}
    return nodes


def _statement_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == "zenml_widgets":
            # `from zenml_widgets import step` imports the module that lazily provides it
            return [LAZY.get(a.name, f"zenml_widgets.{a.name}") for a in node.names]
        return [node.module]
    return []


def _string_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0]
        if called in STRING_IMPORTERS and isinstance(first, ast.Constant):
            return str(first.value)
    text = node.value if isinstance(node, ast.Constant) else None
    if isinstance(text, str) and DOTTED.fullmatch(text):
        name = text.partition(":")[0]
        return name if _is_module(name) else None  # e.g. an entry-point group's name
    return None


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def imported_modules(module: Path) -> list[Edge]:
    """Every import of ``module``: statements, string imports and dotted paths."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    checking, plugins = _type_checking_nodes(tree), _plugin_nodes(module, tree)
    found: dict[tuple[int, str], Edge] = {}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        typed = id(node) in checking
        for name in _statement_names(node):
            found.setdefault((line, name), Edge(line, name, "statement", typed))
        name = _string_name(node)
        if name is not None:
            kind = "plugin" if id(node) in plugins else "string"
            found[(line, name)] = Edge(line, name, kind, typed)
    return sorted(found.values(), key=lambda e: (e.line, e.name))


def package_part(name: str) -> str | None:
    """The top-level part of the package that module ``name`` is in; ``None`` for other
    packages and for the package itself (every import of a submodule imports it first)."""
    top, _, rest = name.partition(".")
    if top != "zenml_widgets" or not rest:
        return None
    return rest.split(".")[0]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
EDGES = {module: imported_modules(module) for module in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_respects_the_layers(module: Path) -> None:
    part = part_of(module)
    assert part in RANKS, f"{part!r} has no layer yet: add it to RANKS in {__file__}"
    problems = []
    for edge in EDGES[module]:
        target = package_part(edge.name)
        where = f"line {edge.line} ({edge.kind})"
        top = edge.name.split(".")[0]
        if target is None and top in ONLY and part not in ONLY[top]:
            problems.append(f"{where}: {part} imports {edge.name}; only {sorted(ONLY[top])} may")
        if target is None or target == part or edge.kind == "plugin":
            continue
        if target not in RANKS or RANKS[target] >= RANKS[part]:
            problems.append(f"{where}: {part} (rank {RANKS[part]}) imports {edge.name}")
    assert not problems, "\n".join(problems)


def test_every_part_is_in_the_picture() -> None:
    parts = {part_of(m) for m in MODULES}
    assert parts - OUTSIDE_PICTURE == set(PICTURE_PARTS), "place new parts in PICTURE"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_never_imports_what_the_picture_forbids(module: Path) -> None:
    source = PICTURE_PARTS.get(part_of(module), "")
    problems = []
    for edge in EDGES[module]:
        target = PICTURE_PARTS.get(package_part(edge.name) or "", "")
        why = NEVER.get((source, target))
        if why is not None:
            problems.append(f"line {edge.line}: {source} -> {target} ({edge.name}): {why}")
    assert not problems, "\n".join(problems)


def test_plugin_tables_register_only_their_parts() -> None:
    for (path, table), allowed in PLUGIN_TABLES.items():
        module = PACKAGE / path
        entries = [e for e in EDGES[module] if e.kind == "plugin"]
        assert entries, f"no table {table} of dotted paths in {path}"
        wrong = [e.name for e in entries if package_part(e.name) not in allowed]
        assert not wrong, f"{table} in {path} may name {sorted(allowed)} only, not {wrong}"


def test_plugin_entries_resolve() -> None:
    import importlib

    from zenml_widgets import rendering
    from zenml_widgets.materializers import BaseMaterializer, default_registry
    from zenml_widgets.materializers.registry import LAZY_MATERIALIZERS

    for kind, path in rendering.BUILTIN_RENDERERS.items():
        assert callable(rendering.load(path)), kind
    for type_name, module in LAZY_MATERIALIZERS.items():
        defined = vars(importlib.import_module(module)).values()
        registered = [
            m
            for m in defined
            if isinstance(m, type) and issubclass(m, BaseMaterializer) and m.__module__ == module
        ]
        assert registered, f"{module} (for {type_name}) defines no materializer"
        assert all(default_registry.by_path(m.dotted_path()) is m for m in registered)


def _cycle(edges: dict[str, set[str]]) -> list[str]:
    """A circle in the graph ``edges`` (node -> nodes it imports), or ``[]``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


def _part_graph(level: dict[str, str] | None) -> dict[str, set[str]]:
    """Who imports whom, by top-level part (``level=None``) or by the picture's part; plug-in
    entries and TYPE_CHECKING imports are not edges (see the module docstring)."""
    graph: dict[str, set[str]] = {}
    for module, edges in EDGES.items():
        source = part_of(module)
        for edge in edges:
            target = package_part(edge.name)
            if target is None or edge.kind == "plugin" or edge.type_checking:
                continue
            a, b = (source, target) if level is None else (level.get(source), level.get(target))
            if a is not None and b is not None and a != b:
                graph.setdefault(a, set()).add(b)
    return graph


def test_no_import_circle_between_the_top_level_parts() -> None:
    circle = _cycle(_part_graph(None))
    assert not circle, "import circle: " + " -> ".join(circle)


def test_no_import_circle_between_the_pictures_parts() -> None:
    circle = _cycle(_part_graph(PICTURE_PARTS))
    assert not circle, "import circle: " + " -> ".join(circle)


def test_hooks_imports_nothing_of_the_package() -> None:
    assert [e.name for e in EDGES[PACKAGE / "hooks.py"] if package_part(e.name)] == []


def test_string_imports_are_seen() -> None:
    """The checks above see through importlib and dotted-path tables."""
    edges = {(e.name, e.kind) for e in EDGES[PACKAGE / "rendering.py"]}
    assert ("zenml_widgets.display.views", "plugin") in edges
    edges = {(e.name, e.kind) for e in EDGES[PACKAGE / "visualizers" / "__init__.py"]}
    assert ("zenml_widgets.visualizers.statistics", "string") in edges
    edges = {(e.name, e.kind) for e in EDGES[PACKAGE / "__init__.py"]}
    assert ("zenml_widgets.widgets", "string") in edges


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


def test_importing_the_package_imports_no_data_library() -> None:
    code = (
        "import sys, zenml_widgets; "
        "heavy = ('pandas', 'numpy', 'pyarrow', 'tensorflow', 'keras', 'IPython', 'ipywidgets'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
