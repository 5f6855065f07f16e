"""The line across the top: which board, how many conflicts, read-only, and the clock."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from relman_tui.model import Severity
from relman_tui.service import Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import in_zone


class TopBar(Horizontal):
    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[Text, str] = (Text(), "")

    def compose(self) -> ComposeResult:
        yield Static("relman", id="brand")
        yield Static(self._shown[0], id="summary")
        yield Static(self._shown[1], id="clock")

    def show(self, snapshot: Snapshot, tz: str, now: datetime, read_only: bool, db_name: str) -> None:
        errors = sum(1 for c in snapshot.conflicts if c.severity is Severity.ERROR)
        warnings = len(snapshot.conflicts) - errors
        summary = Text(no_wrap=True, overflow="ellipsis")
        summary.append(inert(db_name), style="bold")
        summary.append(f" · {len(snapshot.releases)} releases · ")
        summary.append(f"✖ {errors} error{'s' * (errors != 1)}", style="bold" if errors else "")
        summary.append(f"  ⚠ {warnings} warning{'s' * (warnings != 1)}")
        if read_only:
            summary.append("  READ-ONLY", style="bold reverse")
        local = in_zone(now, tz)
        shown = (summary, f"{local.strftime('%a %d %b %H:%M')} {local.tzname()}")
        if shown == self._shown:
            return  # the same words: no update, no layout, nothing written to the terminal
        self._shown = shown
        if self.is_mounted:  # else compose draws it, in the first frame
            self.query_one("#summary", Static).update(summary)
            self.query_one("#clock", Static).update(shown[1])
