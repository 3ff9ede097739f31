"""The layout holds: no import circles in the app, calls run one way, families stay apart.

Every import counts, at module level or inside a function (a local import that dodges a
circle is still a circle).
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = "datasources"
MAX_LINES = 300

# Lower ranks never import higher ones; selectors are reads, which services call, never the reverse.
# Connectors see no models (they are handed instances);
# models read the connector registry only for the type choices.
RANKS = {
    "security": 0, "connectors": 1, "models": 2, "catalogue": 3, "selectors": 4,
    "services": 5, "tasks": 6,
    "api": 7, "admin": 7, "management": 7, "apps": 8,
}
FAMILIES = ("sql", "nosql", "files", "http")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in (ROOT / APP).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(path: Path, modules) -> set[str]:
    """The app modules ``path`` imports (``from pkg import mod`` counts as importing ``pkg.mod``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from pkg import mod`` imports pkg.mod; ``from pkg import name`` imports pkg itself.
            names = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name in modules:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def family(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "connectors" and parts[2] in FAMILIES:
        return parts[2]
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle_in_the_app():
    edges = graph()
    # An __init__ that re-exports its own modules is not a circle with them.
    edges = {m: {t for t in targets if not t.startswith(m + ".")} for m, targets in edges.items()}
    assert cycles(edges) == []


def test_calls_run_one_way():
    wrong = [
        f"{source} -> {target}"
        for source, targets in graph().items()
        for target in targets
        if layer(source) in RANKS and layer(target) in RANKS and RANKS[layer(target)] > RANKS[layer(source)]
    ]
    assert wrong == []


def test_connector_families_never_import_each_other():
    wrong = [
        f"{source} -> {target}"
        for source, targets in graph().items()
        for target in targets
        if family(source) and family(target) and family(source) != family(target)
    ]
    assert wrong == []


@pytest.mark.parametrize("path", sorted(p for p in (ROOT / APP).rglob("*.py") if "migrations" not in p.parts),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_short(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
