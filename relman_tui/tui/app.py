"""The Textual app: it hosts the screens (see host.Host), holds the state they share, and never shows a traceback."""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import Notification, SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import WorkerFailed

from relman_tui.actions import Action
from relman_tui.model import Event
from relman_tui.service import Service, Snapshot
from relman_tui.settings import Settings
from relman_tui.text import inert
from relman_tui.tui import errorlog
from relman_tui.tui.host import Host
from relman_tui.tui.screens.base import KeyedScreen
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.session import Session
from relman_tui.tui.textual_private import Guarded, UnhandledErrors, notifications, replace_notification
from relman_tui.wording import sentence

if TYPE_CHECKING:
    from textual.command import Provider

CHANGED_ELSEWHERE = "Changed elsewhere"
CHANGES_SHOWN = 3  # sentences in one toast; the rest are counted
ERRORS_BEFORE_GIVING_UP = 20  # unexpected errors in one run before the board stops (a loop of them)


def _board_commands() -> type[Provider]:
    # imported when the palette first opens: textual.command is not needed to draw the board
    from relman_tui.tui.commands import BoardCommands

    return BoardCommands


REOPEN = "reopen"


class RelmanApp(UnhandledErrors, Guarded, App[str | None]):
    """relman's board and scheduler on one database."""

    CSS_PATH = "relman.tcss"
    TITLE = "relman"
    COMMANDS = App.COMMANDS | {_board_commands}
    # ctrl+c quits, as a person at a terminal expects, even from inside a text field
    BINDINGS = [Binding("ctrl+c,ctrl+q", "quit", "Quit", show=False, priority=True)]

    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True)
    utc: reactive[bool] = reactive(False)
    release_id: reactive[int | None] = reactive(None)
    minute: reactive[datetime] = reactive(datetime(2000, 1, 1))
    next_tick_in: float = 0.0
    alerts: reactive[tuple[str, ...]] = reactive(())

    def __init__(
        self,
        service: Service,
        settings: Settings,
        tz: str,
        *,
        read_only: bool = False,
        poll_interval: float | None = None,
        first_snapshot: Snapshot | None = None,
        identity: str | None = None,
        error_log: Path | None = None,
        ascii_only: bool = False,
    ) -> None:
        if ascii_only:
            from relman_tui.tui.asciidriver import AsciiDriver

            super().__init__(driver_class=AsciiDriver)
        else:
            super().__init__()
        self.ascii_only = ascii_only
        self._first_snapshot = first_snapshot
        self.service = service
        self.settings = settings
        self.local_tz = tz
        service.zone = tz  # the service words its messages (a gate's "frozen until …") in this zone
        self._read_only = read_only
        self.theme = settings.theme
        self._session = Session(
            self,
            service,
            read_only=read_only,
            poll_interval=poll_interval if poll_interval is not None else settings.poll_interval,
            last_seq=first_snapshot.last_seq if first_snapshot is not None and first_snapshot.checked else None,
        )
        self._identity = identity or f"{service.actor}@{socket.gethostname()}"
        self.error_log = error_log or errorlog.default_path()
        self.snapshots_applied = 0
        self.unexpected: list[BaseException] = []  # every unexpected error of this run (tests look)
        self._alerts: dict[str, str] = {}
        self._told: list[str] = []  # the sentences in the "Changed elsewhere" toast on screen
        self._told_toast: Notification | None = None

    # -- Host ------------------------------------------------------------------------------------

    @property
    def tz(self) -> str:
        return "UTC" if self.utc else self.local_tz

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def session(self) -> Session:
        return self._session

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def board_name(self) -> str:
        return self.service.store.path.name

    def now(self) -> datetime:
        return self.service.clock.now()

    def reopen(self) -> None:
        self._session.stop()
        self.exit(result=REOPEN)

    def toggle_utc(self) -> None:
        self.utc = not self.utc
        self.service.zone = self.tz
        self.notify(f"times in {self.tz}", timeout=2)

    # -- start, stop -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self._first_snapshot is not None:
            self.snapshot = self._first_snapshot  # the board's first frame is already the board
        self.minute = self.now()
        self.push_screen(BoardScreen())
        self._session.start()
        self._next_minute()

    def on_unmount(self) -> None:
        self._session.stop()

    async def action_quit(self) -> None:
        from relman_tui.tui.screens.dialogs import ConfirmDialog, Dialog

        screen = self.screen
        if isinstance(screen, Dialog) and screen.unsaved():
            # ctrl+c from a form with typing in it asks first (and a second ctrl+c quits)
            self.push_screen(
                ConfirmDialog("Quit relman?", "What you typed in this dialog is not saved.", "Quit"),
                lambda yes: self._quit_now() if yes else None,
            )
            return
        self._quit_now()

    def _quit_now(self) -> None:
        self._session.stop()
        self.exit()

    def _next_minute(self) -> None:
        """Tick on the clock's minute boundary, so the top bar's clock never lags."""
        self.next_tick_in = to_next_minute(self.now())  # seconds, as asked of the timer (tests read it)
        self.set_timer(self.next_tick_in, self._tick, name="minute")

    def _tick(self) -> None:
        self.minute = self.now()
        self._next_minute()

    # -- live changes ----------------------------------------------------------------------------

    def on_session_alert(self, message: Session.Alert) -> None:
        if message.text:
            self._alerts[message.kind] = message.text
        else:
            self._alerts.pop(message.kind, None)
        self.alerts = tuple(self._alerts[k] for k in sorted(self._alerts))

    def on_session_changed(self, message: Session.Changed) -> None:
        snapshot = message.snapshot
        current = self.snapshot
        if current is not None and snapshot.last_seq < current.last_seq:
            return  # read before a change we have already drawn
        self.snapshot = snapshot
        self.snapshots_applied += 1
        failed = [e for e in message.events if e.action == Action.HOOK_FAILED]
        theirs = [
            e for e in message.events if e.seq not in self.service.written_seqs and e.action != Action.HOOK_FAILED
        ]
        if not (failed or theirs):
            return
        labels = {r.id: r.label for r in snapshot.releases}

        def said(event: Event) -> str:
            return sentence(event, labels.get(event.release) if event.release is not None else None, self.tz)

        if theirs:
            self._tell([said(e) for e in theirs])
        for event in failed:  # a failed hook is news for everyone watching, whoever ran it
            self.notify(said(event), title="Hook failed", severity="error", timeout=15)

    def _tell(self, told: list[str]) -> None:
        """One toast for changes made elsewhere, however many: a new batch joins the one on screen."""
        if self._told_toast is not None and self._told_toast in notifications(self):
            told = self._told + told
        self._told = told
        if len(told) == 1:
            text = told[0]
        else:
            shown = ", ".join(told[:CHANGES_SHOWN])
            more = f", and {len(told) - CHANGES_SHOWN} more" if len(told) > CHANGES_SHOWN else ""
            text = f"{len(told)} changes: {shown}{more}"
        toast = Notification(inert(text), CHANGED_ELSEWHERE, "information", 6, markup=False)
        replace_notification(self, self._told_toast, toast)
        self._told_toast = toast

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: names in it are data, never markup (links, styles)."""
        super().notify(inert(message), title=inert(title), severity=severity, timeout=timeout, markup=False)

    # -- the screens -----------------------------------------------------------------------------

    def show_scheduler(self) -> None:
        if not self.is_screen_installed("scheduler"):
            from relman_tui.tui.screens.scheduler import SchedulerScreen  # made on first use

            self.install_screen(SchedulerScreen(), "scheduler")
        self.push_screen("scheduler")

    def show_board(self) -> None:
        for name in ("scheduler", "insights"):
            if self.is_screen_installed(name) and self.screen is self.get_screen(name):
                self.pop_screen()

    def show_insights(self) -> None:
        if not self.is_screen_installed("insights"):
            from relman_tui.tui.screens.insights import InsightsScreen  # made on first use

            self.install_screen(InsightsScreen(), "insights")
        self.push_screen("insights")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "command_palette":
            # the palette is one of the screen's keys: it follows the screen's guards
            screen = self.screen
            return screen.check_action("palette", ()) if isinstance(screen, KeyedScreen) else True
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """None of Textual's own: every command comes from the screen's key table (keys shown); the
        theme is a user setting (`relman config`), not something to switch by accident on a shared board."""
        return ()

    # -- keys typed before a dialog opened do not land in it --------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            opened = getattr(self.screen, "opened_at", None)
            if opened is not None and event.time < opened:
                return  # typed ahead, for the screen below: a dialog never acts on it
        await super().on_event(event)

    # -- no traceback, ever -------------------------------------------------------------------------

    def unhandled_error(self, error: Exception) -> None:
        """Textual ends the app on an unhandled exception; relman logs it, says so, and goes on."""
        cause: BaseException = error.error if isinstance(error, WorkerFailed) else error
        self.unexpected.append(cause)
        where = "a worker" if isinstance(error, WorkerFailed) else "the board"
        logged = errorlog.write(self.error_log, cause, self.now(), where)
        log = str(self.error_log) if logged else "nowhere (the log could not be written)"
        if len(self.unexpected) >= ERRORS_BEFORE_GIVING_UP or not self.is_running or not self.screen_stack:
            self.exit(
                return_code=1,
                message=inert(f"relman stopped after an unexpected error ({type(cause).__name__}); details in {log}"),
            )
            return
        self.call_later(self._show_error, cause, log)

    def _show_error(self, error: BaseException, log: str) -> None:
        from relman_tui.tui.screens.dialogs import ErrorDialog

        screen = self.screen
        if isinstance(screen, ErrorDialog):
            screen.another(error)
            return
        self.push_screen(ErrorDialog(error, log))


def as_host(app: RelmanApp) -> Host:
    """The app as its screens see it: mypy checks here that :class:`RelmanApp` is a :class:`Host`."""
    return app


def to_next_minute(now: datetime) -> float:
    """Seconds from ``now`` to just past the next minute boundary (never less than half a second)."""
    return max(0.5, 60 - now.second - now.microsecond / 1e6 + 0.05)


def run_app(
    service: Service, settings: Settings, tz: str, *, read_only: bool, mouse: bool, ascii_only: bool = False
) -> bool:
    """Run the board until the operator quits; True when they asked to open the database again.

    Only ASCII is drawn with ``ascii_only`` or when the terminal's locale is not UTF-8."""
    from relman_tui.tui.glyphs import terminal_wants_ascii

    # Read the board before the event loop starts (nothing to block yet), so the first frame
    # drawn is the board itself rather than empty columns followed by a second full layout.
    # The collector is kept out of it: a board of 10,000 releases is some 60,000 objects with
    # no cycles, that live until the next snapshot replaces them (and refcounting frees them).
    gc.disable()
    try:
        first = service.snapshot(conflicts=False)  # the marks follow from the poll thread at once
    finally:
        gc.enable()
    gc.freeze()
    ascii_only = ascii_only or terminal_wants_ascii()
    app = RelmanApp(
        service,
        settings,
        tz,
        read_only=read_only,
        first_snapshot=first,
        identity=identity_line(service),
        ascii_only=ascii_only,
    )
    result = app.run(mouse=mouse)
    return result == REOPEN


def identity_line(service: Service) -> str:
    """Who you are in the top bar (``alice@host``), and under ``$RELMAN_NOW`` what that does to writes."""
    identity = f"{service.actor}@{socket.gethostname()}"
    if getattr(service.clock, "from_environment", False):
        identity += " · FIXED CLOCK" if service.fixed_clock() else " · $RELMAN_NOW: writes refused"
    return identity
