"""The TUI's shape: no import cycle, screens type against the Host protocol, one object owns the threads."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.binding import Binding

import relman_tui.tui
from relman_tui.tui.keys import KeyTable
from relman_tui.tui.screens.base import KeyedScreen
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.scheduler import SchedulerScreen

TUI = Path(relman_tui.tui.__file__).parent
PACKAGE = TUI.parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every relman_tui.tui module ``path`` imports, anywhere in the file (functions and TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name.startswith("relman_tui.tui."))
    return found


MODULES = {module_name(p): p for p in TUI.rglob("*.py")}
GRAPH = {name: {m for m in imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_no_module_of_the_tui_imports_the_app_but_the_entry_points() -> None:
    importers = {name for name, deps in GRAPH.items() if "relman_tui.tui.app" in deps}
    assert importers == {"relman_tui.tui.screenshots"}


def test_there_is_no_import_cycle_in_the_tui() -> None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import cycle: " + " → ".join([*path[path.index(name) :], name]))
        if name in done:
            return
        for dep in sorted(GRAPH[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(GRAPH):
        visit(name, [])


def test_only_the_session_starts_threads() -> None:
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if name != "relman_tui.tui.session":
            assert "thread=True" not in text and "call_from_thread" not in text, name
            assert ".store." not in text or name == "relman_tui.tui.app", name


def test_every_full_screen_has_one_key_table_and_its_bindings_come_from_it() -> None:
    for screen in (BoardScreen, SchedulerScreen, DetailScreen):
        assert issubclass(screen, KeyedScreen)
        assert isinstance(screen.KEYS, KeyTable)
        bound: set[tuple[str, str]] = set()
        for binding in screen.BINDINGS:
            assert isinstance(binding, Binding), binding  # made by the table, never a bare tuple
            bound.add((binding.key, binding.action))
        assert bound == {(k.keys, k.action) for k in screen.KEYS.keys}
        assert screen.KEYS.find("help") is not None and screen.KEYS.find("quit") is not None
        quitting = [k for k in screen.KEYS.keys if k.small]
        assert [k.name for k in quitting] == ["quit"]  # behind the too-small notice only quit acts
