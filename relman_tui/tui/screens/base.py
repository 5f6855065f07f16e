"""What every full screen shares: its key table and the guards derived from it, and the session's answers."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from relman_tui.errors import RelmanError, StaleWrite
from relman_tui.text import inert
from relman_tui.tui.host import Host, host
from relman_tui.tui.keys import Key, KeyTable
from relman_tui.tui.session import READ_ONLY, Session
from relman_tui.tui.textual_private import Guarded
from relman_tui.tui.widgets.keybar import KeyBar
from relman_tui.wording import localize

MIN_WIDTH, MIN_HEIGHT = 80, 22  # an 80×24 terminal inside tmux or screen, less their status line


class KeyedScreen(Guarded, Screen[None]):
    """A screen whose keys all come from ``KEYS``: bindings, footer, help, palette, read-only and too-small.

    Subclasses set ``KEYS`` and ``BINDINGS = KEYS.bindings()``, and may refine :meth:`allows`
    for keys that act only in some states.
    """

    KEYS: ClassVar[KeyTable]
    AUTO_FOCUS = ""  # the keys are the screen's; a field takes them only when asked (`/`)

    @property
    def host(self) -> Host:
        return host(self)

    @property
    def too_small(self) -> bool:
        return self.has_class("-too-small")

    def compose_guard(self) -> ComposeResult:
        """The notice shown instead of the screen below the minimum size, and the footer."""
        yield Static(f"terminal too small — needs {MIN_WIDTH}×{MIN_HEIGHT} · q quits", id="too-small")
        yield KeyBar(self.KEYS, self.acts)

    def on_resize(self) -> None:
        small = self.size.width < MIN_WIDTH or self.size.height < MIN_HEIGHT
        if small != self.too_small:
            self.set_class(small, "-too-small")
            self.refresh_bindings()

    # -- which keys act ----------------------------------------------------------------------------

    def acts(self, key: Key) -> bool:
        """Does this key act now (the footer shows it, the palette lists it)?"""
        return bool(self.check_action(key.name, key.parameters))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        key = self.KEYS.find(action)
        if key is None:
            return True  # not one of this screen's keys (a widget's own, such as an input's)
        if self.too_small and not key.small:
            return False
        if key.writes and self.host.read_only:
            return False
        return self.allows(key, parameters)

    def allows(self, key: Key, parameters: tuple[object, ...]) -> bool:
        """Refine in a screen for keys that act only in some states."""
        return True

    def refused_read_only(self) -> bool:
        """On a read-only board, say so and answer True: for a change no key table can hide (a drag)."""
        if not self.host.read_only:
            return False
        self.notify(READ_ONLY, severity="warning")
        return True

    # -- the keys every screen has ---------------------------------------------------------------

    def action_quit(self) -> None:
        self.app.exit()

    def action_help(self) -> None:
        from relman_tui.tui.screens.dialogs import HelpScreen

        read_only = self.host.read_only
        rows = self.KEYS.help_rows(read_only)
        self.app.push_screen(HelpScreen(self.help_title, rows, read_only))

    @property
    def help_title(self) -> str:
        return "Keys"

    def action_palette(self) -> None:
        self.app.action_command_palette()

    def action_toggle_utc(self) -> None:
        self.host.toggle_utc()

    def action_reopen(self) -> None:
        self.host.reopen()

    def action_undo(self) -> None:
        problem = self.host.session.undo(self)
        if problem:
            self.notify(problem, timeout=4)

    # -- the session's answers, when the screen has nothing better to say ------------------------
    # (Textual calls these after a subclass's own handler, unless it called prevent_default.)

    def on_session_done(self, message: Session.Done[object]) -> None:
        call = message.call
        if call.undoing is not None:
            self.notify(f"undone: {call.context}", timeout=5)
        self.refresh_bindings()  # undo may now act, or no longer

    def on_session_refused(self, message: Session.Refused) -> None:
        self.report(message.error)

    def on_session_failed(self, message: Session.Failed) -> None:
        self.report(message.error)

    def report(self, error: Exception) -> None:
        """A refusal or bad input as a toast, times in the operator's zone. (An unexpected error
        has its own dialog, from the app.)"""
        if not isinstance(error, RelmanError):
            return
        text = inert(localize(str(error), self.host.tz))
        if isinstance(error, StaleWrite):
            self.notify(text, title="Changed by someone else", severity="warning", timeout=8)
        elif error.exit_code == 1:
            self.notify(text, title="Refused", severity="warning", timeout=8)
        else:
            self.notify(text, title="Cannot do that", severity="error", timeout=8)
