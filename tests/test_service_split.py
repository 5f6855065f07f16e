"""The service stays split: no part of it passes 600 lines, and its names still import from relman_tui.service."""

from __future__ import annotations

from pathlib import Path

import pytest

import relman_tui.service as service

PACKAGE = Path(__file__).resolve().parent.parent / "relman_tui"
PARTS = sorted(PACKAGE.glob("service*.py"))


def test_the_service_has_its_parts() -> None:
    assert {p.stem for p in PARTS} >= {"service", "service_base", "service_board", "service_log", "service_values"}


@pytest.mark.parametrize("path", PARTS, ids=[p.name for p in PARTS])
def test_no_service_module_passes_600_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 600


@pytest.mark.parametrize(
    "name",
    [
        "Service",
        "Snapshot",
        "ConflictDiff",
        "HookOutcome",
        "APPROVAL_FIELDS",
        "board_delegates",
        "build_freeze",
        "event_record",
        "environment_record",
        "freeze_record",
        "hook_record",
    ],
)
def test_every_name_callers_use_still_imports_from_the_service(name: str) -> None:
    assert hasattr(service, name)


def test_the_use_cases_are_methods_of_one_service() -> None:
    for method in ("move", "schedule", "verify_log", "replace_board", "add_freeze", "snapshot", "record_hook_outcome"):
        assert callable(getattr(service.Service, method)), method
