"""The base of every modal dialog, and of the forms that save through the session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input

from relman_tui.errors import RelmanError
from relman_tui.model import Release
from relman_tui.service import Snapshot
from relman_tui.text import inert
from relman_tui.tui.host import host
from relman_tui.tui.session import Session
from relman_tui.tui.textual_private import Guarded
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
