"""The dialog that schedules a release into an environment, with a preview of its conflicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from relman_tui.errors import BadInput
from relman_tui.limits import WINDOW_MAX, check_span
from relman_tui.model import Environment, Release, Severity
from relman_tui.service import ConflictDiff
from relman_tui.text import inert
from relman_tui.timeutil import format_duration, format_local, in_zone, parse_duration, parse_time
from relman_tui.tui.host import host
from relman_tui.tui.screens.dialog_base import Saved, SavingDialog, _literal
from relman_tui.tui.session import Read, Session
from relman_tui.undo import Change, Write
from relman_tui.wording import localize


@dataclass(frozen=True)
class WindowChoice:
    environment: str
    start: datetime
    end: datetime


def read_window(start_text: str, duration_text: str, tz: str, now: datetime, environment: str) -> WindowChoice:
    """A window typed by a person, checked as the service will check it (BadInput says what is wrong)."""
    try:
        start = parse_time(start_text, tz, now)
        end = start + parse_duration(duration_text)
    except (OverflowError, ValueError) as exc:  # year 1 or 9999 and beyond: the calendar ends
        raise BadInput(f"bad time {start_text!r}: out of range (times from 2000 to 2099 are allowed)") from exc
    check_span(start, end, "a window", WINDOW_MAX)
    return WindowChoice(environment, start, end)


class ScheduleDialog(SavingDialog):
    """Schedule a release's window: environment, start and duration in the operator's zone.

    As you type it shows when the window falls and the conflicts it would create and resolve;
    Save writes through the session, and a refused save leaves the dialog open with its input.
    """

    def __init__(
        self,
        release: Release,
        environments: Sequence[Environment],
        default_env: str,
        tz: str,
        now: datetime,
        *,
        start: datetime | None = None,
    ) -> None:
        super().__init__()
        self._release, self._envs, self._env, self._tz, self._now = release, environments, default_env, tz, now
        self._start = start  # pre-filled when the release has no window there (the scheduler's cursor)
        self._choice: WindowChoice | None = None  # checked and previewed: Save writes it
        self._asked: WindowChoice | None = None  # the last one sent for a preview
        self._saving = False

    def compose(self) -> ComposeResult:
        existing = self._release.window_in(self._env)
        start = format_local(existing.start, self._tz, with_zone=False) if existing else ""
        if not existing and self._start is not None:
            start = format_local(self._start, self._tz, with_zone=False)
        length = format_duration(existing.end - existing.start) if existing else "2h"
        # an example in the future: tomorrow at 14:00 on the operator's clock
        example = format_local(
            in_zone(self._now, self._tz).replace(hour=14, minute=0, second=0, microsecond=0) + timedelta(days=1),
            self._tz,
            with_zone=False,
        )
        with Vertical(classes="dialog form"):
            yield Label(_literal(f"Schedule {self._release.label}"), classes="dialog-title")
            yield Label("Environment")
            yield Select(
                [(inert(e.title), e.name) for e in self._envs],
                value=self._env,
                allow_blank=False,
                id="env",
                compact=True,
            )
            yield Label(f"Start ({self._tz}; {example}, +2h, tomorrow, 14:00)")
            yield Input(compact=True, value=start, placeholder=example, id="start")
            yield Label("Duration (90m, 2h, 1h30m)")
            yield Input(compact=True, value=length, id="duration")
            yield Static("", id="when", classes="dialog-body")
            with VerticalScroll(id="preview"):
                yield Static("", id="preview-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="Schedule", variant="primary", id="ok", disabled=True)
                yield Button(compact=True, label="Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#start", Input).focus()
        self._recheck()

    @on(Select.Changed, "#env")
    def _env_changed(self, event: Select.Changed) -> None:
        self._env = str(event.value)
        existing = self._release.window_in(self._env)
        if existing:
            self.query_one("#start", Input).value = format_local(existing.start, self._tz, with_zone=False)
            self.query_one("#duration", Input).value = format_duration(existing.end - existing.start)
        self._recheck()

    @on(Input.Changed)
    def _recheck(self) -> None:
        self._choice = None
        self.query_one("#ok", Button).disabled = True
        try:
            choice = read_window(
                self.query_one("#start", Input).value or "",
                self.query_one("#duration", Input).value or "",
                self._tz,
                self._now,
                self._env,
            )
        except BadInput as exc:
            self.query_one("#when", Static).update(_literal(str(exc)))
            self.query_one("#when", Static).add_class("dialog-error")
            self.query_one("#preview-text", Static).update("")
            self._asked = None
            return
        when = self.query_one("#when", Static)
        when.remove_class("dialog-error")
        when.update(f"{format_local(choice.start, self._tz)} → {format_local(choice.end, self._tz)}")
        self._asked = choice
        release_id = self._release.id
        host(self).session.read(
            self,
            Read.PREVIEW_WINDOW,
            lambda service: service.preview_window(release_id, choice.environment, choice.start, choice.end),
            context=choice,
        )

    def on_session_done(self, message: Session.Done[object]) -> None:
        call, result = message.call, message.result
        if (
            call.name == Read.PREVIEW_WINDOW
            and isinstance(result, ConflictDiff)
            and self._asked is not None
            and call.context is self._asked
            and not self._saving
        ):
            self._show_preview(self._asked, result)
        elif call.name == Write.SCHEDULE and isinstance(result, Release):
            self.dismiss(Saved(result, message.snapshot))

    def not_saved(self, text: Text) -> None:
        self._saving = False
        when = self.query_one("#when", Static)
        when.update(text)
        when.add_class("dialog-error")
        self.query_one("#ok", Button).disabled = self._choice is None

    def _show_preview(self, choice: WindowChoice, diff: ConflictDiff) -> None:
        self._choice = choice
        text = Text()
        # about this release's conflicts: the board's totals (the top bar) may move differently
        if diff.created:
            text.append(f"Puts it in {_conflicts(len(diff.created))}:\n", style="bold")
            for c in diff.created:
                text.append(f"{'✖' if c.severity is Severity.ERROR else '⚠'} {c.kind}: ", style="bold")
                text.append(inert(localize(c.message, self._tz)) + "\n")
        if diff.resolved:
            text.append(f"Takes it out of {_conflicts(len(diff.resolved))}:\n", style="bold")
            for c in diff.resolved:
                text.append(f"✓ {c.kind}: {inert(localize(c.message, self._tz))}\n")
        if not diff.created and not diff.resolved:
            text.append("No conflict for it here.")
        self.query_one("#preview-text", Static).update(text)
        ok = self.query_one("#ok", Button)
        ok.disabled = False
        ok.label = "Schedule anyway" if diff.creates_error else "Schedule"
        ok.variant = "error" if diff.creates_error else "primary"
        ok.refresh(layout=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        choice = self._choice
        if choice is None or self.query_one("#ok", Button).disabled:
            return
        self._saving = True
        self.query_one("#ok", Button).disabled = True
        release = self._release
        host(self).session.write(
            self,
            Change(Write.SCHEDULE, release.id, choice.environment),
            lambda service: service.schedule(release.id, choice.environment, choice.start, choice.end, rev=release.rev),
            context=choice,
        )

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


def _conflicts(count: int) -> str:
    return f"{count} conflict{'s' * (count != 1)}"
