"""Releases: add, edit, list, show, move, approve, roll back, schedule, and their conflicts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from relman_tui.actions import Action
from relman_tui.cli.common import (
    DB_INT,
    Context,
    echo_json,
    event_json,
    fail,
    json_option,
    pass_ctx,
    release_json,
    table,
    window_done,
)
from relman_tui.cli.group import cli
from relman_tui.done import is_done
from relman_tui.done import positions as done_positions
from relman_tui.model import Conflict
from relman_tui.text import inert
from relman_tui.timeutil import format_local, parse_duration
from relman_tui.wording import actor_text, counted, moved_words, what_happened


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
