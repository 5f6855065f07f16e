"""Modal dialogs: confirm, ask a reason, explain a refused move, pick a stage, edit and schedule, errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from relman_tui.errors import BadInput, RelmanError, StaleWrite
from relman_tui.limits import WINDOW_MAX, check_span, clean_name, clean_text
from relman_tui.model import Environment, Release, Risk, Severity
from relman_tui.service import ConflictDiff, Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import format_duration, format_local, in_zone, parse_duration, parse_time
from relman_tui.tui.host import host
from relman_tui.tui.session import Session
from relman_tui.tui.textual_private import Guarded
from relman_tui.undo import Change, Write
from relman_tui.wording import localize

T = TypeVar("T")


class Dialog(Guarded, ModalScreen[T | None], Generic[T]):
    """A modal with a title, escape to cancel.

    ``opened_at`` is when it was made: the app drops keys typed before it (typed ahead for the
    screen below, they must not land in a reason field or press a button here).
    """

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, *, classes: str | None = "dialog-screen") -> None:
        super().__init__(classes=classes)
        self.opened_at = Message().time  # Textual's event clock now: key events carry the same clock
        self._baseline: dict[Input, str] = {}  # each field's value as the dialog opened with it

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def on_mount(self) -> None:
        for field in self.query(Input):
            self._baseline.setdefault(field, field.value)

    def unsaved(self) -> bool:
        """Has the operator typed something here that quitting would lose?"""
        return any(field.value != self._baseline.get(field, field.value) for field in self.query(Input))


def _literal(text: str) -> Text:
    """Untrusted text as a renderable that is never read as markup."""
    return Text("\n".join(inert(line) for line in text.split("\n")))


class ConfirmDialog(Dialog[bool]):
    def __init__(self, title: str, body: str, confirm: str = "Yes", *, default_yes: bool = False) -> None:
        super().__init__()
        self._title, self._body, self._confirm = title, body, confirm
        self._default_yes = default_yes  # enter confirms (a step the operator already chose), else it declines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield Static(_literal(self._body), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label=self._confirm, variant="error", id="confirm")
                yield Button(compact=True, label="No", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm" if self._default_yes else "#cancel", Button).focus()

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
        super().__init__()
        self._title, self._body, self._action, self._required = title, body, action, required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield Static(_literal(self._body), classes="dialog-body")
            yield Input(
                compact=True,
                placeholder="reason" if self._required else "reason (optional)",
                validators=[_NotBlank()] if self._required else [],
                id="reason",
            )
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._action, variant="primary", id="ok", disabled=self._required, compact=True)
                yield Button(compact=True, label="Cancel", id="cancel")

    @on(Input.Changed, "#reason")
    def _changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        ok = result is None or result.is_valid
        self.query_one("#ok", Button).disabled = not ok
        message = "" if result is None or ok or not event.value else "; ".join(result.failure_descriptions)
        self.query_one("#error", Static).update(message)

    ENTER_SUBMITS = True  # else Enter in the reason field only goes on to the button

    @on(Input.Submitted, "#reason")
    def _entered(self) -> None:
        if self.query_one("#ok", Button).disabled:
            # enter on an empty reason says so, rather than nothing
            self.query_one("#error", Static).update("a reason is needed: type why, then enter (esc cancels)")
        elif self.ENTER_SUBMITS:
            self._submit()
        else:
            self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        if self.query_one("#ok", Button).disabled:
            return
        self.dismiss(self.query_one("#reason", Input).value.strip())

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class RefusedMoveDialog(ReasonDialog):
    """A move was refused by a gate: say which, and offer a forced move with a reason.

    Forcing takes pressing the button: Enter in the reason field only moves to it.
    """

    ENTER_SUBMITS = False

    def __init__(self, title: str, explanation: str) -> None:
        super().__init__(
            title,
            f"{explanation}\n\nTo move it anyway, give the reason, then press Force move; "
            "the move is logged as forced.",
            "Force move",
        )
        self.add_class("refused")


class StageList(OptionList):
    """An option list that stops at its first and last stage instead of wrapping around."""

    def _step(self, direction: int) -> None:
        here = self.highlighted
        index = (here if here is not None else -direction) + direction
        while 0 <= index < self.option_count:
            if not self.get_option_at_index(index).disabled:
                self.highlighted = index
                return
            index += direction

    def action_cursor_down(self) -> None:
        self._step(1)

    def action_cursor_up(self) -> None:
        self._step(-1)


class StagePicker(Dialog[str]):
    """Choose a stage to move the release to."""

    def __init__(self, title: str, stages: Sequence[str], current: str) -> None:
        super().__init__()
        self._title, self._stages, self._current = title, list(stages), current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield StageList(
                *(
                    Option(f"{s}  (here)" if s == self._current else s, id=s, disabled=s == self._current)
                    for s in self._stages
                ),
                id="stages",
            )
            yield Static("enter chooses (you confirm next) · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        here = self._stages.index(self._current) if self._current in self._stages else 0
        options.highlighted = min(here + 1, len(self._stages) - 1)
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


@dataclass(frozen=True)
class Saved:
    """What a dialog that writes returns: the release as saved, and the board right after."""

    release: Release
    snapshot: Snapshot | None


class SavingDialog(Dialog[Saved]):
    """A form that saves through the session and, when the save is refused or fails, stays open
    with its input and says why (times in the operator's zone)."""

    def on_session_refused(self, message: Session.Refused) -> None:
        self._refused(message.error)

    def on_session_failed(self, message: Session.Failed) -> None:
        self._refused(message.error)

    def _refused(self, error: Exception) -> None:
        text = str(error) if isinstance(error, RelmanError) else "an unexpected error; see the log"
        self.not_saved(_literal(f"not saved: {localize(text, host(self).tz)}"))

    def not_saved(self, text: Text) -> None:
        """Show ``text`` and let the operator try again."""
        raise NotImplementedError


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


# What inert() writes for an invisible character: \x1b, \u202e, \U0001f…
_ESCAPE = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _shown(text: str, multiline: bool = False) -> str:
    """A stored value as a field shows it: inert (no escape reaches the terminal); notes keep their
    line breaks and tabs as ``\n`` and ``\t``."""
    if multiline:
        return "\\n".join(inert(line.replace("\t", "\\t")) for line in text.split("\n"))
    return inert(text)


def _typed(text: str, multiline: bool = False) -> str:
    """A changed field's value as it is saved: the only escapes read back are the line breaks and
    tabs of notes; any other (an invisible character shown as ``\x1b``) is refused, since what the
    person meant by editing around it cannot be known."""
    if _ESCAPE.search(text):
        found = _ESCAPE.search(text)
        assert found is not None
        raise BadInput(f"remove {found[0]}: it stands for an invisible character (or leave the field as it was)")
    return text.replace("\\n", "\n").replace("\\t", "\t") if multiline else text


class ReleaseForm(SavingDialog):
    """A new release, or an edit of one; validates as you type, saves through the session, and stays
    open with the error if the save is refused.

    Stored names and notes are shown inert. A field left as it was is not sent at all, so what
    is stored (whatever it holds) is kept exactly; a changed field is saved as typed.
    """

    FIELDS = ("name", "version", "components", "owner", "notes")

    def __init__(self, release: Release | None, default_owner: str) -> None:
        super().__init__()
        self._release = release
        self._owner = default_owner
        self._initial = self._fields_of(release)
        self._fresh: Release | None = None  # the release as someone else saved it, after a stale save
        self._focus_before: Widget | None = None  # where the operator was when they saved
        self._touched: set[str] = set()  # fields the operator has typed in: only their problems are named

    def _fields_of(self, r: Release | None) -> dict[str, str]:
        return {
            "name": _shown(r.name) if r else "",
            "version": _shown(r.version) if r else "",
            "components": ", ".join(_shown(c) for c in r.components) if r else "",
            "owner": _shown(r.owner) if r else self._owner,
            "notes": _shown(r.notes, multiline=True) if r else "",
        }

    def _checked(self, field: str, check: Callable[[str], object]) -> _Checked:
        def run(value: str) -> object:
            if self._release is not None and value == self._initial[field]:
                return None  # unchanged: not sent, nothing to check
            return check(_typed(value, multiline=field == "notes"))

        return _Checked(run)

    def compose(self) -> ComposeResult:
        r = self._release
        initial = self._initial
        with Vertical(classes="dialog form"):
            yield Label(_literal(f"Edit {r.label}") if r else "New release", classes="dialog-title", id="title")
            yield Label("Name")
            yield Input(
                compact=True,
                value=initial["name"],
                placeholder="payments-api",
                id="name",
                validators=[self._checked("name", lambda v: clean_name(v, "name"))],
            )
            yield Label("Version")
            yield Input(
                compact=True,
                value=initial["version"],
                placeholder="2.4.1",
                id="version",
                validators=[self._checked("version", lambda v: clean_name(v, "version", 60))],
            )
            yield Label("Components (comma-separated; empty: the name)")
            yield Input(
                compact=True,
                value=initial["components"],
                id="components",
                validators=[self._checked("components", _components)],
            )
            yield Label("Owner")
            yield Input(
                compact=True,
                value=initial["owner"],
                id="owner",
                validators=[self._checked("owner", lambda v: clean_name(v, "owner"))],
            )
            yield Label("Risk")
            yield Select(
                [(str(k), str(k)) for k in Risk],
                value=str(r.risk) if r else "low",
                allow_blank=False,
                id="risk",
                compact=True,
            )
            yield Label("Notes (\\n for a new line)")
            yield Input(
                compact=True,
                value=initial["notes"],
                id="notes",
                validators=[self._checked("notes", lambda v: clean_text(v, "notes"))],
            )
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                reload = Button(compact=True, label="Reload and re-apply", variant="warning", id="reload")
                reload.display = False
                yield reload
                yield Button(compact=True, label="Save", variant="primary", id="ok")
                yield Button(compact=True, label="Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self._revalidate(quiet=True)

    @on(Input.Changed)
    def _revalidate(self, event: Input.Changed | None = None, quiet: bool = False) -> None:
        """Save acts only on valid fields; a problem is named once the operator has typed something
        (a new form does not open with an error before anything is typed)."""
        if event is not None and event.input.id is not None and event.value != self._initial.get(event.input.id):
            self._touched.add(event.input.id)
        problems, typed = [], []
        for field in self.query(Input):
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                problems.extend(result.failure_descriptions)
                if field.id in self._touched:
                    typed.extend(result.failure_descriptions)
        self.query_one("#ok", Button).disabled = bool(problems)
        self.query_one("#error", Static).update(_literal(typed[0]) if typed and not quiet else "")

    def changes(self) -> dict[str, Any]:
        """The fields to send: every field of a new release; only the changed ones of an edit."""
        out: dict[str, Any] = {}
        for field in self.FIELDS:
            value = self.query_one(f"#{field}", Input).value
            if self._release is not None and value == self._initial[field]:
                continue
            typed = _typed(value, multiline=field == "notes")
            out[field] = _components(typed) if field == "components" else typed
        risk = str(self.query_one("#risk", Select).value)
        if self._release is None or risk != str(self._release.risk):
            out["risk"] = risk
        return out

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        ok = self.query_one("#ok", Button)
        if ok.disabled:
            return
        try:
            fields = self.changes()
        except BadInput as exc:
            self.query_one("#error", Static).update(_literal(str(exc)))
            return
        session = host(self).session
        if self._release is None:
            name, version = fields.pop("name"), fields.pop("version")
            session.write(self, Change(Write.ADD), lambda service: service.add_release(name, version, **fields))
        elif not fields:
            self.dismiss(None)
            return
        else:
            release = self._release
            session.write(
                self,
                Change(Write.EDIT, release.id),
                lambda service: service.edit_release(release.id, rev=release.rev, **fields),
            )
        self._focus_before = self.focused
        ok.disabled = True
        self.query_one("#error", Static).update("saving…")

    def on_session_done(self, message: Session.Done[object]) -> None:
        if isinstance(message.result, Release):
            self.dismiss(Saved(message.result, message.snapshot))

    def _refused(self, error: Exception) -> None:
        if isinstance(error, StaleWrite) and self._release is not None:
            self._fresh = error.fresh
        super()._refused(error)

    def not_saved(self, text: Text) -> None:
        """Say why, and leave the operator where they were, with what they typed."""
        ok = self.query_one("#ok", Button)
        ok.disabled = False
        reload = self.query_one("#reload", Button)
        reload.display = self._fresh is not None
        if self._fresh is not None:
            text = Text.assemble(text, "\nReload and re-apply: your edits on top of the release as it is now.")
        self.query_one("#error", Static).update(text)
        before = self._focus_before
        if isinstance(before, Button) or before is None:
            (reload if self._fresh is not None else ok).focus()  # never Cancel: enter there loses the typing
        elif before.is_attached:
            before.focus()

    @on(Button.Pressed, "#reload")
    def _reload(self) -> None:
        """Take the fresh release, keep every field the operator changed, and show the rest as they are now."""
        fresh, old = self._fresh, self._release
        if fresh is None or old is None:
            return
        typed = {field: self.query_one(f"#{field}", Input).value for field in self.FIELDS}
        risk = self.query_one("#risk", Select)
        risk_changed = str(risk.value) != str(old.risk)
        before = self._initial
        self._release, self._fresh = fresh, None
        self._initial = self._fields_of(fresh)
        with self.prevent(Input.Changed):
            for field in self.FIELDS:
                mine = typed[field] != before[field]
                self.query_one(f"#{field}", Input).value = typed[field] if mine else self._initial[field]
            if not risk_changed:
                risk.value = str(fresh.risk)
        self.query_one("#title", Label).update(_literal(f"Edit {fresh.label} (rev {fresh.rev})"))
        self.query_one("#reload", Button).display = False
        self._revalidate(quiet=True)
        self.query_one("#error", Static).update(
            _literal(f"re-applied your edits on revision {fresh.rev}: check them and save")
        )
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


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
            "preview_window",
            lambda service: service.preview_window(release_id, choice.environment, choice.start, choice.end),
            context=choice,
        )

    def on_session_done(self, message: Session.Done[object]) -> None:
        call, result = message.call, message.result
        if (
            call.name == "preview_window"
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


class HelpScreen(Dialog[None]):
    """Every key of the screen it was opened from, by group, from that screen's key table.

    On a wide terminal the groups stand in two columns, so the whole list fits without scrolling.
    """

    BINDINGS = [Binding("escape,question_mark,q", "dismiss_none", "Close")]
    TWO_COLUMNS = 110  # terminal width from which the groups are laid out side by side

    def __init__(self, title: str, rows: Sequence[tuple[str, str, str]], read_only: bool = False) -> None:
        super().__init__()
        self._title = title
        self.rows = list(rows)
        self._read_only = read_only

    @staticmethod
    def _table(rows: Sequence[tuple[str, str, str]]) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        group = None
        for heading, keys, description in rows:
            if heading != group:
                if group is not None:
                    table.add_row("", "")
                table.add_row(Text(heading, style="bold underline"), "")
                group = heading
            table.add_row(Text(keys), Text(description))
        return table

    def compose(self) -> ComposeResult:
        rows = self.rows
        halves = [rows]
        if self.app.size.width >= self.TWO_COLUMNS and len(rows) > 12:
            # split near the middle: between groups if one ends close to it
            middle = (len(rows) + 1) // 2
            starts = [i for i, row in enumerate(rows) if i > 0 and row[0] != rows[i - 1][0]]
            near = [i for i in starts if abs(i - middle) <= 3]
            cut = min(near, key=lambda i: abs(i - middle)) if near else middle
            halves = [rows[:cut], rows[cut:]]
        with Vertical(classes=f"dialog help{' wide' if len(halves) == 2 else ''}"):
            yield Label(self._title, classes="dialog-title")
            if self._read_only:
                yield Static("Read-only board: the keys that change things are off.", classes="dialog-body")
            with VerticalScroll(), Horizontal(classes="help-columns"):
                for half in halves:
                    yield Static(self._table(half), classes="help-column")
            yield Label("esc closes · ctrl+p lists every action", classes="dialog-hint")


class ErrorDialog(Dialog[None]):
    """An unexpected error: what it was, that the board goes on, and where the details are."""

    BINDINGS = [Binding("escape,enter", "dismiss_none", "Close")]

    def __init__(self, error: BaseException, log: str) -> None:
        super().__init__()
        self._error = error
        self._log = log
        self._more = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error"):
            yield Label("Something went wrong", classes="dialog-title")
            yield Static(_literal(f"{type(self._error).__name__}: {self._error}"), classes="dialog-body")
            yield Static(
                _literal(f"The board goes on. The details, with the traceback, are in\n{self._log}"),
                classes="dialog-body",
            )
            yield Static("", id="more", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="OK", variant="primary", id="ok")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def another(self, error: BaseException) -> None:
        """A further error while this one is shown: counted, not stacked."""
        self._more += 1
        self.query_one("#more", Static).update(f"and {self._more} more since (in the log too)")

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(None)
