"""The two backends behind one interface for the tests: where a board lives, how to open it as someone,
and how to look at its rows directly (as the file itself, or as the server's superuser).

A SQLite board is a file; who acts is the (faked) OS account. A PostgreSQL board is a fresh
database in the session's throwaway cluster; who acts is the role a store connects as, so
``open("bob")`` connects as the login role ``bob`` (made on first use, a member of
``relman_operator``), and the CLI is pointed at it with ``PGUSER``.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pg_support import (
    ADMIN_LOGIN,
    ADMIN_ROLE,
    EMPTY_TEMPLATE,
    INIT_TEMPLATE,
    READER_ROLE_LOGIN,
    SUPERUSER,
    TEMPLATE,
    Cluster,
)

from relman_tui.dburl import Target
from relman_tui.store import BoardStore, Store, open_store

KINDS = ("empty", "pipeline", "init")  # a fresh board; with the default pipeline and no events; after `relman init`


class Backend:
    """One board for one test, on one backend."""

    name = ""

    def make(self, kind: str) -> Target:
        """Create the test's board (``empty``, ``pipeline`` or ``init``); what ``--db`` takes."""
        raise NotImplementedError

    def target(self) -> Target:
        raise NotImplementedError

    def open(self, actor: str = "alice", *, read_only: bool = False) -> BoardStore:
        """A store on the board, acting as ``actor`` where the backend decides who acts (PostgreSQL)."""
        raise NotImplementedError

    def query(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows straight from the board's tables, bypassing relman (``?`` placeholders on both)."""
        raise NotImplementedError

    def account(self, name: str) -> None:
        """Make sure ``name`` may connect (PostgreSQL: a login role in ``relman_operator``)."""

    def close(self) -> None:
        pass


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, path: Path, initialised: Callable[[], Path]) -> None:
        self.path = path
        self._initialised = initialised  # the session's `relman init` database, made when first wanted

    def make(self, kind: str) -> Target:
        if kind == "pipeline":
            from conftest import new_store

            new_store(self.path).close()
        elif kind == "init":
            shutil.copyfile(self._initialised(), self.path)
            self.path.chmod(0o600)
        return self.path

    def target(self) -> Target:
        return self.path

    def open(self, actor: str = "alice", *, read_only: bool = False) -> BoardStore:
        return Store.open(self.path, read_only=read_only)

    def query(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.path)
        try:
            return [tuple(row) for row in conn.execute(statement, params).fetchall()]
        finally:
            conn.close()


class PgBackend(Backend):
    name = "postgres"

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.database: str | None = None

    def make(self, kind: str) -> str:
        """A fresh database from the template of that kind (replacing one made before)."""
        template = {"empty": EMPTY_TEMPLATE, "pipeline": TEMPLATE, "init": INIT_TEMPLATE}[kind]
        self.close()
        self.database = self.cluster.fresh_database(template)
        return self.target()

    def target(self) -> str:
        if self.database is None:
            self.make("empty")
        assert self.database is not None
        return self.cluster.url(self.database)

    def url(self, user: str) -> str:
        self.target()
        assert self.database is not None
        return self.cluster.url(self.database, user)

    def account(self, name: str) -> None:
        if name == SUPERUSER:
            return
        if name == ADMIN_LOGIN:
            self.cluster.ensure_role(name, group=ADMIN_ROLE)
        elif name == READER_ROLE_LOGIN:
            self.cluster.ensure_role(name, group="relman_reader")
        else:
            self.cluster.ensure_role(name)

    def open(self, actor: str = "alice", *, read_only: bool = False) -> BoardStore:
        self.account(actor)
        return open_store(self.url(actor), read_only=read_only)

    def query(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        assert self.database is not None
        with self.cluster.connect(self.database) as conn:
            conn.execute("SET search_path = relman")
            cursor = conn.execute(statement.replace("?", "%s"), params or None)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def close(self) -> None:
        if self.database is not None:
            self.cluster.drop_database(self.database)
            self.database = None
