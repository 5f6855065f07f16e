"""The `relman` root group, the board and demo commands, and every failure as one line."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from relman_tui import settings as user_settings
from relman_tui.cli.common import DB_TARGET, Context, fail, pass_ctx, pinned
from relman_tui.dburl import Target
from relman_tui.errors import GateRefused, RelmanError
from relman_tui.text import inert, one_line
from relman_tui.timeutil import zone_info

# -- the group ---------------------------------------------------------------------------------


class RelmanGroup(click.Group):
    """The top-level group: turns every failure into one line and an exit status."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        with _one_line_errors():
            code = super().main(*args, **kwargs)
            if isinstance(code, int) and code:
                sys.exit(code)
            return code


@click.group(cls=RelmanGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=DB_TARGET,
    help="Database file, or a postgresql:// URL (default: $RELMAN_DB, "
    "else the config's database, else ~/.local/share/relman/relman.db).",
)
@click.option("--tz", "tz", metavar="ZONE", help="Time zone to show and read times in (default: config, else system).")
@click.option(
    "--as",
    "actor",
    metavar="NAME",
    help="Act for NAME: only for accounts listed as delegates "
    "(`relman settings delegates`); the change is logged as NAME via your account.",
)
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="User config file.")
@click.version_option(package_name="relman-tui", prog_name="relman")
@click.pass_context
def cli(ctx: click.Context, db: Target | None, tz: str | None, actor: str | None, config: Path | None) -> None:
    """relman: plan, schedule and control releases into test and live environments.

    With no command, opens the board.
    """
    if tz is not None:
        zone_info(tz)  # a bad --tz is bad usage for every command, not only those that print a time
    ctx.obj = Context(db, tz, actor, config)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui)


@cli.command()
@click.option("--read-only", is_flag=True, help="Open the database read-only and hide every key that writes.")
@click.option("--no-mouse", is_flag=True, help="Turn mouse reporting off.")
@click.option("--ascii", "ascii_only", is_flag=True, help="Draw only ASCII (the default when the locale is not UTF-8).")
@pass_ctx
def tui(obj: Context, read_only: bool, no_mouse: bool, ascii_only: bool) -> None:
    """Open the board."""
    _run_tui(obj, read_only=read_only, mouse=not no_mouse, ascii_only=ascii_only)


def _run_tui(obj: Context, *, read_only: bool, mouse: bool, ascii_only: bool = False) -> None:
    from relman_tui.tui.app import run_app

    while True:
        service = obj.service(read_only=read_only)
        read_only = read_only or service.store.read_only
        if not run_app(service, obj.settings, obj.tz, read_only=read_only, mouse=mouse, ascii_only=ascii_only):
            return
        obj.close()  # ctrl+r: the database is opened again, from its path
        obj.reset()


@cli.command()
@click.option("--no-tui", is_flag=True, help="Only seed the database; do not open the board.")
@click.option(
    "--releases",
    "count",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Make a board of N releases (for trying scale).",
)
@click.pass_context
def demo(ctx: click.Context, no_tui: bool, count: int | None) -> None:
    """Seed a realistic demo board into --db (or a fresh file) and open it."""
    obj: Context = ctx.obj
    from relman_tui.demo import prepare_demo_file, seed

    if obj.db is None and not os.environ.get("RELMAN_DB"):
        default = user_settings.database_target(None, obj.settings)
        if isinstance(default, Path):
            obj.db = default.with_name("demo.db")
    target = obj.target
    if isinstance(target, Path):
        prepare_demo_file(target)
    service = obj.service(create=True)
    summary = seed(service, count)
    click.echo(f"seeded {summary} into {inert(obj.target_name())}", err=True)
    if not no_tui:
        _run_tui(obj, read_only=False, mouse=True)


@cli.command()
@pass_ctx
def init(obj: Context) -> None:
    """Create an empty database with the default pipeline."""
    from relman_tui.demo import add_default_pipeline

    target = obj.target
    if isinstance(target, Path) and target.exists() and target.stat().st_size > 0:
        fail(f"{target} already exists; not touching it")
    service = obj.service(create=True)
    if service.environments():
        fail(f"{obj.target_name()} already holds a board; not touching it")
    service.found_board(fixed_clock=pinned(service))
    add_default_pipeline(service)
    click.echo(
        f"created {inert(obj.target_name())} with environments {', '.join(e.name for e in service.environments())}"
    )


# -- environments ------------------------------------------------------------------------------


@cli.group()
def config() -> None:
    """User settings."""


@config.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_ctx
def config_init(obj: Context, force: bool) -> None:
    """Write a commented default user config."""
    path = user_settings.config_path(obj.config)
    user_settings.write_default(path, overwrite=force)
    click.echo(f"wrote {inert(str(path))}")


# -- boards on a server, and copies ------------------------------------------------------------

# -- the entry point ---------------------------------------------------------------------------


def _said(message: str) -> str:
    """An error message as one inert line: it may quote names another tool wrote into the file."""
    return inert(one_line(message))


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Every failure leaves as one line on stderr and an exit status; never a traceback."""
    try:
        yield
    except GateRefused as exc:
        click.echo(f"relman: refused: {_said(str(exc))} (--force --reason TEXT overrides)", err=True)
        sys.exit(1)
    except RelmanError as exc:
        word = "refused" if exc.exit_code == 1 else "error"
        click.echo(f"relman: {word}: {_said(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("relman: aborted", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"relman: error: {_said(exc.format_message())} (see --help)", err=True)
        sys.exit(2)
    except sqlite3.Error as exc:
        from relman_tui.store import describe_error

        click.echo(f"relman: error: {_said(describe_error(exc))}", err=True)
        sys.exit(2)
    except OverflowError:
        # a time or duration at the very edge of the calendar (year 9999 plus a week, say)
        click.echo("relman: error: a time or duration is out of range (times from 2000 to 2099 are allowed)", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"relman: error: {_said(str(exc))}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("RELMAN_DEBUG"):
            raise
        if type(exc).__module__.startswith("psycopg"):  # the PostgreSQL store translates; this is a last net
            click.echo(f"relman: error: database error: {_said(str(exc))}", err=True)
            sys.exit(2)
        click.echo(
            f"relman: internal error: {type(exc).__name__}: {_said(str(exc))} (set RELMAN_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(2)
