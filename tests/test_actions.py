"""Event actions: one enum whose values are the stored strings, and no action spelt as a bare string."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from relman_tui.actions import HOOK_ACTIONS, HOOK_OUTCOMES, RULE_CHANGES, Action
from relman_tui.service import Service

PACKAGE = Path(__file__).resolve().parent.parent / "relman_tui"
# the store and its schemas speak SQL (and are being rebuilt on another branch); the rest of the package
# names actions only through the enum
NOT_SWEPT = ("store", "pg_", "schema_sqlite")

# what the logs on disk and on servers hold: these strings never change
STORED = [
    "created",
    "edited",
    "moved",
    "rolled_back",
    "verified",
    "failed",
    "approved",
    "cancelled",
    "scheduled",
    "unscheduled",
    "freeze_added",
    "freeze_removed",
    "env_added",
    "env_changed",
    "env_removed",
    "setting_changed",
    "imported",
    "hook_added",
    "hook_removed",
    "hook_ran",
    "hook_failed",
    "board_created",
    "board_copied",
    "state_checkpoint",
]


def test_the_values_are_the_stored_strings() -> None:
    assert [str(a) for a in Action] == STORED
    assert f"{Action.ROLLED_BACK}" == "rolled_back"


def test_a_hook_never_reacts_to_a_hook_outcome() -> None:
    assert {"hook_ran", "hook_failed"} == HOOK_OUTCOMES
    assert not HOOK_ACTIONS & HOOK_OUTCOMES
    assert set(Action) >= RULE_CHANGES


def _swept() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if not p.relative_to(PACKAGE).as_posix().startswith(NOT_SWEPT)]


def _is_action(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "action") or (
        isinstance(node, ast.Attribute) and node.attr == "action"
    )


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for element in node.elts for s in _strings(element)]
    return []


@pytest.mark.parametrize("path", _swept(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_action_is_a_bare_string(path: Path) -> None:
    """``event.action == "moved"``, ``NewEvent("moved", …)``: each one a misspelling mypy cannot see."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare) and any(_is_action(n) for n in (node.left, *node.comparators)):
            found += [f"line {node.lineno}: {s!r}" for n in node.comparators for s in _strings(n) if s in STORED]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "NewEvent":
            first = node.args[0] if node.args else None
            found += [f"line {node.lineno}: NewEvent({s!r})" for s in (_strings(first) if first else [])]
    assert not found, found


def test_what_the_service_logs_is_an_action_and_reads_back_as_its_string(service: Service) -> None:
    release = service.add_release("payments-api", "2.4.1")
    service.move(release.id, "dev")
    actions = [e.action for e in service.events(release.id)]
    assert actions == ["created", "moved"]
    assert all(a in set(Action) for a in actions)
