"""The core knows nothing of Textual, and every command of the CLI explains itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

import relman_tui
from relman_tui.cli import cli

PACKAGE = Path(relman_tui.__file__).parent
CORE = sorted(p for p in PACKAGE.rglob("*.py") if "tui" not in p.relative_to(PACKAGE).parts[:-1])
UI_ONLY = ("textual", "rich")  # rich comes with textual; the core prints with click and text.py


def imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_the_core_is_found() -> None:
    names = {p.name for p in CORE}
    assert {"group.py", "service.py", "contract.py", "sqlite.py", "gates.py", "model.py"} <= names
    assert not any("tui" in p.relative_to(PACKAGE).parts[:-1] for p in CORE)


@pytest.mark.parametrize("path", CORE, ids=[str(p.relative_to(PACKAGE)) for p in CORE])
def test_no_core_module_imports_textual(path: Path) -> None:
    offending = [m for m in imported_modules(path) if m.split(".")[0] in UI_ONLY]
    assert offending == [], f"{path.name} imports {offending}"


def test_importing_the_core_loads_no_textual_at_run_time() -> None:
    modules = sorted(
        "relman_tui." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
        for p in CORE
        if p.name not in ("__init__.py", "__main__.py")
    )
    code = (
        "import sys, importlib\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {UI_ONLY!r})\n"
        "assert not loaded, loaded\n"
        "print('clean')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_running_a_cli_command_loads_no_textual(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from relman_tui.cli import main\n"
        "try:\n"
        f"    main(['--db', {str(tmp_path / 'x.db')!r}, 'init'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "assert 'textual' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "RELMAN_NOW": "2026-12-01T10:00:00Z", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr


def test_a_cli_command_on_an_up_to_date_board_loads_only_what_it_needs(tmp_path: Path) -> None:
    """No textual or rich outside the board, no sqlite-utils unless a migration runs, no pendulum unless the
    system's zone must be found, no psycopg for a file: the CLI starts at its import floor."""
    db = tmp_path / "x.db"
    env = {"PATH": "/usr/bin:/bin", "RELMAN_NOW": "2026-12-01T10:00:00Z", "HOME": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-m", "relman_tui", "--db", str(db), "init"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    code = (
        "import sys\n"
        "from relman_tui.cli import main\n"
        "try:\n"
        f"    main(['--db', {str(db)!r}, '--tz', 'UTC', 'env', 'list', '--json'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'sqlite_utils', 'pendulum', "
        "'psycopg', 'icalendar'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_the_store_knows_every_migration_without_importing_them() -> None:
    import sqlite3

    from relman_tui.store import KNOWN_MIGRATIONS
    from relman_tui.store.sqlite_schema import SqliteMigrator

    assert set(SqliteMigrator(sqlite3.connect(":memory:")).names) == KNOWN_MIGRATIONS


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(cli))
CONTRACT = {
    "tui",
    "demo",
    "init",
    "env list",
    "env add",
    "release add",
    "release list",
    "release show",
    "move",
    "verify",
    "fail",
    "approve",
    "rollback",
    "cancel",
    "schedule",
    "unschedule",
    "freeze add",
    "freeze list",
    "freeze remove",
    "conflicts",
    "log",
    "export",
    "import",
    "config init",
    "insights",
}


def test_every_command_of_the_contract_exists() -> None:
    names = {" ".join(path) for path, command in COMMANDS if not isinstance(command, click.Group)}
    assert names >= CONTRACT, CONTRACT - names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "relman" for p, _ in COMMANDS])
def test_every_command_and_option_has_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"`relman {' '.join(path)}` has no help"
    missing = [
        param.opts[0] for param in command.params if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert missing == [], f"`relman {' '.join(path)}` options without help: {missing}"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) or "relman" for p, _ in COMMANDS])
def test_help_runs_for_every_command(path: tuple[str, ...]) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="relman")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: relman")
