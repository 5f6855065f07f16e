"""A PostgreSQL server's error as one sentence for a person, with the right exit status."""

from __future__ import annotations

import contextlib

import psycopg

from relman_tui.dburl import describe
from relman_tui.errors import BadInput, Refused, RelmanError
from relman_tui.store import pg_connect
from relman_tui.store.pg_connect import connect, first_line


def translate(exc: psycopg.Error, url: str, *, broken: bool, account: str, admin: str) -> RelmanError:
    """What ``exc`` means on the board at ``url`` (``broken``: the connection it came on is lost)."""
    name = describe(url)
    state = exc.sqlstate or ""
    said = first_line(exc)
    if state == "42501":  # insufficient privilege: a grant the role lacks, or a control's refusal
        return Refused(privilege_message(said, name, account=account, admin=admin))
    if state == "RM409":  # the server's stale-write check, under its lock
        return Refused(f"{said}; nothing was written")
    if state == "55P03":  # lock_not_available: a lock did not come within lock_timeout
        return BadInput(
            f"{name} is busy: {lock_holders(url)}; waited {pg_connect.LOCK_TIMEOUT_S:g} s, nothing was changed, "
            "try again"
        )
    if state == "57014":  # query_canceled: statement_timeout
        return BadInput(
            f"{name} did not answer within {pg_connect.STATEMENT_TIMEOUT_S:g} s ({said}); nothing was changed, "
            "try again"
        )
    if state.startswith("23"):  # integrity constraint violation
        return BadInput(f"refused by the database: {said}")
    if state == "25006":
        return BadInput(f"{name} is open read-only; nothing was changed")
    if broken or state.startswith("08") or state.startswith("57P"):
        return BadInput(f"lost the connection to {name} ({said}); nothing was changed, try again")
    return BadInput(f"database error on {name}: {said}")


def lock_holders(url: str) -> str:
    """Who holds a lock on relman's tables (role, application), asked on a connection of its own:
    the failed transaction is over."""
    try:
        conn = connect(url)
    except BadInput:
        return "another session holds a lock"
    try:
        row = conn.execute("SELECT relman.lock_holders()").fetchone()
        return str(row[0]) if row and row[0] else "another session held a lock (gone now)"
    except psycopg.Error:
        return "another session holds a lock"
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.close()


def privilege_message(said: str, name: str, *, account: str, admin: str) -> str:
    """A refusal for lack of a privilege, naming the role that has it."""
    you = f"{account} is not a member of it"
    if said.startswith("permission denied for table settings"):
        return f"only the board's admin role ({admin}) may change the board's settings; {you}"
    if said.startswith("permission denied for table environments"):
        return f"only the board's admin role ({admin}) may add, change or remove environments; {you}"
    if said.startswith("permission denied"):
        return f"the server refused: {said} (role {account} on {name})"
    return f"{said} (the server enforces this)"
