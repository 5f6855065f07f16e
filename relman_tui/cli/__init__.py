"""The `relman` command line: parse, call the service, print. Nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from relman_tui.cli import board, calendar, hooks, insights, log, pg, releases  # noqa: F401  (their commands join the group)
from relman_tui.cli.group import cli
from relman_tui.errors import BadInput
from relman_tui.model import Conflict


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="relman")


__all__ = ["BadInput", "Conflict", "cli", "main"]
