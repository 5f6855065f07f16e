"""The board: one column per stage, one card per release; move releases by key or by drag."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, HorizontalScroll
from textual.widgets import Input, Static

from relman_tui.gates import stage_names
from relman_tui.limits import ENVIRONMENTS_MAX
from relman_tui.service import Snapshot
from relman_tui.tui.keys import Key
from relman_tui.tui.screens.board_actions import BoardActions
from relman_tui.tui.screens.board_keys import KEYS
from relman_tui.tui.viewmodel import Cards, Column, build_columns
from relman_tui.tui.widgets.cardlist import CardList
from relman_tui.tui.widgets.column import ColumnHeader, StageColumn
from relman_tui.tui.widgets.topbar import TopBar

COLUMN_MIN_WIDTH = 20
MAX_COLUMNS = 1 + ENVIRONMENTS_MAX  # `planned` and 50 environments: an older board may hold more


class BoardScreen(BoardActions):
    """The main screen operators keep open all day: the columns, the cursor and the filter; what is done to
    the release under the cursor comes from :class:`BoardActions`."""

    KEYS = KEYS
    BINDINGS = KEYS.bindings()

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[Column] = []
        self.stages = []
        self.hidden_stages = 0  # stages past MAX_COLUMNS, not drawn
        self.col = 0  # the column the cursor is in
        self.cursor_moves = 0  # keys and clicks that moved the cursor, so far
        self.query_text = ""
        self._snapshot = None
        self._redraw_lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        top = TopBar()
        snapshot = self.host.snapshot
        if snapshot is not None:
            # Already read (run_app reads it before the event loop starts): compose the board
            # with its words in it, so the first frame drawn is the whole board, laid out once.
            self._snapshot = snapshot
            host = self.host
            now = host.now()
            self._set_stages(snapshot)
            self.columns = build_columns(snapshot, host.tz, now)[:MAX_COLUMNS]
            top.show(snapshot, host.tz, now, host.read_only, host.board_name, host.identity)
        yield top
        with HorizontalScroll(id="board", can_focus=False):
            width = _column_width(self.app.size.width, max(1, len(self.columns)))
            for column in self.columns:
                stage_column = StageColumn(column.stage, column, self._visible(column))
                stage_column.styles.width = width
                yield stage_column
        yield Static("", id="more-left", classes="more")
        yield Static("", id="more-right", classes="more")
        with Horizontal(id="filter-bar"):
            yield Static("Filter:", id="filter-label")
            yield Input(placeholder="name, component or owner — esc clears", id="filter")
        yield Static("", id="drag-ghost")
        yield from self.compose_guard()

    def on_mount(self) -> None:
        filled = self._snapshot is not None  # composed with the board in it: only the cursor to place
        if filled:
            self._place_cursor()
            self._show_banner()
        self.watch(self.app, "snapshot", self._on_snapshot, init=not filled)
        self.watch(self.app, "utc", self._redraw_on_change, init=False)
        self.watch(self.app, "minute", self._redraw_on_change, init=False)  # relative times age
        self.watch(self.app, "release_id", self._follow_release, init=False)
        self.watch(self.query_one("#board", HorizontalScroll), "scroll_x", self._show_more, init=False)
        self.call_after_refresh(self._show_more)  # once the columns are laid out

    async def _redraw_on_change(self, _: object) -> None:
        await self._redraw()

    def on_resize(self) -> None:
        self._size_columns()
        # the cursor's card back on screen, once the new sizes are laid out: keys act on what is seen
        self.call_after_refresh(self._place_cursor)

    def on_screen_resume(self) -> None:
        self._place_cursor()

    def _size_columns(self) -> None:
        """Share the width between the columns; below the minimum, the board scrolls sideways."""
        columns = list(self.query(StageColumn))
        if columns:
            width = _column_width(self.size.width, len(columns))
            for column in columns:
                column.styles.width = width

    def allows(self, key: Key, parameters: tuple[object, ...]) -> bool:
        if key.name == "clear_filter":
            return bool(self.query_text) or self.has_class("-filtering")
        if key.group == "Release" and key.name != "drag":
            return self.selected_id is not None  # an empty board (or filter) offers no release's keys
        return True

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

    def _set_stages(self, snapshot: Snapshot) -> bool:
        stages = stage_names(snapshot.environments)
        self.hidden_stages = max(0, len(stages) - MAX_COLUMNS)
        stages = stages[:MAX_COLUMNS]
        changed = stages != self.stages
        self.stages = stages
        return changed

    async def _redraw_now(self) -> None:
        snapshot = self._snapshot
        if snapshot is None:
            return
        if self._set_stages(snapshot):
            board = self.query_one("#board", HorizontalScroll)
            await board.remove_children()
            await board.mount_all(StageColumn(stage) for stage in self.stages)
            self._size_columns()
        self._show()

    def _show(self) -> None:
        snapshot = self._snapshot
        assert snapshot is not None
        host = self.host
        now = host.now()
        self.columns = build_columns(snapshot, host.tz, now)[:MAX_COLUMNS]
        self._fill()
        self.query_one(TopBar).show(snapshot, host.tz, now, host.read_only, host.board_name, host.identity)
        self._show_banner()

    def _show_banner(self) -> None:
        if self.hidden_stages:
            shown = len(self.stages) - 1
            self.query_one(TopBar).warn(
                f"showing the first {shown} of {shown + self.hidden_stages} environments; "
                "the scheduler and `relman env list` show them all"
            )
        else:
            self.query_one(TopBar).warn(None)

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
                    self._set(col, index, scroll)
                    return
        self.col = min(self.col, len(lists) - 1)
        if self.query_text and not lists[self.col].cards:
            # a filter hid the cursor's release: go to the first match, scrolled into view
            self.col = next((col for col, cards in enumerate(lists) if cards.cards), self.col)
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
            board = self.query_one("#board", HorizontalScroll)
            board.scroll_to_widget(list(self.query(StageColumn))[col], animate=False, immediate=True)
            self.call_after_refresh(self._show_more)  # with the scroll applied

    def _follow_release(self, release_id: int | None) -> None:
        lists = list(self.query(CardList))
        here = lists[self.col] if lists and self.col < len(lists) else None
        if (
            release_id is not None
            and here is not None
            and here.cursor is not None
            and here.cards.release_id(here.cursor) == release_id
        ):
            return
        if self.is_current and release_id is not None:
            self.jump_to(release_id)

    def _show_more(self, *_: object) -> None:
        """Marks at the edges when columns lie off screen: ``◀ 2`` and ``3 more ▶``."""
        board = self.query_one("#board", HorizontalScroll)
        left_edge, right_edge = board.scroll_x, board.scroll_x + board.size.width
        columns = list(self.query(StageColumn))
        left = sum(1 for c in columns if c.virtual_region.x < left_edge)
        right = sum(1 for c in columns if c.virtual_region.right > right_edge)
        y = board.region.y + 1  # on the second line of the column headers, beside "cap 1"
        for name, count, text in (("left", left, f"◀ {left} more"), ("right", right, f"{right} more ▶")):
            mark = self.query_one(f"#more-{name}", Static)
            mark.display = count > 0
            if count:
                mark.update(text)
                x = 0 if name == "left" else max(0, self.size.width - len(text) - 2)
                mark.styles.offset = (x, y)

    # -- the cursor ------------------------------------------------------------------------------

    def action_cursor(self, dx: int, dy: int) -> None:
        self.cursor_moves += 1
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
        self.cursor_moves += 1
        lists = list(self.query(CardList))
        if lists:
            self._set(self.col, 0 if direction < 0 else len(lists[self.col].cards) - 1)

    def action_cursor_page(self, direction: int) -> None:
        self.cursor_moves += 1
        lists = list(self.query(CardList))
        if lists:
            here = lists[self.col]
            self._set(self.col, (here.cursor or 0) + direction * here.page_cards)

    @on(CardList.Clicked)
    def _clicked(self, event: CardList.Clicked) -> None:
        self.cursor_moves += 1
        col = list(self.query(CardList)).index(event.cardlist)
        self._set(col, event.cardlist.index_of(event.release_id), scroll=False)

    # -- other keys ------------------------------------------------------------------------------------

    def action_detail(self) -> None:
        from relman_tui.tui.screens.detail import DetailScreen

        if (release := self._need_selected()) is not None:
            self.app.push_screen(DetailScreen(release.id))

    def action_show_scheduler(self) -> None:
        self.host.show_scheduler()

    def action_show_insights(self) -> None:
        self.host.show_insights()

    def action_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        self.remove_class("-filtering")
        self.query_text = ""
        self.set_focus(None)
        self._fill()
        self.refresh_bindings()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._fill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.set_focus(None)
        if not self.query_text:
            self.remove_class("-filtering")
        self.refresh_bindings()

    @property
    def help_title(self) -> str:
        return "Keys of the board"

    def jump_to(self, release_id: int) -> None:
        """Put the cursor on a release (clearing a filter that hides it)."""
        self.selected_id = release_id
        if self.query_text and not any(cards.index_of(release_id) is not None for cards in self.query(CardList)):
            self.action_clear_filter()
        self._place_cursor()


def _column_width(screen_width: int, columns: int) -> int:
    return max(COLUMN_MIN_WIDTH, screen_width // columns)
