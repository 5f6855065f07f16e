"""The `relman` command line: parse, call the service, print. Nothing else."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from relman_tui import settings as user_settings
from relman_tui.actions import Action
from relman_tui.dburl import Target, check_url, is_url
from relman_tui.done import is_done
from relman_tui.done import positions as done_positions
from relman_tui.errors import BadInput, GateRefused, RelmanError
from relman_tui.model import PLANNED, Conflict, Event, Freeze, Release, Window
from relman_tui.text import cell_len, inert, one_line, pad
from relman_tui.timeutil import (
    Clock,
    FixedClock,
    SystemClock,
    format_duration,
    format_local,
    local_zone_name,
    parse_duration,
    parse_time,
    to_stamp,
    zone_info,
)
from relman_tui.wording import actor_text, counted, moved_words, what_happened

if TYPE_CHECKING:
    from relman_tui.service import Service

F = TypeVar("F", bound=Callable[..., Any])
ACTOR_COLUMN_MAX = 24  # `relman log` pads account names to the longest shown, up to this

# Ids, revisions and counts end up in SQLite, whose integers are 64-bit: a bigger number
# is bad input, said as such, not an OverflowError from deep inside.
_INT_MAX = 2**63 - 1


class _DbInt(click.types.IntParamType):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, int) and abs(number) > _INT_MAX:
            self.fail(f"{number} is too large", param, ctx)
        return number


DB_INT = _DbInt()


class _DbTarget(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 on
    """``--db``: a ``postgresql://`` URL kept as text (checked for a password), else a file path."""

    name = "PATH|URL"
    _path = click.Path(path_type=Path, dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and is_url(value):
            try:
                check_url(value.strip())
            except BadInput as exc:
                self.fail(str(exc), param, ctx)
            return value.strip()
        return self._path.convert(value, param, ctx)


DB_TARGET = _DbTarget()


@dataclass
class Context:
    """What the global options decided; the service is opened on first use."""

    db: Target | None
    tz_option: str | None
    actor_option: str | None
    config: Path | None
    _settings: user_settings.Settings | None = None
    _service: Service | None = None
    _stores: list[Any] = field(default_factory=list)

    @property
    def settings(self) -> user_settings.Settings:
        if self._settings is None:
            path = user_settings.config_path(self.config)
            self._settings = user_settings.load(path, required=self.config is not None)
        return self._settings

    @property
    def tz(self) -> str:
        name = self.tz_option or self.settings.timezone or os.environ.get("RELMAN_TZ") or local_zone_name()
        zone_info(name)
        return name

    @property
    def target(self) -> Target:
        """The board to open: a file path, or a postgresql:// URL."""
        return user_settings.database_target(self.db, self.settings)

    def target_name(self) -> str:
        """The board as shown to a person (a URL without secrets)."""
        from relman_tui.dburl import describe

        target = self.target
        return describe(target) if isinstance(target, str) else str(target)

    def clock(self) -> Clock:
        # RELMAN_NOW fixes the clock for reproducible screenshots, demos and tests.
        fixed = os.environ.get("RELMAN_NOW")
        if fixed:
            from relman_tui.limits import check_time

            at = check_time(parse_time(fixed, "UTC", SystemClock().now()), "$RELMAN_NOW")
            return FixedClock(at, from_environment=True)
        return SystemClock()

    def service(self, *, create: bool = False, read_only: bool = False) -> Service:
        if self._service is None:
            from relman_tui.identity import resolve
            from relman_tui.service import Service, board_delegates
            from relman_tui.store import open_store

            store = open_store(self.target, create=create, read_only=read_only)
            self._stores.append(store)
            # who acts is decided here, once: the OS account (on a server, the role it authenticated),
            # or a delegate acting for --as
            who = resolve(self.actor_option, board_delegates(store), account=store.server_account())
            self._service = Service(store, self.clock(), who.actor, who.via, zone=lambda: self.tz)
        return self._service

    def close(self) -> None:
        for store in self._stores:
            store.close()
        self._stores.clear()

    def reset(self) -> None:
        """Forget the opened service: the next :meth:`service` opens the database afresh."""
        self._service = None

    def when(self, text: str) -> datetime:
        return parse_time(text, self.tz, self.clock().now())


pass_ctx = click.make_pass_decorator(Context)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def echo_json(data: Any) -> None:
    click.echo(inert_json(json.dumps(data, indent=2, ensure_ascii=False)))


_NOT_ASCII = re.compile(r"[^\n\x20-\x7e]")


def inert_json(text: str) -> str:
    """JSON text with every character a terminal would act on (DEL, C1 controls, bidi overrides,
    zero-width) written as a ``\\uXXXX`` escape: the same JSON value, shown inert.

    ``json.dumps`` escapes only U+0000..U+001F; a name holding U+202E or U+009B would still
    reorder or steer the terminal a script's output is read in.
    """
    if text.replace("\n", "").isprintable():
        return text
    return _NOT_ASCII.sub(lambda m: m[0] if inert(m[0]) == m[0] else json.dumps(m[0])[1:-1], text)


def fail(message: str) -> NoReturn:
    """Bad usage found by a command itself: exit 2 with the message, like any bad input."""
    raise BadInput(message)


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
    service.found_board(fixed_clock=_pinned(service))
    add_default_pipeline(service)
    click.echo(
        f"created {inert(obj.target_name())} with environments {', '.join(e.name for e in service.environments())}"
    )


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
def release() -> None:
    """Add, list and show releases."""


CHANGED_AT_HELP = "When its oldest change was made (e.g. its first commit's time): where lead time starts."


@release.command("add")
@click.argument("name")
@click.argument("version")
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="C",
    help="A configuration item it touches (repeatable; default: the name).",
)
@click.option("--owner", metavar="O", help="Who owns it (default: the actor).")
@click.option(
    "--risk",
    type=click.Choice(["low", "medium", "high"]),
    default="low",
    show_default=True,
    help="How risky the change is.",
)
@click.option("--notes", metavar="TEXT", default="", help="Free text.")
@click.option("--changed-at", "changed_at", metavar="TIME", help=CHANGED_AT_HELP)
@pass_ctx
def release_add(
    obj: Context,
    name: str,
    version: str,
    components: tuple[str, ...],
    owner: str | None,
    risk: str,
    notes: str,
    changed_at: str | None,
) -> None:
    """Add a release to `planned`; prints its id alone."""
    since = obj.when(changed_at) if changed_at is not None else None
    created = obj.service().add_release(name, version, components, owner, risk, notes, since)
    if stdout_is_tty():  # a person reads it; a script (stdout piped) gets the id alone
        click.echo(f"{created.id}  ({inert(created.label)} added to planned, owner {inert(created.owner)})")
        return
    click.echo(str(created.id))


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()


@release.command("edit")
@click.argument("release_id", metavar="ID", type=DB_INT)
@click.option("--name", help="New name.")
@click.option("--version", "version_", metavar="VERSION", help="New version.")
@click.option(
    "--component", "components", multiple=True, metavar="C", help="Replace the components with these (repeatable)."
)
@click.option("--owner", metavar="O", help="New owner (a login name).")
@click.option("--risk", type=click.Choice(["low", "medium", "high"]), help="New risk.")
@click.option("--notes", metavar="TEXT", help="New notes (replaces the old).")
@click.option("--changed-at", "changed_at", metavar="TIME", help=CHANGED_AT_HELP)
@click.option("--rev", type=DB_INT, help="Refuse if the release changed since this revision.")
@pass_ctx
def release_edit(
    obj: Context,
    release_id: int,
    name: str | None,
    version_: str | None,
    components: tuple[str, ...],
    owner: str | None,
    risk: str | None,
    notes: str | None,
    changed_at: str | None,
    rev: int | None,
) -> None:
    """Change a release's descriptive fields; changing its name, version, components or owner withdraws an
    approval."""
    if all(v is None for v in (name, version_, owner, risk, notes, changed_at)) and not components:
        fail("nothing to change: give --name, --version, --component, --owner, --risk, --notes or --changed-at")
    since = obj.when(changed_at) if changed_at is not None else None
    service = obj.service()
    before = service.release(release_id)
    saved = service.edit_release(
        release_id,
        rev=rev,
        name=name,
        version=version_,
        components=components or None,
        owner=owner,
        risk=risk,
        notes=notes,
        changed_at=since,
    )
    if saved.rev == before.rev:
        click.echo(f"{inert(saved.label)}: nothing changed")
        return
    withdrawn = " (approval withdrawn)" if before.approved_by and not saved.approved_by else ""
    click.echo(f"{inert(saved.label)}: saved, rev {saved.rev}{withdrawn}")


@release.command("list")
@click.option("--stage", metavar="S", help="Only releases in this stage.")
@click.option("--all", "include_cancelled", is_flag=True, help="Include cancelled releases.")
@json_option
@pass_ctx
def release_list(obj: Context, stage: str | None, include_cancelled: bool, as_json: bool) -> None:
    """List releases (cancelled ones only with --all)."""
    releases = obj.service().releases(stage, include_cancelled)
    if as_json:
        done = window_done(obj)
        echo_json([release_json(r, done=done) for r in releases])
        return
    now = obj.clock().now()
    reached = done_positions(obj.service().environments())
    rows = []
    for r in releases:
        live = (w for w in r.windows if w.end > now and not is_done(r, w, reached, now))
        upcoming = sorted(live, key=lambda w: w.start)
        nxt = f"{upcoming[0].environment} {format_local(upcoming[0].start, obj.tz, False)}" if upcoming else "-"
        approval = "UNAPPROVED" if r.unapproved else ("yes" if r.approved_by else "-")
        rows.append([str(r.id), r.name, r.version, r.stage, str(r.state), str(r.risk), r.owner, approval, nxt])
    table(["ID", "NAME", "VERSION", "STAGE", "STATE", "RISK", "OWNER", "APPROVED", "NEXT WINDOW"], rows)


@release.command("show")
@click.argument("release_id", metavar="ID", type=DB_INT)
@json_option
@pass_ctx
def release_show(obj: Context, release_id: int, as_json: bool) -> None:
    """Show every field of a release, its windows and its history."""
    service = obj.service()
    r = service.release(release_id)
    history = service.events(release_id)
    if as_json:
        echo_json(release_json(r, full=True, done=window_done(obj)) | {"history": [event_json(e) for e in history]})
        return
    tz = obj.tz
    fields = [
        ("id", str(r.id)),
        ("name", r.name),
        ("version", r.version),
        ("stage", r.stage),
        ("state", str(r.state)),
        ("components", ", ".join(r.components)),
        ("owner", r.owner),
        ("risk", str(r.risk)),
        (
            "approved",
            f"by {r.approved_by} at {format_local(r.approved_at, tz)}"
            if r.approved_by and r.approved_at
            else "NO — forced in without approval (break-glass); needs an approval"
            if r.unapproved
            else "no",
        ),
        ("created", f"{format_local(r.created_at, tz)} by {r.created_by}"),
        ("changed at", format_local(r.changed_at, tz) if r.changed_at else "-"),
        ("updated", format_local(r.updated_at, tz)),
        ("rev", str(r.rev)),
    ]
    for key, value in fields:
        click.echo(f"{key:<11} {inert(value)}")
    if r.notes:
        click.echo("notes")
        for line in r.notes.splitlines():
            click.echo(f"  {inert(line)}")
    click.echo("windows")
    order = {e.name: e.position for e in service.environments()}
    for w in sorted(r.windows, key=lambda w: order.get(w.environment, 0)):
        click.echo(f"  {inert(w.environment):<10} {format_local(w.start, tz)} → {format_local(w.end, tz)}")
    if not r.windows:
        click.echo("  (none)")
    click.echo("history")
    for e in history:
        click.echo(f"  {format_local(e.at, tz)}  {inert(actor_text(e))}  {what_happened(e, tz)}")


# -- moves -------------------------------------------------------------------------------------


@cli.command()
@click.argument("release_id", metavar="ID", type=DB_INT)
@click.argument("stage", metavar="STAGE")
@click.option("--force", is_flag=True, help="Override failing gates (needs --reason).")
@click.option("--reason", metavar="TEXT", help="Why: needed for a forced move or a move backwards.")
@click.option("--rev", type=DB_INT, help="Refuse if the release changed since this revision.")
@pass_ctx
def move(obj: Context, release_id: int, stage: str, force: bool, reason: str | None, rev: int | None) -> None:
    """Move a release to STAGE (`planned` or an environment name) through the gates."""
    service = obj.service()
    before = service.release(release_id)
    moved = service.move(release_id, stage, force=force, reason=reason, rev=rev)
    last = next(
        (e for e in reversed(service.events(release_id)) if e.action in (Action.MOVED, Action.ROLLED_BACK)), None
    )
    forced = last is not None and last.forced
    click.echo(f"{inert(moved.label)} {moved_words(before, moved, forced, obj.clock().now(), obj.tz)}")


def _release_action(name: str, help_text: str, method: str, reason: bool = False) -> None:
    @click.argument("release_id", metavar="ID", type=DB_INT)
    @click.option("--rev", type=DB_INT, help="Refuse if the release changed since this revision.")
    @pass_ctx
    def command(obj: Context, /, release_id: int, rev: int | None, **kwargs: Any) -> None:
        changed = getattr(obj.service(), method)(release_id, rev=rev, **kwargs)
        approved = f", approved by {inert(changed.approved_by)}" if method == "approve" else ""
        click.echo(f"{inert(changed.label)}: {changed.state} in {changed.stage}{approved}")

    command.__doc__ = help_text
    if reason:
        command = click.option("--reason", metavar="TEXT", help="Why.")(command)
    cli.command(name)(command)


_release_action("verify", "Mark a release verified in its environment.", "verify")
_release_action("fail", "Mark a release failed in its environment.", "fail", reason=True)
_release_action("approve", "Approve a release (four-eyes: not by its owner).", "approve")
_release_action("cancel", "Cancel a release: it leaves the board but stays in the log.", "cancel", reason=True)


@cli.command()
@click.argument("release_id", metavar="ID", type=DB_INT)
@click.option("--reason", metavar="TEXT", required=True, help="Why it goes back (required).")
@click.option("--to", "stage", metavar="STAGE", help="Stage to go back to (default: the one before).")
@click.option("--rev", type=DB_INT, help="Refuse if the release changed since this revision.")
@pass_ctx
def rollback(obj: Context, release_id: int, reason: str, stage: str | None, rev: int | None) -> None:
    """Send a release back one stage."""
    moved = obj.service().rollback(release_id, reason, stage=stage, rev=rev)
    click.echo(f"{inert(moved.label)} rolled back → {moved.stage} ({moved.state})")


# -- windows -----------------------------------------------------------------------------------


@cli.command()
@click.argument("release_id", metavar="ID", type=DB_INT)
@click.argument("environment", metavar="ENV")
@click.argument("times", nargs=-1, metavar="START [END]")
@click.option("--for", "length", metavar="DURATION", help="Window length instead of END (90m, 2h, 1h30m, 3d).")
@click.option("--next-free", is_flag=True, help="Pick the earliest window that creates no error conflict.")
@click.option("--after", metavar="TIME", help="With --next-free: search from this time (default: now).")
@click.option("--rev", type=DB_INT, help="Refuse if the release changed since this revision.")
@pass_ctx
def schedule(
    obj: Context,
    release_id: int,
    environment: str,
    times: tuple[str, ...],
    length: str | None,
    next_free: bool,
    after: str | None,
    rev: int | None,
) -> None:
    """Give a release its deployment window in ENV: START END, START --for D, or --next-free --for D."""
    service = obj.service()
    if next_free:
        if times:
            fail("--next-free picks the start itself; give no START or END")
        if length is None:
            fail("--next-free needs --for DURATION")
        duration = parse_duration(length)
        start = service.next_free(release_id, environment, duration, obj.when(after) if after else None)
        end = start + duration
    else:
        if after is not None:
            fail("--after only goes with --next-free")
        if len(times) == 2 and length is None:
            start, end = obj.when(times[0]), obj.when(times[1])
        elif len(times) == 1 and length is not None:
            start = obj.when(times[0])
            end = start + parse_duration(length)
        else:
            fail("give START and END, or START and --for DURATION, or --next-free --for DURATION")
    diff = service.preview_window(release_id, environment, start, end)
    saved = service.schedule(release_id, environment, start, end, rev=rev)
    click.echo(f"{inert(saved.label)} in {environment}: {format_local(start, obj.tz)} → {format_local(end, obj.tz)}")
    for conflict in diff.created:
        click.echo(f"warning: creates a {conflict.kind} conflict: {inert(conflict.message)}", err=True)
    for conflict in diff.resolved:
        click.echo(f"resolves a {conflict.kind} conflict: {inert(conflict.message)}", err=True)


@cli.command()
@click.argument("release_id", metavar="ID", type=DB_INT)
@click.argument("environment", metavar="ENV")
@click.option("--rev", type=DB_INT, help="Refuse if the release changed since this revision.")
@pass_ctx
def unschedule(obj: Context, release_id: int, environment: str, rev: int | None) -> None:
    """Remove a release's window in ENV."""
    saved = obj.service().unschedule(release_id, environment, rev=rev)
    click.echo(f"{inert(saved.label)}: no window in {environment}")


# -- freezes -----------------------------------------------------------------------------------


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


@cli.command()
@click.option("--now", "now_text", metavar="TIME", help="Take this as now (for `missed`).")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    help="Exit 1 when there is a conflict of this severity (warning: of either severity).",
)
@json_option
@pass_ctx
def conflicts(obj: Context, now_text: str | None, fail_on: str | None, as_json: bool) -> None:
    """List the conflicts between windows and freezes."""
    found = obj.service().conflicts(obj.when(now_text) if now_text else None)
    _show_conflicts(obj, found, as_json)
    counted = [c for c in found if fail_on == "warning" or str(c.severity) == "error"] if fail_on else []
    if counted:
        click.echo(f"relman: {len(counted)} conflict(s) at or above {fail_on} (--fail-on {fail_on})", err=True)
        sys.exit(1)


def _show_conflicts(obj: Context, found: Sequence[Conflict], as_json: bool) -> None:
    from relman_tui.conflicts import to_json

    if as_json:
        echo_json([to_json(c) for c in found])
        return
    if not found:
        click.echo("no conflicts")
        return
    tz = obj.tz  # once: each read looks the zone up again
    rows = [
        [
            c.kind,
            str(c.severity),
            format_local(c.start, tz, False),
            format_local(c.end, tz, False),
            ",".join(c.environments),
            ",".join(map(str, c.releases)),
            c.message,
        ]
        for c in found
    ]
    table(["KIND", "SEVERITY", "START", "END", "ENVS", "RELEASES", "MESSAGE"], rows)
    errors = sum(1 for c in found if str(c.severity) == "error")
    total = f"{counted(len(found), 'conflict')}: {counted(errors, 'error')}, {counted(len(found) - errors, 'warning')}"
    click.echo(f"{total} (times in {obj.tz})")


@cli.command()
@click.argument("release_id", metavar="[ID]", type=DB_INT, required=False)
@click.option("--limit", type=click.IntRange(1, _INT_MAX), help="Only the newest N events.")
@click.option(
    "--verify",
    is_flag=True,
    help="Check the log: hash chain, time order, the rules at each event's time and replay against the board; "
    "exit 0 if all hold, else 1 naming the first thing that fails.",
)
@json_option
@pass_ctx
def log(obj: Context, release_id: int | None, limit: int | None, verify: bool, as_json: bool) -> None:
    """Show the audit log, oldest first (of one release with ID)."""
    service = obj.service()
    if verify:
        if release_id is not None or limit is not None:
            fail("--verify checks the whole log; give no ID or --limit")
        _verify_log(service, as_json)
        return
    events = service.events(release_id, limit)
    if limit is not None:
        events = list(reversed(events))
    if as_json:
        echo_json([event_json(e) for e in events])
        return
    labels = {r.id: r.label for r in service.releases(include_cancelled=True)}
    actors = [inert(actor_text(e)) for e in events]
    width = min(ACTOR_COLUMN_MAX, max(map(cell_len, actors), default=0))  # one column, whatever the names
    for e, actor in zip(events, actors, strict=True):
        rel = f"#{e.release} {labels.get(e.release, '')}: " if e.release is not None else ""
        when = format_local(e.at, obj.tz)
        who = actor if cell_len(actor) > width else pad(actor, width)  # a longer name is shown whole
        click.echo(f"{e.seq:>6}  {when}  {who}  {inert(rel)}{what_happened(e, obj.tz)}")


def _verify_log(service: Service, as_json: bool) -> None:
    from relman_tui import witness
    from relman_tui.audit import verdict_words

    verdict = witness.verify(service)
    if as_json:
        echo_json(
            {
                "ok": verdict.ok,
                "events": verdict.events,
                "chained": verdict.chained,
                "broken_at": verdict.broken_at,
                "problem": verdict.problem or None,
                "last_seq": verdict.last_seq,
                "last_hash": verdict.last_hash,
                "check": verdict.check or None,
                "replayed_from": verdict.replayed_from,
                "fixed_clock": verdict.fixed_clock,
            }
        )
    if not verdict.ok:
        if not as_json:
            click.echo(f"relman: refused: {verdict_words(verdict)}", err=True)
        sys.exit(1)
    if not as_json:
        click.echo(verdict_words(verdict))


# -- board as code and config ------------------------------------------------------------------


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
    service.found_board(fixed_clock=_pinned(service))  # a fresh file: whoever imports into it made it
    board = import_board(service, file)
    click.echo(
        f"imported {len(board.environments)} environments and {len(board.freezes)} freezes from {inert(str(file))}"
    )


@cli.command("calendar")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--days",
    type=click.IntRange(1, 3660),
    default=60,
    show_default=True,
    help="How many days of freeze occurrences to include.",
)
@click.option("--environment", metavar="ENV", help="Only this environment's windows and freezes.")
@pass_ctx
def calendar_cmd(obj: Context, file: Path, days: int, environment: str | None) -> None:
    """Write the schedule as an iCalendar file: windows ending after now, freezes in the next N days.

    Times are UTC and UIDs stable, so a calendar client subscribed to the file updates events
    instead of duplicating them; the file is replaced by rename, never half-written.
    """
    from relman_tui import ical

    data, count = ical.build(obj.service(), days=days, environment=environment)
    ical.write(file, data, obj.service().store)
    click.echo(f"wrote {count} events to {inert(str(file))}")


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
    help="Longest wait between looks at the stop signal (new events wake the runner at once).",
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


def _pinned(service: Service) -> bool:
    """Whether the service's clock is `$RELMAN_NOW`'s: a board made under it is a fixed-clock board."""
    return bool(getattr(service.clock, "from_environment", False))


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


# -- printing ----------------------------------------------------------------------------------


def window_done(obj: Context) -> Callable[[Release, Window], bool]:
    """DESIGN "Conflicts": is this window done, on this board, now."""
    reached = done_positions(obj.service().environments())
    now = obj.clock().now()
    return lambda release, window: is_done(release, window, reached, now)


def release_json(
    r: Release, full: bool = False, done: Callable[[Release, Window], bool] | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": r.id,
        "name": r.name,
        "version": r.version,
        "stage": r.stage,
        "state": str(r.state),
        "components": list(r.components),
        "owner": r.owner,
        "risk": str(r.risk),
        "approved_by": r.approved_by,
        "unapproved": r.unapproved,
        "rev": r.rev,
        "changed_at": to_stamp(r.changed_at) if r.changed_at else None,
        "windows": {
            w.environment: {"start": to_stamp(w.start), "end": to_stamp(w.end)}
            | ({"done": done(r, w)} if done is not None else {})
            for w in r.windows
        },
    }
    if full:
        item |= {
            "approved_at": to_stamp(r.approved_at) if r.approved_at else None,
            "notes": r.notes,
            "created_at": to_stamp(r.created_at),
            "updated_at": to_stamp(r.updated_at),
            "created_by": r.created_by,
        }
    return item


def freeze_json(f: Freeze) -> dict[str, Any]:
    from relman_tui.service import freeze_record

    return freeze_record(f)


def event_json(e: Event) -> dict[str, Any]:
    from relman_tui.service import event_record

    return event_record(e)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> None:
    """A plain aligned table; every cell is made inert and cut to ``max_width`` cells."""
    cells = [[inert(one_line(cell)) for cell in row] for row in rows]
    widths = [min(max_width, max([cell_len(h)] + [cell_len(r[i]) for r in cells])) for i, h in enumerate(headers)]
    last = len(headers) - 1

    def line(values: Sequence[str]) -> str:
        return "  ".join(v if i == last else pad(v, widths[i]) for i, v in enumerate(values)).rstrip()

    click.echo("\n".join([line(headers), *map(line, cells)]))  # one write, not one per row


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


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="relman")


__all__ = ["BadInput", "Conflict", "cli", "main"]


from relman_tui import cli_insights  # noqa: E402,F401  (its command joins the group; the module is kept small)
