"""Shared fixtures: a tmp_path database, a store with the default pipeline, services on a fixed clock, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from backends import Backend, PgBackend, SqliteBackend
from click.testing import CliRunner, Result
from hypothesis import settings as hypothesis_settings
from pg_support import Cluster, running_cluster, skip_reason

from relman_tui.cli import cli
from relman_tui.dburl import Target
from relman_tui.demo import DEFAULT_PIPELINE
from relman_tui.details import ReleaseRecord
from relman_tui.model import Environment
from relman_tui.service import Service
from relman_tui.store import BoardStore, Store
from relman_tui.timeutil import FixedClock

# Property tests judge answers, never speed: no deadline (two workers share two cores), no example database.
hypothesis_settings.register_profile("relman", deadline=None, database=None)
hypothesis_settings.load_profile("relman")

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NOW_TEXT = "2026-12-01T10:00:00Z"


def default_environments() -> list[Environment]:
    return [
        Environment(name, title, position, capacity, approval)
        for position, (name, title, capacity, approval) in enumerate(DEFAULT_PIPELINE, start=1)
    ]


FIXTURE_ADMINS = ("alice", "admin")  # the admins of the tests' boards (a `relman init` board: alice made it)


def new_store(path: Path) -> Store:
    """A fresh relman database at ``path`` holding the default pipeline (and no events); alice and admin are
    its admins and it is a fixed-clock board, set straight in the table (so `log --verify` would name them)."""
    store = Store.open(path, create=True)
    with store.write():
        store.save_environments(default_environments())
        store.set_setting("admins", json.dumps(list(FIXTURE_ADMINS)))
        store.set_setting("fixed_clock", "on")
    return store


# --- one board, on either backend ----------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run the test on a SQLite file and on a PostgreSQL server")
    config.addinivalue_line("markers", "sqlite_only(why): in a both_backends module, a test only a file can run")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The fuzzing's figures, once its tests have run (in this process: each xdist worker says its own)."""
    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None:
        fuzz.report_the_inputs_tried()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_backends`` run twice: ``backend`` (and every fixture built on it) is SQLite, then
    PostgreSQL. Other tests get SQLite alone, as before."""
    definition = metafunc.definition
    if (
        "backend" in metafunc.fixturenames
        and definition.get_closest_marker("both_backends")
        and not definition.get_closest_marker("sqlite_only")
    ):
        metafunc.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def pre_chain_board(path: Path, *more: str) -> None:
    """A file as relman left it before the hash chain (migration m001 only): environment dev, release 1
    (ledger 1.0, deployed in dev, bob's) and its `created` event, then the ``more`` statements."""
    from sqlite_utils import Database

    from relman_tui.store.sqlite_schema import migrations

    db = Database(path)
    migrations.apply(db, stop_before="m002_identity_and_chain")
    db.execute("INSERT INTO environments VALUES ('dev', 'Dev', 1, 1, 0)")
    db.execute(
        "INSERT INTO releases (name, version, components, owner, risk, stage, state, notes, created_at, "
        "updated_at) VALUES ('ledger', '1.0', '[\"ledger\"]', 'bob', 'low', 'dev', 'deployed', '', "
        "'2026-11-01T10:00:00Z', '2026-11-01T11:00:00Z')"
    )
    db.execute(
        'INSERT INTO events (at, actor, release, action, "to") VALUES '
        "('2026-11-01T10:00:00Z', 'bob', 1, 'created', 'planned')"
    )
    for statement in more:
        db.execute(statement)
    db.conn.commit()
    db.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the session (per xdist worker), or a skip saying why not."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with running_cluster() as cluster:
        cluster.make_templates(NOW)
        yield cluster


@pytest.fixture
def pg(pg_cluster: Cluster) -> Iterator[PgBackend]:
    """A fresh board with the default pipeline on the session's cluster (the PostgreSQL-only tests)."""
    backend = PgBackend(pg_cluster)
    backend.make("pipeline")
    yield backend
    backend.close()


@pytest.fixture
def backend(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Backend]:
    chosen: Backend
    if getattr(request, "param", "sqlite") == "postgres":
        chosen = PgBackend(request.getfixturevalue("pg_cluster"))
    else:
        chosen = SqliteBackend(db_path, lambda: request.getfixturevalue("initialised"))
    yield chosen
    chosen.close()


@pytest.fixture(autouse=True)
def _private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """What relman keeps per account (the witness of verified logs, the board's error log) stays in the test."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "relman.db"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store(backend: Backend) -> Iterator[BoardStore]:
    """The default pipeline and no events, opened as alice (on PostgreSQL: connected as the role alice)."""
    backend.make("pipeline")
    store = backend.open("alice")
    yield store
    store.close()


@pytest.fixture
def service(store: BoardStore, clock: FixedClock) -> Service:
    return Service(store, clock, "alice")


@pytest.fixture
def open_service(backend: Backend, clock: FixedClock) -> Iterator[Callable[..., Service]]:
    """Open another Service on its own connection: ``open_service("bob")`` (same board, same clock)."""
    opened: list[BoardStore] = []

    def make(actor: str = "bob", path: Target | None = None, read_only: bool = False) -> Service:
        # a file of the test's own (SQLite), else the test's board, as ``actor`` (a URL: the same board)
        if isinstance(path, Path):
            other: BoardStore = Store.open(path, read_only=read_only)
        else:
            other = backend.open(actor, read_only=read_only)
        opened.append(other)
        return Service(other, clock, actor)

    yield make
    for other in opened:
        other.close()


@dataclass
class Run:
    """``relman --db DB --tz UTC --as ACTOR ARGS…`` through click's CliRunner, at a fixed *now*."""

    db: Target
    home: Path
    backend: Backend | None = None
    runner: CliRunner = field(default_factory=CliRunner)

    @property
    def path(self) -> Path:
        """The board's file, for a test that reads or changes the file itself (a SQLite board only)."""
        assert isinstance(self.db, Path), f"not a file: {self.db}"
        return self.db

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

    def __call__(self, *args: str, actor: str = "alice", db: Target | None = None, tz: str = "UTC") -> Result:
        """Run as the OS account ``actor`` (faked at the one place relman reads it)."""
        argv = ["--db", str(db or self.db), "--tz", tz, *args]
        return self.raw(*argv, account=actor)

    def raw(self, *argv: str, env: Mapping[str, str | None] | None = None, account: str = "alice") -> Result:
        """Run as the OS account ``account`` (on PostgreSQL: connecting as the role ``account``)."""
        if self.backend is not None:
            self.backend.account(account)
        with as_account(account):
            result = self.runner.invoke(
                cli, list(argv), env={**self.env(), "PGUSER": account, **(env or {})}, prog_name="relman"
            )
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

    def dump(self, db: Target | None = None) -> str:
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
def run(tmp_path: Path, backend: Backend) -> Run:
    """The CLI on a board that does not exist yet (a SQLite path), or on PostgreSQL a database after
    `relman pg setup` and nothing else."""
    if isinstance(backend, PgBackend):
        return Run(backend.make("empty"), tmp_path / "home", backend)
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
    template.ok("init")  # made under $RELMAN_NOW: a fixed-clock board, alice its first admin
    template.ok("settings", "admins", "add", "admin")
    return template.path


@pytest.fixture
def board(run: Run, request: pytest.FixtureRequest) -> Run:
    """``run`` on a database made by ``relman init`` (the default pipeline; on PostgreSQL, by the admin)."""
    if isinstance(run.backend, PgBackend):
        run.db = run.backend.make("init")
        return run
    assert isinstance(run.db, Path)
    copy_database(request.getfixturevalue("initialised"), run.db)
    return run


# `relman freeze add` of the demo's weekend change freeze (what several CLI tests add)
WEEKEND_FREEZE = (
    "freeze", "add", "prod", "--cron", "0 18 * * FRI", "--for", "62h", "--zone", "Europe/Berlin", "--reason", "weekend",
)  # fmt: skip


RECORD_KEYS = ("release", "window", "freeze", "environment", "pipeline")  # what issue 18 added to events


def without_records(details: Mapping[str, Any]) -> dict[str, Any]:
    """An event's details without the full records every event now carries (for tests of the other keys)."""
    return {k: v for k, v in details.items() if k not in RECORD_KEYS or (k == "environment" and isinstance(v, str))}


def refused(result: Result) -> str:
    """The one stderr line of a command a rule refused (exit 1)."""
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    line = one_line(result.stderr)
    assert line.startswith("relman: refused: ")
    return line


def bad(result: Result) -> str:
    """The one stderr line of a command given bad input (exit 2)."""
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    line = one_line(result.stderr)
    assert line.startswith("relman: error: ")
    return line


def one_line(text: str) -> str:
    """The single line of ``text``; fails unless there is exactly one."""
    lines = text.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def release_record_of(release: int, components: list[str], created_at: str, changed_at: str | None) -> ReleaseRecord:
    """A full release record (as every event stores one) for tests that only care about these fields."""
    return {
        "id": release,
        "name": f"r{release}",
        "version": "1",
        "components": components,
        "owner": "x",
        "risk": "low",
        "stage": "planned",
        "state": "pending",
        "approved_by": None,
        "approved_at": None,
        "notes": "",
        "created_at": created_at,
        "updated_at": created_at,
        "rev": 1,
        "created_by": "x",
        "unapproved": False,
        "changed_at": changed_at,
    }
