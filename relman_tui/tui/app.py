"""The Textual app: wiring of screens and keys, the poll worker, and service calls off the event loop."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.worker import get_current_worker

from relman_tui.errors import GateRefused, RelmanError, StaleWrite
from relman_tui.model import Event
from relman_tui.service import ConflictDiff, Service, Snapshot
from relman_tui.settings import Settings
from relman_tui.store import Store
from relman_tui.text import inert
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.wording import sentence

if TYPE_CHECKING:
    from textual.command import Provider

    from relman_tui.tui.screens.scheduler import SchedulerScreen

R = TypeVar("R")

def _board_commands() -> type[Provider]:
    # imported when the palette first opens: textual.command is not needed to draw the board
    from relman_tui.tui.commands import BoardCommands

    return BoardCommands


class RelmanApp(App[None]):
    """relman's board and scheduler on one database."""

    CSS_PATH = "relman.tcss"
    TITLE = "relman"
    COMMANDS = App.COMMANDS | {_board_commands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("u", "toggle_utc", "UTC", show=False),
        Binding("2", "show_scheduler", "Scheduler"),
        Binding("1", "show_board", "Board", show=False),
    ]

    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True)
    utc: reactive[bool] = reactive(False)

    def __init__(
        self, service: Service, settings: Settings, tz: str, *, read_only: bool = False,
        poll_interval: float | None = None, first_snapshot: Snapshot | None = None,
    ) -> None:
        super().__init__()
        self._first_snapshot = first_snapshot
        self.service = service
        self.settings = settings
        self.local_tz = tz
        self.read_only = read_only
        self.poll_interval = poll_interval if poll_interval is not None else settings.poll_interval
        self.theme = settings.theme
        self._service_lock = threading.Lock()
        self._wake = threading.Event()
        self.snapshots_applied = 0

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information",
        timeout: float | None = None, markup: bool = True,
    ) -> None:
        """Every notification is plain text: names in it are data, never markup (links, styles)."""
        super().notify(inert(message), title=inert(title), severity=severity, timeout=timeout, markup=False)

    @property
    def tz(self) -> str:
        return "UTC" if self.utc else self.local_tz

    def on_mount(self) -> None:
        if self._first_snapshot is not None:
            self.snapshot = self._first_snapshot  # the board's first frame is already the board
        self.push_screen(BoardScreen())
        self._poll()

    # -- live: the poll worker ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="poll", name="poll")
    def _poll(self) -> None:
        """Watch the file with a connection of its own; post a fresh snapshot when it changes."""
        worker = get_current_worker()
        store = Store.open(self.service.store.path, read_only=True)
        reader = Service(store, self.service.clock, self.service.actor)
        last_version: int | None = None
        last_seq: int | None = self._first_snapshot.last_seq if self._first_snapshot is not None else None
        try:
            while not worker.is_cancelled:
                version = store.data_version()
                woken = self._wake.is_set()
                self._wake.clear()
                if version != last_version or woken:
                    last_version = version
                    if not woken and last_seq is not None and store.last_seq() == last_seq:
                        # every change logs an event: no new event, nothing to draw (and a board
                        # of 10,000 releases is not read again for a checkpoint)
                        self._wake.wait(self.poll_interval)
                        continue
                    snapshot = reader.snapshot()
                    events = reader.changes_since(last_seq) if last_seq is not None else []
                    if last_seq is None or snapshot.last_seq != last_seq or woken:
                        self.call_from_thread(self._apply, snapshot, events)
                    last_seq = snapshot.last_seq
                self._wake.wait(self.poll_interval)
        except RelmanError as exc:
            self.call_from_thread(self.notify, inert(str(exc)), title="Live updates stopped", severity="error",
                                  timeout=30)
        finally:
            store.close()

    def refresh_now(self) -> None:
        """Ask the poll worker for a snapshot right away (after our own writes)."""
        self._wake.set()

    def _apply(self, snapshot: Snapshot, events: list[Event]) -> None:
        self.snapshot = snapshot
        self.snapshots_applied += 1
        theirs = [e for e in events if e.seq not in self.service.written_seqs]
        for event in theirs[:3]:
            self.notify(self.describe(event, snapshot), title="Changed elsewhere", timeout=6)
        if len(theirs) > 3:
            self.notify(f"and {len(theirs) - 3} more changes", title="Changed elsewhere", timeout=6)

    @staticmethod
    def describe(event: Event, snapshot: Snapshot) -> str:
        labels = {r.id: r.label for r in snapshot.releases}
        return sentence(event, labels.get(event.release) if event.release is not None else None)

    # -- service calls off the event loop ----------------------------------------------------

    def call_service(
        self,
        call: Callable[[Service], R],
        *,
        success: Callable[[R], str | None] | None = None,
        done: Callable[[R], None] | None = None,
        refused: Callable[[GateRefused], None] | None = None,
        failed: Callable[[RelmanError], None] | None = None,
    ) -> None:
        """Run ``call`` in a thread worker; report the outcome on the event loop.

        ``failed`` (if given) is called after any refusal or error has been reported.
        """
        if self.read_only and success is not None:
            self.notify("read-only: nothing can be changed here", severity="warning")
            if failed is not None:
                failed(RelmanError("read-only"))
            return
        self._service_worker(call, success, done, refused, failed)

    @work(thread=True, group="service")
    def _service_worker(
        self,
        call: Callable[[Service], Any],
        success: Callable[[Any], str | None] | None,
        done: Callable[[Any], None] | None,
        refused: Callable[[GateRefused], None] | None,
        failed: Callable[[RelmanError], None] | None = None,
    ) -> None:
        with self._service_lock:
            try:
                result = call(self.service)
            except GateRefused as exc:
                self.call_from_thread(refused or self._report, exc)
                if failed is not None:
                    self.call_from_thread(failed, exc)
                return
            except StaleWrite as exc:
                self.call_from_thread(self._report, exc)
                self.refresh_now()
                if failed is not None:
                    self.call_from_thread(failed, exc)
                return
            except RelmanError as exc:
                self.call_from_thread(self._report, exc)
                if failed is not None:
                    self.call_from_thread(failed, exc)
                return
        if success is not None:
            self.refresh_now()
            message = success(result)
            if message:
                self.call_from_thread(self.notify, inert(message), timeout=4)
        if done is not None:
            self.call_from_thread(done, result)

    def preview_window(self, release_id: int, environment: str, start: datetime, end: datetime) -> ConflictDiff:
        """What a window would create and resolve; for dialogs' own worker threads (takes the service lock)."""
        with self._service_lock:
            return self.service.preview_window(release_id, environment, start, end)

    def _report(self, exc: RelmanError) -> None:
        title = "Changed by someone else" if isinstance(exc, StaleWrite) else (
            "Refused" if exc.exit_code == 1 else "Cannot do that")
        self.notify(inert(str(exc)), title=title, severity="error" if exc.exit_code == 2 else "warning",
                    timeout=8)

    # -- keys --------------------------------------------------------------------------------

    def action_toggle_utc(self) -> None:
        self.utc = not self.utc
        self.notify(f"times in {self.tz}", timeout=2)

    def action_help(self) -> None:
        screen = self.screen
        scheduler = self._scheduler()
        if isinstance(screen, BoardScreen):
            screen.action_help()
        elif scheduler is not None and screen is scheduler:
            scheduler.action_help()

    # -- the scheduler: `2` opens it, `1` returns; the selected release goes along ----------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_scheduler":
            return isinstance(self.screen, BoardScreen)
        if action == "show_board":
            return self.screen is self._scheduler()
        return True

    def _scheduler(self) -> SchedulerScreen | None:
        """The scheduler screen once it has been opened (it is imported and made on first use)."""
        return self.get_screen("scheduler") if self.is_screen_installed("scheduler") else None  # type: ignore[return-value]

    def action_show_scheduler(self) -> None:
        board = self.screen
        if not isinstance(board, BoardScreen):
            return
        scheduler = self._scheduler()
        if scheduler is None:
            from relman_tui.tui.screens.scheduler import SchedulerScreen

            scheduler = SchedulerScreen()
            self.install_screen(scheduler, "scheduler")
        scheduler.select_release(board.selected_id)
        self.push_screen(scheduler)

    def action_show_board(self) -> None:
        scheduler = self._scheduler()
        if scheduler is None or self.screen is not scheduler:
            return
        release_id = scheduler.selected_release_id
        self.pop_screen()
        board = self.screen
        if isinstance(board, BoardScreen) and release_id is not None:
            board.jump_to(release_id)


def run_app(service: Service, settings: Settings, tz: str, *, read_only: bool, mouse: bool) -> None:
    # Read the board before the event loop starts (nothing to block yet), so the first frame
    # drawn is the board itself rather than empty columns followed by a second full layout.
    # The collector is kept out of it: a board of 10,000 releases is some 60,000 objects with
    # no cycles, that live until the next snapshot replaces them (and refcounting frees them).
    gc.disable()
    try:
        first = service.snapshot()
    finally:
        gc.enable()
    gc.freeze()
    RelmanApp(service, settings, tz, read_only=read_only, first_snapshot=first).run(mouse=mouse)
