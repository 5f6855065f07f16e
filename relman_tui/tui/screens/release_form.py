"""The form that creates or edits a release."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from relman_tui.errors import BadInput, StaleWrite
from relman_tui.limits import clean_name, clean_text
from relman_tui.model import Release, Risk
from relman_tui.text import inert
from relman_tui.tui.host import host
from relman_tui.tui.screens.dialog_base import Saved, SavingDialog, _literal
from relman_tui.tui.session import Session
from relman_tui.undo import Change, Write


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

    def _field(self, label: str, field: str, check: Callable[[str], object], placeholder: str = "") -> ComposeResult:
        """A labelled text field holding its value as shown, checked as the operator types (a field of an
        edit left as it was is not sent, so not checked either)."""

        def run(value: str) -> object:
            if self._release is not None and value == self._initial[field]:
                return None  # unchanged: not sent, nothing to check
            return check(_typed(value, multiline=field == "notes"))

        yield Label(label)
        yield Input(
            compact=True, value=self._initial[field], placeholder=placeholder, id=field, validators=[_Checked(run)]
        )

    def compose(self) -> ComposeResult:
        r = self._release
        with Vertical(classes="dialog form"):
            yield Label(_literal(f"Edit {r.label}") if r else "New release", classes="dialog-title", id="title")
            yield from self._field("Name", "name", lambda v: clean_name(v, "name"), "payments-api")
            yield from self._field("Version", "version", lambda v: clean_name(v, "version", 60), "2.4.1")
            yield from self._field("Components (comma-separated; empty: the name)", "components", _components)
            yield from self._field("Owner", "owner", lambda v: clean_name(v, "owner"))
            yield Label("Risk")
            yield Select(
                [(str(k), str(k)) for k in Risk],
                value=str(r.risk) if r else "low",
                allow_blank=False,
                id="risk",
                compact=True,
            )
            yield from self._field("Notes (\\n for a new line)", "notes", lambda v: clean_text(v, "notes"))
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
