"""The README's quick start and CI stay in step: CI runs the README's test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_quick_start_has_two_commands_one_for_the_board_one_for_the_tests() -> None:
    blocks = quick_start()
    assert len(blocks) == 2
    assert all("\n" not in block for block in blocks)
    assert "relman" in blocks[0] and " demo" in blocks[0] and "--no-tui" not in blocks[0]
    assert "pytest" in blocks[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start()[1] in ci


def test_readme_shows_screenshots_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shots = re.findall(r"\]\((screenshots/[^)]+\.svg)\)", readme)
    assert shots
    for shot in shots:
        assert (ROOT / shot).is_file(), shot


def test_readme_describes_the_scheduler_and_names_no_missing_file() -> None:
    """Issue 11: the README had no scheduler section and pointed at a DESIGN.md the repository lacks."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n## The scheduler\n" in readme
    for name in re.findall(r"`?([A-Z][A-Z_]+\.md)`?", readme):
        assert (ROOT / name).is_file(), name


def test_readme_documents_the_json_fields_and_the_gap_rule_truly() -> None:
    """Issue 11: JSON field formats were documented nowhere; issue 15: the README called the gap rule
    cronie's, which runs a skipped job at the jump. The rule is RFC 5545's."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "JSON fields:" in readme and "`log --json` events carry" in readme
    assert "as cronie does" not in readme and "RFC 5545" in readme
