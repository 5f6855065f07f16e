"""`relman insights`: the delivery figures from the log, as text or as DESIGN's JSON."""

from __future__ import annotations

import click

from relman_tui.cli.common import DB_INT, Context, echo_json, json_option, pass_ctx
from relman_tui.cli.group import cli
from relman_tui.insights import DAYS_MAX, DEFAULT_DAYS
from relman_tui.insights_text import rows
from relman_tui.text import inert
from relman_tui.timeutil import format_local


@cli.command()
@click.option(
    "--environment",
    "environment",
    metavar="E",
    help="The environment deployments go to (default: the pipeline's last).",
)
@click.option(
    "--days",
    type=DB_INT,
    metavar="N",
    default=DEFAULT_DAYS,
    show_default=True,
    help=f"How many days, ending now, the figures cover (1 to {DAYS_MAX}).",
)
@json_option
@pass_ctx
def insights(obj: Context, environment: str | None, days: int, as_json: bool) -> None:
    """Delivery figures from the log: deployments, lead time, change failure rate, recovery time, forced moves."""
    found = obj.service().insights(environment, days).figures
    if as_json:
        echo_json(found.json())
        return
    tz = obj.tz
    click.echo(
        f"{inert(found.environment)}, the {days} days from {format_local(found.start, tz)} "
        f"to {format_local(found.end, tz)}"
    )
    for label, value in rows(found):
        click.echo(f"  {label:<20} {value}")
