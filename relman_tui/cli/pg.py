"""`relman pg setup` and `relman copy`: boards on a server, and copies between boards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from relman_tui.cli.common import DB_TARGET, fail
from relman_tui.cli.group import cli
from relman_tui.dburl import Target, check_url, is_url
from relman_tui.text import inert


@cli.group("pg")
def pg_group() -> None:
    """A board on a PostgreSQL server, shared by a team across hosts."""


@pg_group.command("setup")
@click.argument("url", metavar="URL")
@click.option(
    "--admin",
    "admin",
    metavar="ROLE",
    required=True,
    help="The role that owns the board: it alone changes environments and board settings.",
)
def pg_setup(url: str, admin: str) -> None:
    """Create (or bring up to date) the board in the database at URL: the schema owned by ROLE, the group
    roles relman_operator, relman_reader and relman_runner, and the functions every write goes through (no
    role but ROLE may write a table). Safe to repeat; roles that already exist are kept. Run it as a
    superuser (or a role with CREATEROLE that is a member of ROLE); the password comes from ~/.pgpass or a
    service file, never the URL."""
    from relman_tui.dburl import describe

    if not is_url(url):
        fail("relman pg setup needs a postgresql:// URL (libpq syntax), e.g. postgresql://db.example/relman")
    check_url(url)
    setup = _pg_schema().setup
    for line in setup(url.strip(), admin):
        click.echo(line)
    click.echo(
        f"board ready in {inert(describe(url))}: give people access with GRANT relman_operator TO alice; "
        f"wallboards with GRANT relman_reader TO wallboard; the hook runner's account with GRANT relman_operator, "
        f"relman_runner TO <runner account>; {inert(admin)} changes environments and settings"
    )


def _pg_schema() -> Any:
    from relman_tui.dburl import INSTALL_HINT

    try:
        from relman_tui.store import pg_schema
    except ImportError as exc:
        if (exc.name or "").split(".")[0].startswith("psycopg"):
            fail(f"a PostgreSQL board needs the psycopg driver: {INSTALL_HINT}")
        raise
    return pg_schema


@cli.command("copy")
@click.argument("source", type=DB_TARGET)
@click.argument("target", type=DB_TARGET)
def copy_cmd(source: Target, target: Target) -> None:
    """Copy a whole board with its full history from SOURCE into TARGET (each a file or a postgresql:// URL).

    TARGET must be empty: a fresh file, or a database after `relman pg setup` with nothing in it (copying
    into PostgreSQL needs the board's admin role). The log's hash chain is verified on both sides; the
    events keep their original actors, times and hashes."""
    from relman_tui.copying import copy_board
    from relman_tui.dburl import target_of
    from relman_tui.store import open_store

    source, target = target_of(source), target_of(target)
    made_file = isinstance(target, Path) and not target.exists()
    src = open_store(source, read_only=True)
    try:
        dst = open_store(target, create=True)
        try:
            from relman_tui.identity import resolve

            copied = copy_board(src, dst, resolve(None, (), account=dst.server_account()).actor)
        finally:
            dst.close()
    except BaseException:
        if made_file and isinstance(target, Path):  # leave no half-made file behind
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        src.close()
    click.echo(
        f"copied {copied.releases} releases, {copied.events} events, {copied.environments} environments and "
        f"{copied.freezes} freezes from {inert(src.name)} to {inert(dst.name)}; the log verifies on both sides"
        + (f" (latest {copied.last_hash[:12]})" if copied.last_hash else "")
    )
