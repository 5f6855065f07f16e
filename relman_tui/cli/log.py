"""`relman log`: the event log, and its verification."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from relman_tui.cli.common import DB_INT, INT_MAX, Context, echo_json, event_json, fail, json_option, pass_ctx
from relman_tui.cli.group import cli
from relman_tui.text import cell_len, inert, pad
from relman_tui.timeutil import format_local
from relman_tui.wording import actor_text, what_happened

if TYPE_CHECKING:
    from relman_tui.service import Service

ACTOR_COLUMN_MAX = 24  # `relman log` pads account names to the longest shown, up to this


@cli.command()
@click.argument("release_id", metavar="[ID]", type=DB_INT, required=False)
@click.option("--limit", type=click.IntRange(1, INT_MAX), help="Only the newest N events.")
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
