"""Release detail: every field, the windows per environment, and the audit history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from relman_tui.model import Event, Release
from relman_tui.service import Service
from relman_tui.text import inert
from relman_tui.timeutil import format_duration, format_local
from relman_tui.wording import actor_text, what_happened

if TYPE_CHECKING:
    from relman_tui.tui.app import RelmanApp


def _t(value: object) -> Text:
    return Text(inert(str(value)))


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,backspace", "app.pop_screen", "Back"),
        Binding("u", "app.toggle_utc", "UTC"),
    ]

    def __init__(self, release_id: int) -> None:
        super().__init__()
        self.release_id = release_id

    @property
    def relman(self) -> RelmanApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static("loading…", id="fields")
            yield Static("", id="windows")
            yield Static("", id="history")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", lambda _: self._load())
        self.watch(self.app, "utc", lambda _: self._load())

    def _load(self) -> None:
        def read(service: Service) -> tuple[Release, list[Event], dict[str, int]]:
            order = {e.name: e.position for e in service.environments()}
            return service.release(self.release_id), service.events(self.release_id), order

        self.relman.call_service(read, done=lambda result: self._show(*result))

    def _show(self, release: Release, history: list[Event], order: dict[str, int]) -> None:
        tz = self.relman.tz
        fields = Table.grid(padding=(0, 2))
        fields.add_column(style="bold", no_wrap=True)
        fields.add_column()
        approved = (
            Text(inert(f"by {release.approved_by} at {format_local(release.approved_at, tz)}"))
            if release.approved_by and release.approved_at else Text("no")
        )
        for key, value in [
            ("Release", _t(release.label)), ("Id", _t(release.id)), ("Stage", _t(release.stage)),
            ("State", _t(release.state)), ("Risk", _t(release.risk)), ("Owner", _t(release.owner)),
            ("Components", _t(", ".join(release.components))), ("Approved", approved),
            ("Created", _t(format_local(release.created_at, tz))),
            ("Updated", _t(format_local(release.updated_at, tz))),
            ("Revision", _t(release.rev)),
            ("Notes", Text("\n".join(inert(line) for line in release.notes.splitlines()) or "—")),
        ]:
            fields.add_row(key, value)
        self.query_one("#fields", Static).update(fields)

        windows = Table(title="Windows", title_justify="left", expand=True, show_edge=False)
        for column in ("Environment", "Start", "End", "Length"):
            windows.add_column(column, no_wrap=True)
        for w in sorted(release.windows, key=lambda w: order.get(w.environment, 0)):
            windows.add_row(_t(w.environment), format_local(w.start, tz), format_local(w.end, tz),
                            format_duration(w.end - w.start))
        if not release.windows:
            windows.add_row("—", "", "", "")
        self.query_one("#windows", Static).update(windows)

        log = Table(title="History", title_justify="left", expand=True, show_edge=False)
        for column in ("When", "Who", "What"):
            log.add_column(column, no_wrap=column != "What")
        for e in history:
            what = what_happened(e, tz)
            log.add_row(format_local(e.at, tz), _t(actor_text(e)), _t(what))
        self.query_one("#history", Static).update(log)
        self.sub_title = inert(release.label)
