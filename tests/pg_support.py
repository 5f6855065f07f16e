"""A throwaway PostgreSQL cluster for the tests: initdb into a temporary directory, a Unix socket there.

The cluster runs as a non-root account (PostgreSQL refuses root: the tests run as root in CI,
so the server runs as ``postgres`` there), listens only on a socket in its own directory (under
a free port number), trusts local connections (any role may connect as itself: the tests play
several people), and is stopped at the end — also when the test process dies, by a watchdog
that waits for the test process's end of a pipe to close.

Every test gets a database holding exactly what a template holds (a board made by `relman pg
setup`, with or without the default pipeline and its events): a copy of the template the first
time, then a used one reset to the template's rows, so tests never see each other's rows and
none waits for CREATE DATABASE. Under pytest-xdist each worker has a cluster of its own.

Where no server binaries exist (or psycopg is missing), :func:`skip_reason` says why and the
PostgreSQL half of the suite is skipped.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

SERVER_ACCOUNT = "postgres"  # who runs the server when the tests run as root
SUPERUSER = "postgres"
ADMIN_ROLE = "relman_admin"  # owns the boards the tests make
ADMIN_LOGIN = "admin"  # a person who is a member of the admin role
READER_ROLE_LOGIN = "wallboard"  # a login in relman_reader
NOT_RUNNERS = frozenset({"mallory", "eve"})  # operators only: the attackers of tests/test_pg_attacks.py
EMPTY_TEMPLATE = "relman_empty"  # after `relman pg setup`, nothing else (like a fresh file)
TEMPLATE = "relman_template"  # pg setup + the default pipeline, no events (like conftest.new_store)
INIT_TEMPLATE = "relman_init"  # pg setup + `relman init` by the admin (like conftest's `initialised`)
RESET_TABLES = ("events", "windows", "freezes", "releases", "environments", "settings", "migrations", "hook_cursor")

_WATCHDOG = r"""
import shutil, subprocess, sys
sys.stdin.read()  # returns when the test process is gone (or closed the pipe)
args = sys.argv[1:]
subprocess.run(args[:-1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False)
shutil.rmtree(args[-1], ignore_errors=True)
"""


def bindir() -> Path | None:
    """Where initdb, pg_ctl and postgres live: ``pg_config --bindir``, else ``initdb`` on PATH."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30).stdout.strip()
            if out and (Path(out) / "initdb").exists() and (Path(out) / "pg_ctl").exists():
                return Path(out)
    initdb = shutil.which("initdb")
    if initdb:
        folder = Path(initdb).resolve().parent
        if (folder / "pg_ctl").exists():
            return folder
    return None


def skip_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here, or ``None`` when they can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install '.[test]'): the PostgreSQL half of the suite is skipped"
    if bindir() is None:
        return (
            "no PostgreSQL server binaries (initdb, pg_ctl; `pg_config --bindir`): the PostgreSQL half of the "
            "suite is skipped"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            return (
                f"running as root and there is no {SERVER_ACCOUNT!r} account to run the server as: the "
                "PostgreSQL half of the suite is skipped"
            )
    return None


def default_environments() -> list[Any]:
    from relman_tui.demo import DEFAULT_PIPELINE
    from relman_tui.model import Environment

    return [
        Environment(name, title, position, capacity, approval)
        for position, (name, title, capacity, approval) in enumerate(DEFAULT_PIPELINE, start=1)
    ]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """One running throwaway cluster, its roles, and fresh databases made from the templates."""

    def __init__(self) -> None:
        found = bindir()
        assert found is not None
        self.bindir = found
        self.root = Path(tempfile.mkdtemp(prefix="relman-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_server: dict[str, Any] = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_ACCOUNT)
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_server = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        self._env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        self._env.pop("PGDATA", None)
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._roles: set[str] = set()
        self.running = False
        # a test's database goes back to a pool when it is done, and is reset to its template's rows
        # for the next test: much cheaper than CREATE DATABASE each time
        self._baseline: dict[str, list[tuple[str, list[str], list[tuple[Any, ...]]]]] = {}
        self._template_of: dict[str, str] = {}
        self._free: dict[str, list[str]] = {}

    # -- life ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self._server(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        settings = {
            "listen_addresses": "''",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
        }
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, *self._stop_command("immediate"), str(self.root)],
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        self.start_server()
        self.running = True

    def stop_server(self) -> None:
        self._server(*self._stop_command("fast"))

    def start_server(self) -> None:
        self._server(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._server(*self._stop_command("immediate"))
            self.running = False
        if self._watchdog is not None:
            with contextlib.suppress(OSError):
                assert self._watchdog.stdin is not None
                self._watchdog.stdin.close()  # the watchdog cleans up after itself, and the directory
            with contextlib.suppress(subprocess.SubprocessError):
                self._watchdog.wait(60)
        shutil.rmtree(self.root, ignore_errors=True)

    def _stop_command(self, mode: str) -> list[str]:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_ACCOUNT, "--", *command]
        return command

    def _server(self, *command: str) -> None:
        argv = list(command)
        kwargs: dict[str, Any] = {}
        if argv[0] == "runuser":
            pass  # already switches account itself
        elif self._as_server:
            kwargs = dict(self._as_server)
        done = subprocess.run(
            argv, capture_output=True, text=True, env=self._env, timeout=120, cwd=self.root, check=False, **kwargs
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}{done.stdout}\n{tail}")

    # -- addresses and connections -------------------------------------------------------------------

    def url(self, database: str, user: str | None = None) -> str:
        """A libpq URL for ``database`` over the cluster's socket (and as ``user``, when given)."""
        url = f"postgresql:///{database}?host={self.root}&port={self.port}"
        return url + (f"&user={user}" if user else "")

    def connect(self, database: str = "postgres", user: str = SUPERUSER) -> Any:
        import psycopg

        return psycopg.connect(self.url(database, user), autocommit=True)

    def sql(self, statement: str, *params: Any, database: str = "postgres", user: str = SUPERUSER) -> list[Any]:
        """Run one statement on a connection of its own; the rows it returned, if any."""
        with self.connect(database, user) as conn:
            cursor = conn.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else []

    # -- roles and databases --------------------------------------------------------------------------

    def ensure_role(self, name: str, *, group: str = "relman_operator") -> str:
        """A login role ``name`` that is a member of ``group`` (made once per cluster); operators run hooks
        too (relman_runner), except the ones named in ``NOT_RUNNERS``."""
        if name in self._roles:
            return name
        from psycopg import sql

        with self.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(name)))
            if group == "relman_operator" and name not in NOT_RUNNERS:
                conn.execute(sql.SQL("GRANT relman_runner TO {}").format(sql.Identifier(name)))
        self._roles.add(name)
        return name

    def make_templates(self, now: datetime) -> None:
        """The boards tests start from: set up only; set up with the default pipeline and no events (as
        conftest's ``new_store``); and set up, then `relman init` by the admin (as conftest's ``initialised``)."""
        from relman_tui.demo import add_default_pipeline
        from relman_tui.service import Service
        from relman_tui.store.pg import PgStore
        from relman_tui.store.pg_schema import setup
        from relman_tui.timeutil import FixedClock

        for name in (EMPTY_TEMPLATE, TEMPLATE, INIT_TEMPLATE):
            self.sql(f'CREATE DATABASE "{name}"')
            setup(self.url(name, SUPERUSER), ADMIN_ROLE)
            # the tests' clock is fixed (conftest's NOW): their boards are fixed-clock boards
            self.sql("INSERT INTO relman.settings (key, value) VALUES ('fixed_clock', 'on')", database=name)
        self.ensure_role(ADMIN_LOGIN, group=ADMIN_ROLE)
        store = PgStore.open(self.url(TEMPLATE, ADMIN_LOGIN))
        try:
            with store.write():
                store.save_environments(default_environments())
                store.set_setting("admins", json.dumps([ADMIN_LOGIN]))  # as conftest's new_store, with no events
                store.set_setting("fixed_clock", "on")
        finally:
            store.close()
        store = PgStore.open(self.url(INIT_TEMPLATE, ADMIN_LOGIN))
        try:
            add_default_pipeline(Service(store, FixedClock(now), ADMIN_LOGIN))
        finally:
            store.close()

    def fresh_database(self, template: str = TEMPLATE) -> str:
        """A database holding exactly what ``template`` holds: a used one reset, else a new copy."""
        free = self._free.setdefault(template, [])
        while free:
            name = free.pop()
            try:
                self._reset(name, template)
            except Exception:  # a database a test left unusable is simply dropped
                self._drop(name)
                continue
            return name
        name = f"t{os.getpid()}_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        self._template_of[name] = template
        return name

    def drop_database(self, name: str) -> None:
        """Done with ``name``: back to its template's pool (or dropped, if it came from no template)."""
        template = self._template_of.get(name)
        if template is None:
            self._drop(name)
        else:
            self._free.setdefault(template, []).append(name)

    def _drop(self, name: str) -> None:
        self._template_of.pop(name, None)
        with contextlib.suppress(Exception):
            self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _capture(self, template: str) -> None:
        """Remember every row of a template's board, to reset a used database to it."""
        tables = []
        with self.connect(template) as conn:
            for table in RESET_TABLES:
                cursor = conn.execute(f"SELECT * FROM relman.{table}")
                columns = [c.name for c in cursor.description or ()]
                tables.append((table, columns, [tuple(r) for r in cursor.fetchall()]))
        self._baseline[template] = tables

    def _reset(self, name: str, template: str) -> None:
        """Cut every other session to ``name``, and put its template's rows back, triggers skipped."""
        if template not in self._baseline:
            self._capture(template)
        with self.connect(name) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")  # the log's guards stand aside
                conn.execute("SET LOCAL lock_timeout = '30s'")
                conn.execute(f"TRUNCATE {', '.join('relman.' + t for t in RESET_TABLES)} RESTART IDENTITY")
                for table, columns, rows in self._baseline[template]:
                    if rows:
                        quoted = ", ".join(f'"{c}"' for c in columns)
                        marks = ", ".join(["%s"] * len(columns))
                        conn.cursor().executemany(f"INSERT INTO relman.{table} ({quoted}) VALUES ({marks})", rows)


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
