"""`relman calendar`: windows and freezes as an iCalendar file."""

from __future__ import annotations

from pathlib import Path

import click

from relman_tui.cli.common import Context, pass_ctx
from relman_tui.cli.group import cli
from relman_tui.text import inert


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
