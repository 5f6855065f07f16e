"""The scheduler's key table, its conflict panel and release picker, and the words of its status line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from relman_tui.model import Conflict, Release, Severity, Window
from relman_tui.service import ConflictDiff
from relman_tui.text import inert
from relman_tui.timeutil import format_local
from relman_tui.tui.keys import COMMON, PRIORITY, Key, KeyTable, Note
from relman_tui.tui.screens.dialogs import Dialog

NARROW = 110  # below this width the conflict panel goes under the timeline

Key_ = tuple[int, str]  # (release id, environment): one window


KEYS = (
    KeyTable(
        Key(
            "1",
            "show_board",
            "1",
            "the board, on the same release",
            label="Board",
            rank=2,
            palette="Open the board",
            group="View",
        ),
        Key(
            "plus,equals_sign",
            "zoom(-1)",
            "+ -",
            "day / week zoom",
            label="Zoom",
            rank=9,
            short="+/-",
            palette="Zoom in (day)",
            group="View",
        ),
        Key("minus", "zoom(1)", "-", "", palette="Zoom out (week)", group="View"),
        Key(
            "left",
            "scroll_time(-1)",
            "← → pgup pgdn",
            "scroll time: a step / a page",
            label="Scroll time",
            rank=10,
            short="←→",
            group="View",
        ),
        Key("right", "scroll_time(1)", "→", "", group="View"),
        Key("pageup", "scroll_page(-1)", "pgup", "", group="View"),
        Key("pagedown", "scroll_page(1)", "pgdn", "", group="View"),
        Key("t", "today", "t", "jump to now", label="Now", rank=8, palette="Jump to now", group="View"),
        Key("up", "row(-1)", "↑ ↓", "environment above / below", group="Select"),
        Key("down", "row(1)", "↓", "", group="Select"),
        Key("tab", "along(1)", "tab shift+tab", "next / previous window in the row", group="Select"),
        Key("shift+tab", "along(-1)", "shift+tab", "", group="Select"),
        Key(
            "n",
            "conflict(1)",
            "n p",
            "next / previous conflict from here",
            label="Conflict",
            rank=5,
            short="n p",
            palette="Next conflict",
            group="Select",
        ),
        Key("p", "conflict(-1)", "p", "", palette="Previous conflict", group="Select"),
        Key(
            "left_square_bracket",
            "shift(-1)",
            "[ ]",
            "preview it a step earlier / later",
            label="Shift window",
            rank=3,
            short="[ ]",
            writes=True,
            palette="Shift the window a step later",
            group="Change",
        ),
        Key("right_square_bracket", "shift(1)", "]", "", writes=True, group="Change"),
        Key(
            "left_curly_bracket",
            "stretch(-1)",
            "{ }",
            "preview it a step shorter / longer",
            label="Resize",
            rank=6,
            short="{ }",
            writes=True,
            group="Change",
        ),
        Key("right_curly_bracket", "stretch(1)", "}", "", writes=True, group="Change"),
        Note("step", "1h in day zoom, 1 day in week zoom", writes=True, group="Change"),
        Key(
            "f",
            "next_free",
            "f",
            "preview it in the next free slot",
            label="Free slot",
            rank=4,
            writes=True,
            palette="Preview the next free slot",
            group="Change",
        ),
        Note("drag", "drag a window along its row: a preview", writes=True, group="Change"),
        Key(
            "enter",
            "apply",
            "enter",
            "apply the preview (ctrl+z undoes it)",
            label="Apply",
            rank=PRIORITY,
            writes=True,
            palette="Apply the previewed change",
            group="Change",
        ),
        Key(
            "escape",
            "discard",
            "esc",
            "discard the preview",
            label="Discard",
            rank=PRIORITY,
            writes=True,
            group="Change",
        ),
        Key(
            "d",
            "remove",
            "d",
            "remove the window (asks first)",
            writes=True,
            palette="Remove the window",
            group="Change",
        ),
        Key(
            "s",
            "schedule",
            "s",
            "schedule a release with no window here",
            label="Schedule",
            rank=7,
            writes=True,
            palette="Schedule a release here",
            group="Change",
        ),
        Key("enter", "detail", "enter", "details and history", palette="Release details and history", group="Select"),
    )
    + COMMON
)


class ConflictList(OptionList, can_focus=False):
    """The conflict panel; it never takes the keys from the timeline (n/p and the mouse choose)."""


class ReleasePicker(Dialog[int]):
    """Choose a release (for ``s``: one without a window in the environment)."""

    def __init__(self, title: str, releases: list[Release], preferred: int | None) -> None:
        super().__init__()
        self._title, self._releases, self._preferred = title, releases, preferred

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(inert(self._title)), classes="dialog-title")
            yield OptionList(
                *(Option(Text(inert(f"{r.label}  ({r.stage})")), id=str(r.id)) for r in self._releases),
                id="release-picker",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [r.id for r in self._releases]
        options.highlighted = ids.index(self._preferred) if self._preferred in ids else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))


@dataclass(frozen=True)
class FreeAsk:
    """A search for the next free slot: from the window's start first, then from now."""

    release: Release
    window: Window
    length: timedelta
    from_start: bool


def _sort_key(conflict: Conflict) -> tuple[datetime, str, tuple[str, ...], tuple[int, ...]]:
    return (conflict.start, conflict.kind, conflict.environments, conflict.releases)


def _span(start: datetime, end: datetime, tz: str) -> str:
    """``2026-12-01 10:00 → 12:00 CET``: the end's date only when it falls on another day."""
    first, last = format_local(start, tz, with_zone=False), format_local(end, tz)
    return f"{first} → {last[11:] if first[:10] == last[:10] else last}"


def _diff_words(diff: ConflictDiff) -> Text:
    """What a previewed change would do to the conflicts this release is part of (the board's totals, in
    the top bar, may move differently: leaving a three-way clash leaves a two-way one)."""
    text = Text()
    errors = [c for c in diff.created if c.severity is Severity.ERROR]
    warnings = [c for c in diff.created if c.severity is not Severity.ERROR]
    if errors:
        kinds = ", ".join(sorted({str(c.kind) for c in errors}))
        text.append(f"✖ puts it in {len(errors)} error{'s' * (len(errors) != 1)} ({kinds})", style="bold red")
    if warnings:
        text.append(
            ("; " if errors else "") + f"⚠ puts it in {len(warnings)} warning{'s' * (len(warnings) != 1)}",
            style="bold yellow",
        )
    if diff.resolved:
        count = len(diff.resolved)
        text.append(
            ("; " if diff.created else "") + f"✓ takes it out of {count} conflict{'s' * (count != 1)}",
            style="bold green",
        )
    if not diff.created and not diff.resolved:
        text.append("no conflict for it here")
    return text
