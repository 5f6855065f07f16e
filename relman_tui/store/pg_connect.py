"""Connecting to a PostgreSQL board: credentials from libpq only, every connection with its lock and
statement timeouts, and a server's error as its first line."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from relman_tui.dburl import check_url, describe
from relman_tui.errors import BadInput

LOCK_TIMEOUT_S = 5.0  # every statement of every connection: a held lock is an error, never a hang
STATEMENT_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10
RECONNECT_EVERY_S = 0.25
RUNNER_RETRY_S = 1.0

Connection = psycopg.Connection[tuple[Any, ...]]


def first_line(exc: BaseException) -> str:
    """The first line of what the server (or the driver) said."""
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag is not None else None) or str(exc) or type(exc).__name__
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def connect(url: str, *, search_path: bool = True) -> Connection:
    """A connection in autocommit mode (relman opens its transactions itself); credentials from libpq."""
    check_url(url)
    try:
        given = conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise BadInput(f"bad database URL ({first_line(exc)})") from None
    defaults = {"application_name": "relman", "connect_timeout": CONNECT_TIMEOUT_S}
    extra: dict[str, Any] = {key: value for key, value in defaults.items() if key not in given}  # the URL's win
    try:
        conn = psycopg.connect(url, autocommit=True, **extra)
    except psycopg.Error as exc:
        said = first_line(exc)
        hint = ""
        if "password" in said.lower():
            hint = " (relman takes passwords from ~/.pgpass or a service file, never from the command line)"
        raise BadInput(f"cannot connect to {describe(url)}: {said}{hint}") from None
    try:
        conn.execute(
            "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
            (f"{int(LOCK_TIMEOUT_S * 1000)}ms", f"{int(STATEMENT_TIMEOUT_S * 1000)}ms"),
        )
        if search_path:
            conn.execute("SELECT set_config('search_path', 'relman', false)")
    except psycopg.Error as exc:
        conn.close()
        raise BadInput(f"cannot use {describe(url)}: {first_line(exc)}") from None
    return conn
