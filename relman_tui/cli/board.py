"""The board's settings: environments, freezes, board files in and out, and `relman settings`."""

from __future__ import annotations

from pathlib import Path

import click

from relman_tui.cli.common import DB_INT, Context, echo_json, fail, freeze_json, json_option, pass_ctx, pinned, table
from relman_tui.cli.group import cli
from relman_tui.text import inert
from relman_tui.timeutil import format_local, parse_duration

# -- environments ------------------------------------------------------------------------------


@cli.group()
def env() -> None:
    """List and add environments (the stages of the pipeline)."""


@env.command("list")
@json_option
@pass_ctx
def env_list(obj: Context, as_json: bool) -> None:
    """List environments in pipeline order."""
    envs = obj.service().environments()
    if as_json:
        from relman_tui.service import environment_record

        echo_json([environment_record(e) for e in envs])
        return
    table(
        ["POS", "NAME", "TITLE", "CAPACITY", "APPROVAL"],
        [[str(e.position), e.name, e.title, str(e.capacity), "yes" if e.requires_approval else "-"] for e in envs],
    )


@env.command("add")
@click.argument("name")
@click.option("--title", help="Display title (default: the name, capitalised).")
@click.option("--capacity", type=DB_INT, default=1, show_default=True, help="Windows that may be open at once.")
@click.option("--after", metavar="ENV", help="Insert after this environment (default: at the end).")
@click.option("--approval", is_flag=True, help="Releases need approval to enter it.")
@pass_ctx
def env_add(obj: Context, name: str, title: str | None, capacity: int, after: str | None, approval: bool) -> None:
    """Add an environment to the pipeline."""
    created = obj.service().add_environment(name, title, capacity, after, approval)
    click.echo(f"added {created.name} at position {created.position}")


@env.command("edit")
@click.argument("name")
@click.option("--title", help="New display title.")
@click.option("--capacity", type=DB_INT, help="Windows that may be open at once.")
@click.option("--approval/--no-approval", default=None, help="Whether releases need approval to enter it.")
@pass_ctx
def env_edit(obj: Context, name: str, title: str | None, capacity: int | None, approval: bool | None) -> None:
    """Change an environment's title, capacity or approval rule (logged with old and new values)."""
    if title is None and capacity is None and approval is None:
        fail("nothing to change: give --title, --capacity or --approval/--no-approval")
    env = obj.service().edit_environment(name, title=title, capacity=capacity, approval=approval)
    click.echo(
        f"{env.name}: {inert(env.title)}, capacity {env.capacity}, "
        f"{'requires approval' if env.requires_approval else 'no approval needed'}"
    )


@env.command("remove")
@click.argument("name")
@pass_ctx
def env_remove(obj: Context, name: str) -> None:
    """Take an environment out of the pipeline (refused while releases stand or are scheduled in it)."""
    obj.service().remove_environment(name)
    click.echo(f"removed {name}")


# -- releases ----------------------------------------------------------------------------------


@cli.group()
def freeze() -> None:
    """Add, list and remove freezes (periods with no deployments)."""


@freeze.command("add")
@click.argument("environment", metavar="ENV|all")
@click.option("--start", metavar="T", help="Start of a one-off freeze.")
@click.option("--end", metavar="T", help="End of a one-off freeze.")
@click.option("--cron", metavar="EXPR", help="5-field cron expression for the start times of a recurring freeze.")
@click.option("--for", "length", metavar="DURATION", help="How long each recurring freeze lasts.")
@click.option("--zone", metavar="ZONE", help="IANA zone the cron expression is read in (default: --tz).")
@click.option("--reason", metavar="TEXT", required=True, help="Why (required).")
@pass_ctx
def freeze_add(
    obj: Context,
    environment: str,
    start: str | None,
    end: str | None,
    cron: str | None,
    length: str | None,
    zone: str | None,
    reason: str,
) -> None:
    """Add a freeze; prints its id alone."""
    service = obj.service()
    if cron is not None:
        if length is None:
            fail("a recurring freeze needs --for DURATION")
        created = service.add_freeze(
            [environment], reason, cron=cron, duration=parse_duration(length), zone=zone or obj.tz
        )
    else:
        if length is not None or zone is not None:
            fail("--for and --zone go with --cron")
        if start is None or end is None:
            fail("give --start T --end T, or --cron EXPR --for DURATION")
        created = service.add_freeze([environment], reason, start=obj.when(start), end=obj.when(end))
    click.echo(str(created.id))


@freeze.command("list")
@json_option
@pass_ctx
def freeze_list(obj: Context, as_json: bool) -> None:
    """List freezes."""
    from relman_tui.freezes import describe

    freezes = obj.service().freezes()
    if as_json:
        echo_json([freeze_json(f) for f in freezes])
        return
    rows = []
    for f in freezes:
        when = f"{format_local(f.start, obj.tz)} → {format_local(f.end, obj.tz)}" if f.start and f.end else describe(f)
        rows.append([str(f.id), ",".join(f.environments), when, f.reason])
    table(["ID", "ENVIRONMENTS", "WHEN", "REASON"], rows)


@freeze.command("remove")
@click.argument("freeze_id", metavar="ID", type=DB_INT)
@pass_ctx
def freeze_remove(obj: Context, freeze_id: int) -> None:
    """Remove a freeze."""
    obj.service().remove_freeze(freeze_id)
    click.echo(f"removed freeze {freeze_id}")


# -- conflicts and the log ---------------------------------------------------------------------


@cli.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_ctx
def export_cmd(obj: Context, file: Path) -> None:
    """Write environments, freezes and gate settings to a TOML file."""
    from relman_tui.boardfile import export_board

    export_board(obj.service(), file)
    click.echo(f"wrote {inert(str(file))}")


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_ctx
def import_cmd(obj: Context, file: Path) -> None:
    """Replace environments, freezes and gate settings with a TOML file's (all or nothing)."""
    from relman_tui.boardfile import import_board, read_board

    read_board(file)  # a bad file is refused before any database is created
    service = obj.service(create=True)
    service.found_board(fixed_clock=pinned(service))  # a fresh file: whoever imports into it made it
    board = import_board(service, file)
    click.echo(
        f"imported {len(board.environments)} environments and {len(board.freezes)} freezes from {inert(str(file))}"
    )


@cli.group("settings", invoke_without_command=True)
@json_option
@click.pass_context
def board_settings(ctx: click.Context, as_json: bool) -> None:
    """The board's own rules, kept in the database: four-eyes, delegates, admins and fixed-clock (changed by
    admins only). (Your personal settings: `relman config`.) With no subcommand, shows them."""
    if ctx.invoked_subcommand is not None:
        return
    service = ctx.obj.service()
    settings = service.board_settings()
    admins, fixed = service.admins(), service.fixed_clock()
    if as_json:
        echo_json(
            {
                "four_eyes": settings.four_eyes,
                "delegates": list(settings.delegates),
                "admins": list(admins),
                "fixed_clock": fixed,
            }
        )
        return
    click.echo(
        f"four_eyes  {'on' if settings.four_eyes else 'off'}  (the approver is neither the owner nor the creator)"
    )
    click.echo(f"delegates  {', '.join(settings.delegates) or '(none)'}  (accounts that may act for others with --as)")
    click.echo(f"admins     {', '.join(admins) or '(none)'}  (accounts that may change these rules)")
    click.echo(f"fixed_clock  {'on' if fixed else 'off'}  (writes may carry $RELMAN_NOW's time: demo and test boards)")


@board_settings.command("four-eyes")
@click.argument("state", type=click.Choice(["on", "off"]))
@pass_ctx
def settings_four_eyes(obj: Context, state: str) -> None:
    """Turn the four-eyes rule on or off (logged with the old and new value)."""
    changed = obj.service().set_four_eyes(state == "on")
    click.echo(f"four_eyes is {state}" + ("" if changed else " (unchanged)"))


@board_settings.command("fixed-clock")
@click.argument("state", type=click.Choice(["on", "off"]))
@pass_ctx
def settings_fixed_clock(obj: Context, state: str) -> None:
    """Let writes carry $RELMAN_NOW's time (demo and test boards; admins only). Shown in the top bar and by
    `relman log --verify`, which then does not check that event times never decrease."""
    changed = obj.service().set_fixed_clock(state == "on")
    click.echo(f"fixed_clock is {state}" + ("" if changed else " (unchanged)"))


@board_settings.command("delegates")
@click.argument("change", type=click.Choice(["list", "add", "remove"]), default="list")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT]...")
@pass_ctx
def settings_delegates(obj: Context, change: str, accounts: tuple[str, ...]) -> None:
    """List, add or remove the OS accounts that may act for others with --as (a CI runner that
    authenticated the person upstream, say). Their changes are logged as `NAME via ACCOUNT`.
    Admins only; nobody adds themselves."""
    service = obj.service()
    wanted = _changed_list("delegates", change, list(service.delegates()), accounts)
    if wanted is not None:
        click.echo(f"delegates: {', '.join(service.set_delegates(wanted)) or '(none)'}")


@board_settings.command("admins")
@click.argument("change", type=click.Choice(["list", "add", "remove"]), default="list")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT]...")
@pass_ctx
def settings_admins(obj: Context, change: str, accounts: tuple[str, ...]) -> None:
    """List, add or remove the accounts that may change the board's rules: settings, environments, hooks
    and import. The board's creator is the first; an admin adds others, never themselves."""
    service = obj.service()
    wanted = _changed_list("admins", change, list(service.admins()), accounts)
    if wanted is not None:
        click.echo(f"admins: {', '.join(service.set_admins(wanted))}")


def _changed_list(what: str, change: str, current: list[str], accounts: tuple[str, ...]) -> list[str] | None:
    """The list after ``change`` (add or remove ``accounts``); for ``list``, prints it and gives ``None``."""
    if change == "list":
        if accounts:
            fail(f"`{what} list` takes no account")
        click.echo("\n".join(current) if current else f"(no {what})")
        return None
    if not accounts:
        fail(f"`{what} {change}` needs at least one ACCOUNT")
    have = {c.casefold() for c in current}
    if change == "add":
        return current + [a for a in dict.fromkeys(accounts) if a.casefold() not in have]
    missing = [a for a in accounts if a.casefold() not in have]
    if missing:
        one = "a delegate" if what == "delegates" else "an admin"
        fail(f"{missing[0]} is not {one} ({what}: {', '.join(current) or 'none'})")
    folded = {a.casefold() for a in accounts}
    return [c for c in current if c.casefold() not in folded]
