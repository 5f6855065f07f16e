"""The seams are typed: a renamed service method or Host method turns mypy red where it is used."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy_copy import mypy_errors

pytestmark = pytest.mark.slow  # a mypy run on a copy of the package: tens of seconds


def test_a_renamed_service_method_fails_at_its_cli_and_tui_call_sites(tmp_path: Path) -> None:
    errors = mypy_errors(tmp_path, {"service.py": ("    def move(\n", "    def move_release(\n")})
    missing = '"Service" has no attribute "move"'
    for call_site in ("relman_tui/cli/releases.py", "relman_tui/tui/screens/board_actions.py", "relman_tui/undo.py"):
        assert any(missing in error for error in errors.get(call_site, [])), (call_site, errors)


def test_a_renamed_host_method_of_the_app_fails_the_type_check(tmp_path: Path) -> None:
    errors = mypy_errors(
        tmp_path, {"tui/app.py": ("    def toggle_utc(self) -> None:", "    def flip_utc(self) -> None:")}
    )
    app_errors = errors.get("relman_tui/tui/app.py", [])
    assert any('"RelmanApp"' in error and '"Host"' in error for error in app_errors), errors
