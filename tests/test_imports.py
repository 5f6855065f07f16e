"""The package's imports: no cycle anywhere (imports inside functions count), and the store below its users."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import relman_tui

PACKAGE = Path(relman_tui.__file__).parent
KNOWN_CYCLES: list[list[str]] = []


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path) -> set[str]:
    """Every relman_tui module ``path`` imports, anywhere in the file (functions and TYPE_CHECKING too);
    ``from relman_tui.store import sqlite`` names the module ``relman_tui.store.sqlite``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return {name for name in found if name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (each sorted), in name order (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for dep in sorted(graph[name]):
            if dep not in index:
                visit(dep)
                low[name] = min(low[name], low[dep])
            elif dep in stack:
                low[name] = min(low[name], index[dep])
        if low[name] == index[name]:
            group: list[str] = []
            while not group or group[-1] != name:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(found)


def graph_of(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {name: imports(path) - {name} for name, path in modules.items()}


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import relman_tui.store.contract\n")
    (tmp_path / "b.py").write_text("def later() -> None:\n    from relman_tui.store import sqlite\n")
    graph = {
        "relman_tui.store.sqlite": {"relman_tui.store.contract"},
        "relman_tui.store.contract": imports(tmp_path / "b.py"),
    }
    assert cycles(graph) == [["relman_tui.store.contract", "relman_tui.store.sqlite"]]
    assert imports(tmp_path / "a.py") == {"relman_tui.store.contract"}


def test_there_is_no_import_cycle_in_the_package() -> None:
    assert cycles(graph_of(MODULES)) == KNOWN_CYCLES


def test_there_is_no_import_cycle_in_the_store() -> None:
    store = {name: path for name, path in MODULES.items() if name.startswith("relman_tui.store.")}
    assert len(store) >= 10
    graph = {name: deps & store.keys() for name, deps in graph_of(store).items()}
    assert cycles(graph) == []


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("relman_tui.store")))
def test_the_store_imports_none_of_its_users(name: str) -> None:
    users = ("relman_tui.service", "relman_tui.cli", "relman_tui.tui", "relman_tui.hooks", "relman_tui.demo")
    above = sorted(m for m in imports(MODULES[name]) if m.startswith(users))
    assert above == [], f"{name} imports {above}"


def test_the_contract_imports_none_of_its_implementations() -> None:
    deps = imports(MODULES["relman_tui.store.contract"]) - {"relman_tui.store.interrupt"}  # a type it names
    assert not any(m.startswith("relman_tui.store") for m in deps), deps
