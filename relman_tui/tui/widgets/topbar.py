"""The line across the top: the conflict counts, read-only, which board and who you are, and the clock.

Below it, a warning bar that is shown only when there is something to warn about.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from relman_tui.service import Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import in_zone
from relman_tui.tui.cells import cell_len
from relman_tui.tui.textual_private import Guarded
from relman_tui.tui.viewmodel import conflict_counts


class Summary(Guarded, Widget):
    """The counts first (red when there are errors), then as much of board, identity and size as fits."""

    COMPONENT_CLASSES = {"summary--errors", "summary--warnings", "summary--read-only", "summary--board"}

    def __init__(self) -> None:
        super().__init__(id="summary")
        self.parts: tuple[int, int, bool, str, str, int, int, bool] = (0, 0, False, "", "", 0, 0, True)

    def render(self) -> Text:
        errors, warnings, read_only, board, who, releases, unapproved, checked = self.parts
        width = self.content_region.width
        error_style = self.get_component_rich_style("summary--errors") if errors else None
        for variant in range(4):
            text = Text(no_wrap=True, overflow="ellipsis")
            long = variant < 2
            if checked:
                text.append(f"✖ {errors} error{'s' * (errors != 1)}" if long else f"✖ {errors}", error_style or "")
                text.append("  ")
                text.append(
                    f"⚠ {warnings} warning{'s' * (warnings != 1)}" if long else f"⚠ {warnings}",
                    self.get_component_rich_style("summary--warnings") if warnings else "",
                )
            else:
                text.append("checking conflicts…" if long else "checking…")
            if unapproved:  # break-glass: releases forced in without approval, counted till approved
                text.append("  ")
                text.append(
                    f"⚑ {unapproved} unapproved" if long else f"⚑ {unapproved}",
                    self.get_component_rich_style("summary--errors"),
                )
            if read_only:
                text.append("  ")
                text.append("READ-ONLY", self.get_component_rich_style("summary--read-only"))
            text.append("  ")
            text.append(inert(board), self.get_component_rich_style("summary--board"))
            if variant < 3:
                text.append(f" · {inert(who)}")
            if variant == 0:
                text.append(f" · {releases} release{'s' * (releases != 1)}")
            if cell_len(text.plain) <= width:
                return text
        return text


class TopBar(Guarded, Vertical):
    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[tuple[int, int, bool, str, str, int, int, bool], str] | None = None
        self._local: str | None = None  # the screen's own warning (too many environments, say)

    def compose(self) -> ComposeResult:
        with Horizontal(id="topline"):
            yield Static("relman", id="brand")
            yield Summary()
            yield Static("", id="clock")
        yield Static("", id="warning-bar")

    def show(self, snapshot: Snapshot, tz: str, now: datetime, read_only: bool, board: str, who: str) -> None:
        errors, warnings = conflict_counts(snapshot)
        local = in_zone(now, tz)
        unapproved = sum(1 for r in snapshot.releases if r.unapproved)
        shown = (
            (errors, warnings, read_only, board, who, len(snapshot.releases), unapproved, snapshot.checked),
            f"{local.strftime('%a %d %b %H:%M')} {local.tzname()}",
        )
        if shown == self._shown:
            return  # the same words: no update, no layout, nothing written to the terminal
        self._shown = shown
        if self.is_mounted:
            self._draw()
        else:
            self.call_after_refresh(self._draw)

    def on_mount(self) -> None:
        if self._shown is not None:
            self._draw()
        self.watch(self.app, "alerts", self._show_warnings)

    def _draw(self) -> None:
        if self._shown is None:
            return
        summary = self.query_one(Summary)
        summary.parts = self._shown[0]
        summary.refresh()
        self.query_one("#clock", Static).update(self._shown[1])

    def warn(self, text: str | None) -> None:
        """The screen's own line under the top bar (beside the app's alerts); None hides it."""
        self._local = text
        self._show_warnings()

    def _show_warnings(self, _: object = None) -> None:
        alerts = [*getattr(self.app, "alerts", ()), *([self._local] if self._local else [])]
        bar = self.query_one("#warning-bar", Static)
        bar.display = bool(alerts)
        bar.update(inert("  ·  ".join(f"⚠ {a}" for a in alerts)))
