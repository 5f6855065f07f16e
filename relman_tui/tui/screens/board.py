"""The board: one column per stage, one card per release; move releases by key or by drag."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from relman_tui.errors import GateRefused
from relman_tui.model import PLANNED, Release
from relman_tui.service import Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import format_local
from relman_tui.tui.viewmodel import Cards, Column, build_columns
from relman_tui.tui.widgets.cardlist import CardList
from relman_tui.tui.widgets.column import ColumnHeader, StageColumn
from relman_tui.tui.widgets.topbar import TopBar

if TYPE_CHECKING:
    from relman_tui.tui.app import RelmanApp
    from relman_tui.tui.screens.dialogs import ReleaseFields, WindowChoice

MIN_WIDTH, MIN_HEIGHT = 80, 24
COLUMN_MIN_WIDTH = 20

# Actions that change the database; hidden and refused on a read-only board.
WRITE_ACTIONS = frozenset(
    {"move_next", "move_prev", "move_to", "verify", "approve", "fail", "cancel_release", "new", "edit", "schedule"}
)


class BoardScreen(Screen[None]):
    """The main screen operators keep open all day."""

    BINDINGS = [
        Binding("left,h", "cursor(-1, 0)", "←", show=False),
        Binding("right,l", "cursor(1, 0)", "→", show=False),
        Binding("up,k", "cursor(0, -1)", "↑", show=False),
        Binding("down,j", "cursor(0, 1)", "↓", show=False),
        Binding("home", "cursor_end(-1)", "First card", show=False),
        Binding("end", "cursor_end(1)", "Last card", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("shift+right,greater_than_sign", "move_next", "Move →"),
        Binding("shift+left,less_than_sign", "move_prev", "Move ←"),
        Binding("m", "move_to", "Move to…", show=False),
        Binding("v", "verify", "Verify"),
        Binding("a", "approve", "Approve"),
        Binding("f", "fail", "Fail", show=False),
        Binding("x", "cancel_release", "Cancel", show=False),
        Binding("n", "new", "New"),
        Binding("e", "edit", "Edit", show=False),
        Binding("s", "schedule", "Schedule"),
        Binding("enter", "detail", "Detail", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[Column] = []
        self.stages: list[str] = []
        self.col = 0  # the column the cursor is in
        self.selected_id: int | None = None
        self.query_text = ""
        self._snapshot: Snapshot | None = None
        self._drop_target: StageColumn | None = None
        self._redraw_lock = asyncio.Lock()

    @property
    def relman(self) -> RelmanApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        top = TopBar()
        snapshot = self.relman.snapshot
        if snapshot is not None:
            # Already read (run_app reads it before the event loop starts): compose the board
            # with its words in it, so the first frame drawn is the whole board, laid out once.
            self._snapshot = snapshot
            app = self.relman
            now = app.service.clock.now()
            self.columns = build_columns(snapshot, app.tz, now)
            self.stages = _stages(snapshot)
            top.show(snapshot, app.tz, now, app.read_only, app.service.store.path.name)
        yield top
        with HorizontalScroll(id="board"):
            width = _column_width(self.app.size.width, max(1, len(self.columns)))
            for column in self.columns:
                stage_column = StageColumn(column.stage, column, self._visible(column))
                stage_column.styles.width = width
                yield stage_column
        with Horizontal(id="filter-bar"):
            yield Static("Filter:", id="filter-label")
            yield Input(placeholder="name, component or owner — esc clears", id="filter")
        yield Static("", id="drag-ghost")
        yield Static(f"terminal too small — needs {MIN_WIDTH}×{MIN_HEIGHT}", id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        filled = self._snapshot is not None  # composed with the board in it: only the cursor to place
        if filled:
            self._place_cursor()
        self.watch(self.app, "snapshot", self._on_snapshot, init=not filled)
        self.watch(self.app, "utc", self._redraw_on_change, init=False)
        # relative times ("in 3h") age with the clock: once a minute is enough
        self.set_interval(60, self._redraw, name="minute")

    async def _redraw_on_change(self, _: object) -> None:
        await self._redraw()

    def on_resize(self) -> None:
        self.set_class(self.size.width < MIN_WIDTH or self.size.height < MIN_HEIGHT, "-too-small")
        self._size_columns()

    def _size_columns(self) -> None:
        """Share the width between the columns; below the minimum, the board scrolls sideways."""
        columns = list(self.query(StageColumn))
        if columns:
            width = _column_width(self.size.width, len(columns))
            for column in columns:
                column.styles.width = width

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in WRITE_ACTIONS and self.relman.read_only)

    # -- from snapshot to columns --------------------------------------------------------------

    async def _on_snapshot(self, snapshot: Snapshot | None) -> None:
        if snapshot is None:
            return
        self._snapshot = snapshot
        await self._redraw()

    async def _redraw(self) -> None:
        # one at a time: a second redraw must not fill columns the first is still mounting
        async with self._redraw_lock:
            await self._redraw_now()

    async def _redraw_now(self) -> None:
        snapshot = self._snapshot
        if snapshot is None:
            return
        stages = _stages(snapshot)
        if stages != self.stages:
            self.stages = stages
            board = self.query_one("#board", HorizontalScroll)
            await board.remove_children()
            await board.mount_all(StageColumn(stage) for stage in stages)
            self._size_columns()
        self._show()

    def _show(self) -> None:
        snapshot = self._snapshot
        assert snapshot is not None
        app = self.relman
        now = app.service.clock.now()
        self.columns = build_columns(snapshot, app.tz, now)
        self._fill()
        self.query_one(TopBar).show(snapshot, app.tz, now, app.read_only, app.service.store.path.name)

    def _fill(self) -> None:
        for stage_column, column in zip(self.query(StageColumn), self.columns, strict=False):
            cards = self._visible(column)
            stage_column.show(column, len(cards))
            stage_column.cards.set_cards(cards)
        self._place_cursor()

    def _visible(self, column: Column) -> Cards:
        return column.cards.matching(self.query_text) if self.query_text else column.cards

    def _place_cursor(self, scroll: bool = True) -> None:
        """Keep the cursor on its release, wherever it went; else near where it was."""
        lists = list(self.query(CardList))
        if not lists:
            return
        if self.selected_id is not None:
            for col, cards in enumerate(lists):
                index = cards.index_of(self.selected_id)
                if index is not None:
                    self.col = col
                    self._set(col, index, scroll)
                    return
        self.col = min(self.col, len(lists) - 1)
        here = lists[self.col]
        index = here.cursor if here.cursor is not None else 0
        self._set(self.col, index, scroll)

    def _set(self, col: int, index: int | None, scroll: bool = True) -> None:
        lists = list(self.query(CardList))
        for i, cards in enumerate(lists):
            if i != col:
                cards.set_cursor(None, scroll=False)
        target = lists[col]
        target.set_cursor(index, scroll=scroll)
        self.col = col
        self.selected_id = target.cards.release_id(target.cursor) if target.cursor is not None else None
        for i, header in enumerate(self.query(ColumnHeader)):
            header.set_class(i == col, "-active")
        if scroll:
            self.query_one("#board", HorizontalScroll).scroll_to_widget(
                list(self.query(StageColumn))[col], animate=False, immediate=True
            )

    # -- the cursor ------------------------------------------------------------------------------

    def action_cursor(self, dx: int, dy: int) -> None:
        lists = list(self.query(CardList))
        if not lists:
            return
        here = lists[self.col]
        if dx:
            col = max(0, min(self.col + dx, len(lists) - 1))
            self._set(col, here.cursor if here.cursor is not None else 0)
        else:
            self._set(self.col, (here.cursor or 0) + dy)

    def action_cursor_end(self, direction: int) -> None:
        lists = list(self.query(CardList))
        if lists:
            self._set(self.col, 0 if direction < 0 else len(lists[self.col].cards) - 1)

    def action_cursor_page(self, direction: int) -> None:
        lists = list(self.query(CardList))
        if lists:
            here = lists[self.col]
            self._set(self.col, (here.cursor or 0) + direction * here.page_cards)

    @on(CardList.Clicked)
    def _clicked(self, event: CardList.Clicked) -> None:
        col = list(self.query(CardList)).index(event.cardlist)
        self._set(col, event.cardlist.index_of(event.release_id), scroll=False)

    # -- the selected release --------------------------------------------------------------------

    def selected(self) -> Release | None:
        if self.selected_id is None or self._snapshot is None:
            return None
        return next((r for r in self._snapshot.releases if r.id == self.selected_id), None)

    def _need_selected(self) -> Release | None:
        release = self.selected()
        if release is None:
            self.notify("no release selected", severity="warning", timeout=3)
        return release

    # -- moves -----------------------------------------------------------------------------------

    def action_move_next(self) -> None:
        self._move_by(1)

    def action_move_prev(self) -> None:
        self._move_by(-1)

    def _move_by(self, step: int) -> None:
        release = self._need_selected()
        if release is None or release.stage not in self.stages:
            return
        index = self.stages.index(release.stage) + step
        if not 0 <= index < len(self.stages):
            self.notify(f"{inert(release.label)} is already at the {'end' if step > 0 else 'start'} of the pipeline",
                        timeout=3)
            return
        self.request_move(release, self.stages[index])

    def action_move_to(self) -> None:
        from relman_tui.tui.screens.dialogs import StagePicker

        release = self._need_selected()
        if release is not None:
            self.app.push_screen(
                StagePicker(f"Move {release.label} to…", self.stages, release.stage),
                lambda stage: self.request_move(release, stage) if stage else None,
            )

    def request_move(self, release: Release, stage: str) -> None:
        """Move through the service, so every gate applies; explain a refusal and offer to force."""
        from relman_tui.tui.screens.dialogs import ReasonDialog

        if stage == release.stage:
            return
        label = release.label
        if self.stages.index(stage) < self.stages.index(release.stage):
            self.app.push_screen(
                ReasonDialog(f"Roll back {label} to {stage}", "Moving back is a rollback; it needs a reason.",
                             "Roll back"),
                lambda reason: self._move(release, stage, reason=reason) if reason else None,
            )
            return
        self._move(release, stage)

    def _move(self, release: Release, stage: str, *, reason: str | None = None, force: bool = False) -> None:
        from relman_tui.tui.screens.dialogs import RefusedMoveDialog

        self.selected_id = release.id

        def refused(exc: GateRefused) -> None:
            self.app.push_screen(
                RefusedMoveDialog(f"{release.label} cannot move to {stage}", exc.explanation),
                lambda why: self._move(release, stage, reason=why, force=True) if why else None,
            )

        self.relman.call_service(
            lambda s: s.move(release.id, stage, force=force, reason=reason, rev=release.rev),
            success=lambda r: f"{r.label} → {r.stage}{' (forced)' if force else ''}",
            refused=refused,
        )

    @on(CardList.Dragging)
    def _dragging(self, event: CardList.Dragging) -> None:
        target = self._column_at(event.x, event.y)
        if target is not self._drop_target:
            if self._drop_target is not None:
                self._drop_target.remove_class("-drop-target")
            if target is not None and target.stage != event.cardlist.stage:
                target.add_class("-drop-target")
            self._drop_target = target
        ghost = self.query_one("#drag-ghost", Static)
        release = next((r for r in (self._snapshot.releases if self._snapshot else ()) if r.id == event.release_id),
                       None)
        where = f" → {target.stage}" if target is not None and target.stage != event.cardlist.stage else ""
        ghost.update(Text(inert(f"{release.label if release else event.release_id}{where}")))
        ghost.styles.offset = (min(event.x + 1, max(0, self.size.width - 30)), max(0, event.y - 1))
        ghost.display = True

    @on(CardList.Dropped)
    def _dropped(self, event: CardList.Dropped) -> None:
        target = self._column_at(event.x, event.y)
        if self._drop_target is not None:
            self._drop_target.remove_class("-drop-target")
        self._drop_target = None
        self.query_one("#drag-ghost", Static).display = False
        release = next((r for r in (self._snapshot.releases if self._snapshot else ()) if r.id == event.release_id),
                       None)
        if release is None or target is None or target.stage == release.stage:
            return
        if self.relman.read_only:
            self.notify("read-only: nothing can be changed here", severity="warning")
            return
        self.request_move(release, target.stage)

    def _column_at(self, x: int, y: int) -> StageColumn | None:
        try:
            widget, _ = self.get_widget_at(x, y)
        except Exception:  # outside the screen
            return None
        node: Any = widget
        while node is not None and not isinstance(node, StageColumn):
            node = node.parent
        return node

    # -- other actions -----------------------------------------------------------------------------

    def action_verify(self) -> None:
        if (release := self._need_selected()) is not None:
            self.relman.call_service(lambda s: s.verify(release.id, rev=release.rev),
                                     success=lambda r: f"{r.label} verified in {r.stage}")

    def action_approve(self) -> None:
        if (release := self._need_selected()) is not None:
            self.relman.call_service(lambda s: s.approve(release.id, rev=release.rev),
                                     success=lambda r: f"{r.label} approved by {r.approved_by}")

    def action_fail(self) -> None:
        from relman_tui.tui.screens.dialogs import ReasonDialog

        if (release := self._need_selected()) is not None:
            self.app.push_screen(
                ReasonDialog(f"Mark {release.label} failed in {release.stage}", "What went wrong?", "Mark failed",
                             required=False),
                lambda reason: self.relman.call_service(
                    lambda s: s.fail(release.id, reason=reason, rev=release.rev),
                    success=lambda r: f"{r.label} marked failed in {r.stage}",
                ) if reason is not None else None,
            )

    def action_cancel_release(self) -> None:
        from relman_tui.tui.screens.dialogs import ConfirmDialog

        if (release := self._need_selected()) is not None:
            self.app.push_screen(
                ConfirmDialog(f"Cancel {release.label}?",
                              "It leaves the board; it stays in the database and the audit log.", "Cancel release"),
                lambda yes: self.relman.call_service(
                    lambda s: s.cancel(release.id, rev=release.rev), success=lambda r: f"{r.label} cancelled"
                ) if yes else None,
            )

    def action_new(self) -> None:
        from relman_tui.tui.screens.dialogs import ReleaseForm

        self.app.push_screen(ReleaseForm(None, self.relman.service.actor), self._created)

    def _created(self, fields: ReleaseFields | None) -> None:
        if fields is None:
            return

        def done(release: Release) -> None:
            self.selected_id = release.id

        self.relman.call_service(
            lambda s: s.add_release(fields.name, fields.version, fields.components, fields.owner, fields.risk,
                                    fields.notes),
            success=lambda r: f"{r.label} created in planned", done=done,
        )

    def action_edit(self) -> None:
        from relman_tui.tui.screens.dialogs import ReleaseForm

        if (release := self._need_selected()) is not None:
            self.app.push_screen(ReleaseForm(release, release.owner), partial(self._edited, release))

    def _edited(self, release: Release, fields: ReleaseFields | None) -> None:
        if fields is None:
            return
        self.relman.call_service(
            lambda s: s.edit_release(release.id, rev=release.rev, name=fields.name, version=fields.version,
                                     components=fields.components, owner=fields.owner, risk=fields.risk,
                                     notes=fields.notes),
            success=lambda r: f"{r.label} saved",
        )

    def action_schedule(self) -> None:
        from relman_tui.tui.screens.dialogs import ScheduleDialog

        release = self._need_selected()
        if release is None or self._snapshot is None:
            return
        envs = list(self._snapshot.environments)
        if not envs:
            return
        names = [e.name for e in envs]
        here = self.stages.index(release.stage) if release.stage in self.stages else 0
        default = names[min(here, len(names) - 1)]  # the next environment (stages start with `planned`)
        self.app.push_screen(
            ScheduleDialog(release, envs, default, self.relman.tz, self.relman.service.clock.now(),
                           partial(self.relman.preview_window, release.id)),
            partial(self._scheduled, release),
        )

    def _scheduled(self, release: Release, choice: WindowChoice | None) -> None:
        if choice is None:
            return
        tz = self.relman.tz
        self.relman.call_service(
            lambda s: s.schedule(release.id, choice.environment, choice.start, choice.end, rev=release.rev),
            success=lambda r: f"{r.label} in {choice.environment} at {format_local(choice.start, tz)}",
        )

    def action_detail(self) -> None:
        from relman_tui.tui.screens.detail import DetailScreen

        if (release := self._need_selected()) is not None:
            self.app.push_screen(DetailScreen(release.id))

    def action_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        self.remove_class("-filtering")
        self.query_text = ""
        self.set_focus(None)
        self._fill()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._fill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.set_focus(None)
        if not self.query_text:
            self.remove_class("-filtering")

    def action_help(self) -> None:
        from relman_tui.tui.screens.dialogs import HelpScreen

        rows = [
            ("←→↑↓ hjkl", "move the cursor (across columns too)"),
            ("home end pgup pgdn", "first, last, page"),
            ("shift+→  >", "move the release one stage on (gates apply)"),
            ("shift+←  <", "roll the release back one stage (asks why)"),
            ("m", "move to any stage"),
            ("v", "verify in its environment"),
            ("a", "approve (four-eyes: not your own)"),
            ("f", "mark failed"),
            ("x", "cancel the release (asks first)"),
            ("n", "new release"),
            ("e", "edit the release"),
            ("s", "schedule its window (shows the conflicts it would make)"),
            ("enter", "details and history"),
            ("/", "filter by name, component or owner; esc clears"),
            ("u", "times in UTC / local"),
            ("ctrl+p", "command palette: every action, jump to a release"),
            ("drag", "drag a card onto another column to move it"),
            ("?", "this list"),
            ("q", "quit"),
        ]
        if self.relman.read_only:
            rows = [(k, d) for k, d in rows if k[0] not in "sm<>vafxne" or k.startswith("enter")]
            rows.insert(0, ("", "read-only board: keys that change things are off"))
        self.app.push_screen(HelpScreen(rows))

    def jump_to(self, release_id: int) -> None:
        """Put the cursor on a release (clearing a filter that hides it)."""
        self.selected_id = release_id
        if self.query_text:
            self.action_clear_filter()
        self._place_cursor()


def _stages(snapshot: Snapshot) -> list[str]:
    """The board's columns: `planned`, then the environments in pipeline order (as build_columns)."""
    return [PLANNED, *(env.name for env in snapshot.environments)]


def _column_width(screen_width: int, columns: int) -> int:
    return max(COLUMN_MIN_WIDTH, screen_width // columns)
