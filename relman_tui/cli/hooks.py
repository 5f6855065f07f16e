"""`relman hooks`: the board's hook commands and their runner."""

from __future__ import annotations

from contextlib import suppress

import click

from relman_tui.cli.common import Context, echo_json, json_option, pass_ctx, table
from relman_tui.cli.group import cli
from relman_tui.errors import BadInput
from relman_tui.model import PLANNED
from relman_tui.text import inert
from relman_tui.timeutil import format_duration


@cli.group()
def hooks() -> None:
    """The board's hook commands (`hooks add`, or the board file's [[hooks]]) and their runner."""


@hooks.command("add")
@click.option("--on", "on", required=True, metavar="ACTION", help="The event action it runs for (moved, approved, …).")
@click.option("--environment", metavar="ENV", help="Only events whose destination stage is ENV.")
@click.option(
    "--timeout",
    metavar="DURATION",
    default="10m",
    show_default=True,
    help="Seconds or a duration; then its whole group is stopped.",
)
@click.argument("argv", nargs=-1, required=True, metavar="-- ARGV...")
@pass_ctx
def hooks_add(obj: Context, on: str, environment: str | None, timeout: str, argv: tuple[str, ...]) -> None:
    """Add a hook (admins only; logged): ARGV runs, without a shell, for each later event ACTION."""
    from relman_tui.boardfile import parse_hook

    def bad(key: str, problem: str) -> BadInput:
        return BadInput(f"--{key.split('.')[-1]}: {problem}".replace("--run:", "the command:"))

    service = obj.service()
    stages = [PLANNED, *(e.name for e in service.environments())]
    item: dict[str, object] = {"on": on, "run": list(argv), "timeout": int(timeout) if timeout.isdigit() else timeout}
    if environment is not None:
        item["environment"] = environment
    hook = service.add_hook(parse_hook(item, stages, "hook", bad))
    click.echo(f"added hook {hook.id} (from event #{hook.added_seq + 1} on): {inert(hook.describe())}")


@hooks.command("remove")
@click.argument("hook_id", metavar="ID")
@pass_ctx
def hooks_remove(obj: Context, hook_id: str) -> None:
    """Remove a hook by its ID (see `hooks list`; admins only; logged)."""
    hook = obj.service().remove_hook(hook_id)
    click.echo(f"removed hook {hook.id}: {inert(hook.describe())}")


@hooks.command("list")
@json_option
@pass_ctx
def hooks_list(obj: Context, as_json: bool) -> None:
    """List the board's hooks."""
    from relman_tui.service import hook_record

    found = obj.service().hooks()
    if as_json:
        echo_json([hook_record(h) | {"added_seq": h.added_seq} for h in found])
        return
    if not found:
        click.echo("no hooks (add one with `relman hooks add`, or as [[hooks]] in the board file)")
        return
    table(
        ["ID", "ON", "ENVIRONMENT", "TIMEOUT", "SINCE", "RUN"],
        [
            [h.id, h.on, h.environment or "-", format_duration(h.timeout), f"#{h.added_seq}", " ".join(h.run)]
            for h in found
        ],
    )


@hooks.command("run")
@click.option("--once", is_flag=True, help="Handle what is pending, then exit.")
@click.option(
    "--trust-writers",
    is_flag=True,
    help="Run even when other accounts can write the board's file (each of them can make this runner run commands).",
)
@click.option(
    "--poll",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help=(
        "How long one wait lasts before the runner waits again"
        " (kept for scripts: a new event or a stop signal ends a wait at once)."
    ),
)
@pass_ctx
def hooks_run(obj: Context, once: bool, trust_writers: bool, poll: float) -> None:
    """Run the board's hooks for each new event, in order, at least once (the only place hooks run).

    Start one per board, under the account the hooks should run as (a systemd unit, a tmux pane).
    A second runner on the same board (any path to its file) waits for the first, and stops when
    told to. Stop it with SIGTERM, SIGHUP or ctrl+c: it lets the hook it is running finish first
    (a second signal cuts the hook off; it runs again when a runner starts again). On a SQLite
    file it refuses to start while other accounts can write the file (see --trust-writers).
    """
    from relman_tui.hook_runner import serve
    from relman_tui.strict_modes import check_writers

    service = obj.service()
    if not trust_writers:
        check_writers(service.store)
    serve(
        service,
        once=once,
        poll=poll,
        report=lambda line: _echo_quietly(line),
        warn=lambda line: _echo_quietly(line, err=True),
    )


def _echo_quietly(line: str, err: bool = False) -> None:
    """A runner whose terminal is gone (tmux kill-session) still records what its hook came to."""
    with suppress(OSError):
        click.echo(line, err=err)
