"""The packages import downward only: no module of explorer/ or widgets/ imports (at its top or inside a
function) a module that imports it back, the engine's layers import only layers below them, and the engine
imports no widget. Read from the source (ast), so a cycle fails here even where lazy imports hide it at run
time; imports under ``if TYPE_CHECKING:`` are for annotations only and do not count."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
# explorer's subpackages, lowest first: each may import those before it, never those after it
LAYERS = ["_lazy", "errors", "columns", "paths", "items", "prompts", "metrics", "models", "scoring", "interventions",
          "probes", "distributed", "runs", "serve", "cli"]


def modules() -> dict[str, Path]:
    found = {}
    for package in ("explorer", "widgets"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (getattr(test, "id", None) == "TYPE_CHECKING"
                                         or getattr(test, "attr", None) == "TYPE_CHECKING")


def import_graph() -> nx.DiGraph:
    """module -> every project module it imports, and the packages whose ``__init__`` that import runs."""
    mods = modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = nx.DiGraph()
    for mod, path in mods.items():
        graph.add_node(mod)
        tree = ast.parse(path.read_text())
        hidden = {id(n) for block in ast.walk(tree) if _type_checking(block) for s in block.body for n in ast.walk(s)}
        own = {".".join(mod.split(".")[:i]) for i in range(1, mod.count(".") + 2)}
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [resolve(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else resolve(base) for a in node.names]
            for target in filter(None, targets):
                parts = target.split(".")
                for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ first
                    step = ".".join(parts[:i])
                    if step in mods and step not in own:
                        graph.add_edge(mod, step)
    return graph


def test_no_module_imports_itself_back():
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_the_engine_imports_downward_and_never_the_widgets():
    def layer(mod: str) -> int | None:
        parts = mod.split(".")
        return LAYERS.index(parts[1]) if parts[0] == "explorer" and len(parts) > 1 else None

    graph = import_graph()
    upward = [(a, b) for a, b in graph.edges if layer(a) is not None and layer(b) is not None and layer(b) > layer(a)]
    widgets = [(a, b) for a, b in graph.edges if a.startswith("explorer") and b.startswith("widgets")]
    assert not upward and not widgets, (upward, widgets)


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert graph.has_edge("widgets.heads", "explorer.probes.counterfactual")  # imported in a method, not at the top
    assert not graph.has_edge("widgets.heads", "explorer.models.handle")  # only under TYPE_CHECKING


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_imports(name):
    import importlib

    importlib.import_module(name)
