"""mypy strict on an edited copy of the package: how the tests show that a seam is typed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "relman_tui"


def mypy_errors(tmp_path: Path, edits: Mapping[str, tuple[str, str]]) -> dict[str, list[str]]:
    """mypy strict on a copy of the package with each ``file: (old, new)`` edit made (``old`` must be in
    its file once): the errors, by file (``relman_tui/…``)."""
    copy = tmp_path / "relman_tui"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for file, (old, new) in edits.items():
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
