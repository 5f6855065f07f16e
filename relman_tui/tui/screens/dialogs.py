"""Modal dialogs: confirm, ask a reason, explain a refused move, pick a stage, edit and schedule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from relman_tui.errors import BadInput
from relman_tui.limits import clean_name, clean_text
from relman_tui.model import Environment, Release, Risk
from relman_tui.service import ConflictDiff
from relman_tui.text import inert
from relman_tui.timeutil import format_duration, format_local, parse_duration, parse_time

T = TypeVar("T")


class Dialog(ModalScreen[T | None], Generic[T]):
    """A modal with a title, escape to cancel."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def _literal(text: str) -> Text:
    """Untrusted text as a renderable that is never read as markup."""
    return Text("\n".join(inert(line) for line in text.split("\n")))


class ConfirmDialog(Dialog[bool]):
    def __init__(self, title: str, body: str, confirm: str = "Yes") -> None:
        super().__init__(classes="dialog-screen")
        self._title, self._body, self._confirm = title, body, confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield Static(_literal(self._body), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm, variant="error", id="confirm")
                yield Button("No", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _no(self) -> None:
        self.dismiss(None)


class _NotBlank(Validator):
    def validate(self, value: str) -> ValidationResult:
        try:
            if not clean_text(value, "reason"):
                return self.failure("a reason is required")
        except BadInput as exc:
            return self.failure(str(exc))
        return self.success()


class ReasonDialog(Dialog[str]):
    """Ask why (rollback, failure, cancellation); returns the reason."""

    def __init__(self, title: str, body: str, action: str, *, required: bool = True) -> None:
        super().__init__(classes="dialog-screen")
        self._title, self._body, self._action, self._required = title, body, action, required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield Static(_literal(self._body), classes="dialog-body")
            yield Input(
                placeholder="reason" if self._required else "reason (optional)",
                validators=[_NotBlank()] if self._required else [],
                id="reason",
            )
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._action, variant="primary", id="ok", disabled=self._required)
                yield Button("Cancel", id="cancel")

    @on(Input.Changed, "#reason")
    def _changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        ok = result is None or result.is_valid
        self.query_one("#ok", Button).disabled = not ok
        message = "" if result is None or ok or not event.value else "; ".join(result.failure_descriptions)
        self.query_one("#error", Static).update(message)

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        if self.query_one("#ok", Button).disabled:
            return
        self.dismiss(self.query_one("#reason", Input).value.strip())

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class RefusedMoveDialog(ReasonDialog):
    """A move was refused by a gate: say which, and offer a forced move with a reason."""

    def __init__(self, title: str, explanation: str) -> None:
        super().__init__(
            title,
            f"{explanation}\n\nTo move it anyway, give the reason; the move is logged as forced.",
            "Force move",
        )
        self.add_class("refused")


class StagePicker(Dialog[str]):
    """Choose a stage to move the release to."""

    def __init__(self, title: str, stages: Sequence[str], current: str) -> None:
        super().__init__(classes="dialog-screen")
        self._title, self._stages, self._current = title, list(stages), current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield OptionList(
                *(Option(f"{s}  (here)" if s == self._current else s, id=s, disabled=s == self._current)
                  for s in self._stages),
                id="stages",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        here = self._stages.index(self._current) if self._current in self._stages else 0
        options.highlighted = min(here + 1, len(self._stages) - 1)
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


@dataclass(frozen=True)
class ReleaseFields:
    name: str
    version: str
    components: tuple[str, ...]
    owner: str
    risk: str
    notes: str


class _Checked(Validator):
    def __init__(self, check: Callable[[str], object]) -> None:
        super().__init__()
        self._check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            self._check(value)
        except BadInput as exc:
            return self.failure(str(exc))
        return self.success()


def _components(text: str) -> tuple[str, ...]:
    return tuple(clean_name(part, "component") for part in text.split(",") if part.strip())


class ReleaseForm(Dialog[ReleaseFields]):
    """A new release, or an edit of one; validates as you type."""

    def __init__(self, release: Release | None, default_owner: str) -> None:
        super().__init__(classes="dialog-screen")
        self._release = release
        self._owner = default_owner

    def compose(self) -> ComposeResult:
        r = self._release
        with Vertical(classes="dialog form"):
            yield Label(_literal(f"Edit {r.label}") if r else "New release", classes="dialog-title")
            yield Label("Name")
            yield Input(r.name if r else "", placeholder="payments-api", id="name",
                        validators=[_Checked(lambda v: clean_name(v, "name"))])
            yield Label("Version")
            yield Input(r.version if r else "", placeholder="2.4.1", id="version",
                        validators=[_Checked(lambda v: clean_name(v, "version", 60))])
            yield Label("Components (comma-separated; empty: the name)")
            yield Input(", ".join(r.components) if r else "", id="components", validators=[_Checked(_components)])
            yield Label("Owner")
            yield Input(r.owner if r else self._owner, id="owner",
                        validators=[_Checked(lambda v: clean_name(v, "owner"))])
            yield Label("Risk")
            yield Select([(str(k), str(k)) for k in Risk], value=str(r.risk) if r else "low", allow_blank=False,
                         id="risk")
            yield Label("Notes")
            yield Input(r.notes.replace("\n", " ") if r else "", id="notes",
                        validators=[_Checked(lambda v: clean_text(v, "notes"))])
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self._revalidate()

    @on(Input.Changed)
    def _revalidate(self) -> None:
        problems = []
        for field in self.query(Input):
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                problems.extend(result.failure_descriptions)
        self.query_one("#ok", Button).disabled = bool(problems)
        self.query_one("#error", Static).update(_literal(problems[0]) if problems else "")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        if self.query_one("#ok", Button).disabled:
            return

        def value(name: str) -> str:
            return self.query_one(f"#{name}", Input).value

        self.dismiss(ReleaseFields(
            name=value("name"), version=value("version"), components=_components(value("components")),
            owner=value("owner"), risk=str(self.query_one("#risk", Select).value), notes=value("notes"),
        ))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class WindowChoice:
    environment: str
    start: datetime
    end: datetime


class ScheduleDialog(Dialog[WindowChoice]):
    """Schedule a release's window: environment, start and duration in the operator's zone.

    Before saving, it shows the conflicts the window would create (``preview`` runs off the
    event loop).
    """

    def __init__(
        self, release: Release, environments: Sequence[Environment], default_env: str, tz: str, now: datetime,
        preview: Callable[[str, datetime, datetime], ConflictDiff],
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._release, self._envs, self._env, self._tz, self._now = release, environments, default_env, tz, now
        self._preview = preview
        self._choice: WindowChoice | None = None

    def compose(self) -> ComposeResult:
        existing = self._release.window_in(self._env)
        start = format_local(existing.start, self._tz, with_zone=False) if existing else ""
        length = format_duration(existing.end - existing.start) if existing else "2h"
        with Vertical(classes="dialog form"):
            yield Label(_literal(f"Schedule {self._release.label}"), classes="dialog-title")
            yield Label("Environment")
            yield Select([(inert(e.title), e.name) for e in self._envs], value=self._env, allow_blank=False,
                         id="env")
            yield Label(f"Start ({self._tz}; 2026-12-01 14:00, +2h, tomorrow, 14:00)")
            yield Input(start, placeholder="2026-12-01 14:00", id="start")
            yield Label("Duration (90m, 2h, 1h30m)")
            yield Input(length, id="duration")
            yield Static("", id="when", classes="dialog-body")
            with VerticalScroll(id="preview"):
                yield Static("", id="preview-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Schedule", variant="primary", id="ok", disabled=True)
                yield Button("Cancel", id="cancel")

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
            start = parse_time(self.query_one("#start", Input).value or "", self._tz, self._now)
            duration = parse_duration(self.query_one("#duration", Input).value or "")
        except BadInput as exc:
            self.query_one("#when", Static).update(_literal(str(exc)))
            self.query_one("#preview-text", Static).update("")
            return
        choice = WindowChoice(self._env, start, start + duration)
        self.query_one("#when", Static).update(
            f"{format_local(choice.start, self._tz)} → {format_local(choice.end, self._tz)}"
        )
        self._check_conflicts(choice)

    @work(thread=True, exclusive=True, group="preview")
    def _check_conflicts(self, choice: WindowChoice) -> None:
        diff = self._preview(choice.environment, choice.start, choice.end)
        self.app.call_from_thread(self._show_preview, choice, diff)

    def _show_preview(self, choice: WindowChoice, diff: ConflictDiff) -> None:
        self._choice = choice
        text = Text()
        if diff.created:
            text.append(f"Would create {len(diff.created)} conflict(s):\n", style="bold")
            for c in diff.created:
                text.append(f"{'✖' if c.severity == 'error' else '⚠'} {c.kind}: ", style="bold")
                text.append(inert(c.message) + "\n")
        if diff.resolved:
            text.append(f"Would resolve {len(diff.resolved)} conflict(s):\n", style="bold")
            for c in diff.resolved:
                text.append(f"✓ {c.kind}: {inert(c.message)}\n")
        if not diff.created and not diff.resolved:
            text.append("No new conflicts.")
        self.query_one("#preview-text", Static).update(text)
        ok = self.query_one("#ok", Button)
        ok.disabled = False
        ok.label = "Schedule anyway" if diff.creates_error else "Schedule"
        ok.variant = "error" if diff.creates_error else "primary"
        ok.refresh(layout=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        if self._choice is not None and not self.query_one("#ok", Button).disabled:
            self.dismiss(self._choice)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(Dialog[None]):
    """Every key of the screen it was opened from."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss_none", "Close")]

    def __init__(self, rows: Sequence[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self._rows = rows

    def compose(self) -> ComposeResult:
        text = Text()
        width = max((len(k) for k, _ in self._rows), default=4) + 2
        for keys, description in self._rows:
            text.append(keys.ljust(width), style="bold")
            text.append(description + "\n")
        with Vertical(classes="dialog help"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll():
                yield Static(text)
            yield Label("esc closes · ctrl+p lists every action", classes="dialog-hint")
