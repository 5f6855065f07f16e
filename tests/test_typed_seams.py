"""The seams are typed: a renamed service method or Host method turns mypy red where it is used."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "relman_tui"

pytestmark = pytest.mark.slow  # a mypy run on a copy of the package: tens of seconds


def mypy_errors(tmp_path: Path, file: str, old: str, new: str) -> dict[str, list[str]]:
    """mypy strict on a copy of the package with ``old`` renamed to ``new`` in ``file``: its errors by file."""
    copy = tmp_path / "relman_tui"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "relman_tui", "--cache-dir", str(tmp_path / ".mypy_cache")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    errors: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        if found := re.match(r"(relman_tui/[\w/]+\.py):\d+: error: (.*)", line):
            errors.setdefault(found[1], []).append(found[2])
    return errors


def test_a_renamed_service_method_fails_at_its_cli_and_tui_call_sites(tmp_path: Path) -> None:
    errors = mypy_errors(tmp_path, "service.py", "    def move(\n", "    def move_release(\n")
    missing = '"Service" has no attribute "move"'
    for call_site in ("relman_tui/cli/releases.py", "relman_tui/tui/screens/board_actions.py", "relman_tui/undo.py"):
        assert any(missing in error for error in errors.get(call_site, [])), (call_site, errors)


def test_a_renamed_host_method_of_the_app_fails_the_type_check(tmp_path: Path) -> None:
    errors = mypy_errors(tmp_path, "tui/app.py", "    def toggle_utc(self) -> None:", "    def flip_utc(self) -> None:")
    app_errors = errors.get("relman_tui/tui/app.py", [])
    assert any('"RelmanApp"' in error and '"Host"' in error for error in app_errors), errors
