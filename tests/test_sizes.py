"""No module of the package passes 600 lines: a long module is where changes go to hide (STYLE.md, habit 13)."""

from __future__ import annotations

from pathlib import Path

import relman_tui

PACKAGE = Path(relman_tui.__file__).parent
MOST_LINES = 600


def long_modules(root: Path, most: int = MOST_LINES) -> list[str]:
    """``path: N lines`` for every module below ``root`` longer than ``most`` lines, in path order."""
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > most:
            found.append(f"{path.relative_to(root).as_posix()}: {lines} lines")
    return found


def test_the_check_names_each_module_over_the_limit(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "at_limit.py").write_text("x = 1\n" * 600, encoding="utf-8")
    (tmp_path / "sub" / "over.py").write_text("x = 1\n" * 601, encoding="utf-8")
    (tmp_path / "long.txt").write_text("x\n" * 700, encoding="utf-8")  # not a module
    assert long_modules(tmp_path) == ["sub/over.py: 601 lines"]


def test_no_module_of_the_package_passes_600_lines() -> None:
    assert len(list(PACKAGE.rglob("*.py"))) > 100  # the whole package, its subpackages too
    too_long = long_modules(PACKAGE)
    assert too_long == [], f"split by job (one reason each), not at a line count: {'; '.join(too_long)}"
