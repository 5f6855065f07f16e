"""Shared fixtures: a tmp_path database, a store with the default pipeline, services on a fixed clock, the CLI."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner, Result

from relman_tui.cli import cli
from relman_tui.demo import DEFAULT_PIPELINE
from relman_tui.model import Environment
from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NOW_TEXT = "2026-12-01T10:00:00Z"


def default_environments() -> list[Environment]:
    return [
        Environment(name, title, position, capacity, approval)
        for position, (name, title, capacity, approval) in enumerate(DEFAULT_PIPELINE, start=1)
    ]


def new_store(path: Path) -> Store:
    """A fresh relman database at ``path`` holding the default pipeline (and no events)."""
    store = Store.open(path, create=True)
    with store.write():
        store.save_environments(default_environments())
    return store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "relman.db"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = new_store(db_path)
    yield store
    store.close()


@pytest.fixture
def service(store: Store, clock: FixedClock) -> Service:
    return Service(store, clock, "alice")


@pytest.fixture
def open_service(db_path: Path, clock: FixedClock) -> Iterator[Callable[..., Service]]:
    """Open another Service on its own connection: ``open_service("bob")`` (same file, same clock)."""
    opened: list[Store] = []

    def make(actor: str = "bob", path: Path | None = None, read_only: bool = False) -> Service:
        other = Store.open(path or db_path, read_only=read_only)
        opened.append(other)
        return Service(other, clock, actor)

    yield make
    for other in opened:
        other.close()


@dataclass
class Run:
    """``relman --db DB --tz UTC --as ACTOR ARGS…`` through click's CliRunner, at a fixed *now*."""

    db: Path
    home: Path
    runner: CliRunner = field(default_factory=CliRunner)

    def env(self) -> dict[str, str | None]:
        return {
            "RELMAN_NOW": NOW_TEXT,
            "RELMAN_TZ": "UTC",
            "RELMAN_DB": None,
            "RELMAN_DEBUG": None,
            # never read or write the real user's files
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_STATE_HOME": str(self.home / "state"),
        }

    def __call__(self, *args: str, actor: str = "alice", db: Path | None = None, tz: str = "UTC") -> Result:
        """Run as the OS account ``actor`` (faked at the one place relman reads it)."""
        argv = ["--db", str(db or self.db), "--tz", tz, *args]
        return self.raw(*argv, account=actor)

    def raw(self, *argv: str, env: dict[str, str | None] | None = None, account: str = "alice") -> Result:
        with as_account(account):
            result = self.runner.invoke(cli, list(argv), env={**self.env(), **(env or {})}, prog_name="relman")
        assert "Traceback" not in result.stderr, result.stderr
        assert "Traceback" not in result.stdout, result.stdout
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), repr(result.exception)
        return result

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self.ok(*args, "--json", **kwargs).stdout)

    def dump(self, db: Path | None = None) -> str:
        """Everything a bad command must leave alone, as text to compare before and after."""
        parts = [
            self.ok("release", "list", "--all", "--json", db=db).stdout,
            self.ok("log", "--json", db=db).stdout,
            self.ok("env", "list", "--json", db=db).stdout,
            self.ok("freeze", "list", "--json", db=db).stdout,
        ]
        return "\n".join(parts)


def as_account(name: str) -> Any:
    """Make relman believe the OS account running it is ``name`` (the one place identity is read)."""
    return mock.patch("relman_tui.identity.os_account", return_value=name)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(tmp_path / "cli.db", tmp_path / "home")


def copy_database(source: Path, target: Path) -> None:
    """Copy a closed relman database file (and a WAL, should one be left) to ``target``, privately."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
            os.chmod(f"{target}{suffix}", 0o600)


@pytest.fixture(scope="session")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database made by ``relman init``, copied for each test that wants it (init is slow-ish: fsyncs)."""
    home = tmp_path_factory.mktemp("init")
    template = Run(home / "template.db", home)
    template.ok("init")
    return template.db


@pytest.fixture
def board(run: Run, initialised: Path) -> Run:
    """``run`` on a database made by ``relman init`` (the default pipeline)."""
    copy_database(initialised, run.db)
    return run


def one_line(text: str) -> str:
    """The single line of ``text``; fails unless there is exactly one."""
    lines = text.splitlines()
    assert len(lines) == 1, lines
    return lines[0]
