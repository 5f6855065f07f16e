"""Opening a board by its target: SQLite for a path, PostgreSQL for a ``postgresql://`` URL (the one place that
picks a backend)."""

from __future__ import annotations

from pathlib import Path

from relman_tui.dburl import INSTALL_HINT, Target, is_url
from relman_tui.errors import BadInput
from relman_tui.store.contract import BoardStore
from relman_tui.store.sqlite import Store


def open_store(target: Target, *, create: bool = False, read_only: bool = False) -> BoardStore:
    """Open the board at ``target``: SQLite for a path, PostgreSQL for a ``postgresql://`` URL."""
    if is_url(target):
        try:
            # psycopg is an optional extra: a file board never loads it
            from relman_tui.store.pg import PgStore
        except ImportError as exc:
            if (exc.name or "").split(".")[0] in ("psycopg", "psycopg_binary", "psycopg_c"):
                raise BadInput(f"a PostgreSQL board needs the psycopg driver: {INSTALL_HINT}") from None
            raise
        return PgStore.open(str(target), create=create, read_only=read_only)
    return Store.open(Path(target), create=create, read_only=read_only)
