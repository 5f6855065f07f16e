"""Release detail: every field, the windows per environment, and the audit history."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from relman_tui.done import is_done
from relman_tui.model import Event, Release
from relman_tui.text import inert
from relman_tui.timeutil import format_duration, format_local
from relman_tui.tui.keys import COMMON, Key, KeyTable
from relman_tui.tui.screens.base import KeyedScreen
from relman_tui.tui.session import Call, Read, Session
from relman_tui.wording import actor_text, what_happened

KEYS = KeyTable(
    Key(
        "escape,backspace",
        "back",
        "esc",
        "back to where you were",
        label="Back",
        rank=2,
        palette="Back",
        group="Detail",
    ),
    Key("up,k", "scroll(-1)", "↑ ↓ k j pgup pgdn", "scroll", group="Detail"),
    Key("down,j", "scroll(1)", "↓", "", group="Detail"),
    Key("pageup", "scroll(-10)", "pgup", "", group="Detail"),
    Key("pagedown", "scroll(10)", "pgdn", "", group="Detail"),
    Key("home,g", "scroll_edge(-1)", "home end", "to the top, to the end", group="Detail"),
    Key("end,G", "scroll_edge(1)", "end", "", group="Detail"),
    Key(
        "u",
        "toggle_utc",
        "u",
        "times in UTC / in your zone",
        label="UTC",
        rank=3,
        palette="Show times in UTC / your zone",
        group="Detail",
    ),
) + COMMON.only("palette", "help", "quit")


def _t(value: object) -> Text:
    return Text(inert(str(value)))


class DetailScreen(KeyedScreen):
    """One release: every field, its windows per environment, and its audit history."""

    KEYS = KEYS
    BINDINGS = KEYS.bindings()

    def __init__(self, release_id: int) -> None:
        super().__init__()
        self.release_id = release_id
        self._release: Release | None = None
        self._history: list[Event] | None = None
        self._asked_release: Call[Release] | None = None
        self._asked_events: Call[list[Event]] | None = None
        self.shown = False  # the release and its history are on screen

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail", can_focus=False):
            yield Static("loading…", id="fields")
            yield Static("", id="windows")
            yield Static("", id="history")
        yield from self.compose_guard()

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", lambda _: self._load())
        self.watch(self.app, "utc", lambda _: self._redraw(), init=False)

    def action_back(self) -> None:
        self.dismiss()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#detail", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_scroll_edge(self, direction: int) -> None:
        view = self.query_one("#detail", VerticalScroll)
        if direction < 0:
            view.scroll_home(animate=False)
        else:
            view.scroll_end(animate=False)

    def _load(self) -> None:
        session = self.host.session
        release_id = self.release_id
        self._asked_release = session.read(self, Read.RELEASE, lambda service: service.release(release_id))
        self._asked_events = session.read(self, Read.EVENTS, lambda service: service.events(release_id))

    def on_session_done(self, message: Session.Done[object]) -> None:
        if (release := message.answers(self._asked_release)) is not None:
            self._release = release
        elif (history := message.answers(self._asked_events)) is not None:
            self._history = history
        self._redraw()

    def _redraw(self) -> None:
        if self._release is not None and self._history is not None:
            snapshot = self.host.snapshot
            order = {e.name: e.position for e in snapshot.environments} if snapshot else {}
            self._show(self._release, self._history, order)

    def _show(self, release: Release, history: list[Event], order: dict[str, int]) -> None:
        tz = self.host.tz
        fields = Table.grid(padding=(0, 2))
        fields.add_column(style="bold", no_wrap=True)
        fields.add_column()
        approved = (
            Text(inert(f"by {release.approved_by} at {format_local(release.approved_at, tz)}"))
            if release.approved_by and release.approved_at
            else Text("⚑ NO — forced in without approval (break-glass); needs an approval", style="bold red")
            if release.unapproved
            else Text("no")
        )
        for key, value in [
            ("Release", _t(release.label)),
            ("Id", _t(release.id)),
            ("Stage", _t(release.stage)),
            ("State", _t(release.state)),
            ("Risk", _t(release.risk)),
            ("Owner", _t(release.owner)),
            ("Components", _t(", ".join(release.components))),
            ("Approved", approved),
            ("Created", _t(f"{format_local(release.created_at, tz)} by {release.created_by}")),
            ("Updated", _t(format_local(release.updated_at, tz))),
            ("Revision", _t(release.rev)),
            ("Notes", Text("\n".join(inert(line) for line in release.notes.splitlines()) or "—")),
        ]:
            fields.add_row(key, value)
        self.query_one("#fields", Static).update(fields)

        windows = Table(title="Windows", title_justify="left", expand=True, show_edge=False)
        for column in ("Environment", "Start", "End", "Length"):
            windows.add_column(column, no_wrap=True)
        windows.add_column("", no_wrap=True, min_width=4)
        now = self.host.now()
        for w in sorted(release.windows, key=lambda w: order.get(w.environment, 0)):
            done = is_done(release, w, order, now)  # history: drawn dimmed, counted in no conflict
            windows.add_row(
                _t(w.environment),
                format_local(w.start, tz),
                format_local(w.end, tz),
                format_duration(w.end - w.start),
                "done" if done else "",
                style="dim" if done else None,
            )
        if not release.windows:
            windows.add_row("—", "", "", "", "")
        self.query_one("#windows", Static).update(windows)

        log = Table(title="History", title_justify="left", expand=True, show_edge=False)
        for column in ("When", "Who", "What"):
            log.add_column(column, no_wrap=column != "What")
        for e in history:
            what = what_happened(e, tz)
            log.add_row(format_local(e.at, tz), _t(actor_text(e)), _t(what))
        self.query_one("#history", Static).update(log)
        self.sub_title = inert(release.label)
        self.shown = True
