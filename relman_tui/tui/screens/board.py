"""The board: one column per stage, one card per release; move releases by key or by drag."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, HorizontalScroll
from textual.widgets import Input, Static

from relman_tui.gates import stage_names
from relman_tui.limits import ENVIRONMENTS_MAX
from relman_tui.model import Release
from relman_tui.service import Service, Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import format_local
from relman_tui.tui.keys import Key
from relman_tui.tui.screens.base import KeyedScreen
from relman_tui.tui.screens.board_keys import KEYS
from relman_tui.tui.session import Session
from relman_tui.tui.viewmodel import Cards, Column, build_columns, conflict_counts, count_words
from relman_tui.tui.widgets.cardlist import CardList
from relman_tui.tui.widgets.column import ColumnHeader, StageColumn
from relman_tui.tui.widgets.topbar import TopBar
from relman_tui.undo import Change, Write
from relman_tui.wording import localize, moved_words

if TYPE_CHECKING:
    from relman_tui.tui.screens.dialogs import Saved

COLUMN_MIN_WIDTH = 20
MAX_COLUMNS = 1 + ENVIRONMENTS_MAX  # `planned` and 50 environments: an older board may hold more


@dataclass(frozen=True)
class Ask:
    """What a board call carries to its answer: the release and target, and the counts before."""

    release: Release | None
    stage: str | None
    before: tuple[int, int]
    force: bool = False
    moves: int = 0  # the operator's cursor moves when asked: the cursor follows the release only if none since


class BoardScreen(KeyedScreen):
    """The main screen operators keep open all day."""

    KEYS = KEYS
    BINDINGS = KEYS.bindings()

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[Column] = []
        self.stages: list[str] = []
        self.hidden_stages = 0  # stages past MAX_COLUMNS, not drawn
        self.col = 0  # the column the cursor is in
        self.cursor_moves = 0  # keys and clicks that moved the cursor, so far
        self.query_text = ""
        self._snapshot: Snapshot | None = None
        self._drop_target: StageColumn | None = None
        self._redraw_lock = asyncio.Lock()

    # -- the selected release lives once, on the host (the scheduler shares it) -----------------------

    @property
    def selected_id(self) -> int | None:
        return self.host.release_id

    @selected_id.setter
    def selected_id(self, release_id: int | None) -> None:
        had = self.host.release_id is not None
        self.host.release_id = release_id
        if had != (release_id is not None):
            self.refresh_bindings()  # the release's keys come and go with a release under the cursor

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

    def _ask(self, release: Release | None, stage: str | None = None, force: bool = False) -> Ask:
        snapshot = self.host.snapshot
        return Ask(release, stage, conflict_counts(snapshot) if snapshot else (0, 0), force, self.cursor_moves)

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
            self.notify(
                f"{inert(release.label)} is already at the {'end' if step > 0 else 'start'} of the pipeline", timeout=3
            )
            return
        self.request_move(release, self.stages[index])

    def action_move_to(self) -> None:
        from relman_tui.tui.screens.dialogs import StagePicker

        release = self._need_selected()
        if release is not None:
            self.app.push_screen(
                StagePicker(f"Move {release.label} to…", self.stages, release.stage),
                lambda stage: self._confirm_move(release, stage) if stage else None,
            )

    def _confirm_move(self, release: Release, stage: str) -> None:
        """The picker's choice, asked once more: a move forward is confirmed, a rollback asks its reason."""
        from relman_tui.tui.screens.dialogs import ConfirmDialog

        if stage == release.stage or self.stages.index(stage) < self.stages.index(release.stage):
            self.request_move(release, stage)
            return
        self.app.push_screen(
            ConfirmDialog(
                f"Move {release.label} from {release.stage} to {stage}?",
                "Every gate applies; a refused move says why and offers to force it.",
                "Move",
                default_yes=True,
            ),
            lambda yes: self.request_move(release, stage) if yes else None,
        )

    def request_move(self, release: Release, stage: str) -> None:
        """Move through the service, so every gate applies; explain a refusal and offer to force."""
        from relman_tui.tui.screens.dialogs import ReasonDialog

        if stage == release.stage:
            return
        if self.stages.index(stage) < self.stages.index(release.stage):
            self.app.push_screen(
                ReasonDialog(
                    f"Roll back {release.label} to {stage}",
                    "Moving back is a rollback; it needs a reason.",
                    "Roll back",
                ),
                lambda reason: self._move(release, stage, reason=reason) if reason else None,
            )
            return
        self._move(release, stage)

    def _move(self, release: Release, stage: str, *, reason: str | None = None, force: bool = False) -> None:
        self.selected_id = release.id
        self.host.session.write(
            self,
            Change(Write.MOVE, release.id),
            lambda service: service.move(release.id, stage, force=force, reason=reason, rev=release.rev),
            context=self._ask(release, stage, force),
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
        release = next(
            (r for r in (self._snapshot.releases if self._snapshot else ()) if r.id == event.release_id), None
        )
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
        release = next(
            (r for r in (self._snapshot.releases if self._snapshot else ()) if r.id == event.release_id), None
        )
        if release is None or target is None or target.stage == release.stage:
            return
        if self.host.read_only:
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

    def _call(self, write: Write, release: Release, run: Callable[[Service], Release]) -> None:
        self.host.session.write(self, Change(write, release.id), run, context=self._ask(release))

    def action_verify(self) -> None:
        if (release := self._need_selected()) is not None:
            self._call(Write.VERIFY, release, lambda service: service.verify(release.id, rev=release.rev))

    def action_approve(self) -> None:
        if (release := self._need_selected()) is not None:
            self._call(Write.APPROVE, release, lambda service: service.approve(release.id, rev=release.rev))

    def action_fail(self) -> None:
        from relman_tui.tui.screens.dialogs import ReasonDialog

        if (release := self._need_selected()) is not None:
            self.app.push_screen(
                ReasonDialog(
                    f"Mark {release.label} failed in {release.stage}", "What went wrong?", "Mark failed", required=False
                ),
                lambda reason: (
                    self._call(
                        Write.FAIL, release, lambda service: service.fail(release.id, reason=reason, rev=release.rev)
                    )
                    if reason is not None
                    else None
                ),
            )

    def action_cancel_release(self) -> None:
        from relman_tui.tui.screens.dialogs import ConfirmDialog

        if (release := self._need_selected()) is not None:
            self.app.push_screen(
                ConfirmDialog(
                    f"Cancel {release.label}?",
                    "It leaves the board; it stays in the database and the audit log.",
                    "Cancel release",
                ),
                lambda yes: (
                    self._call(Write.CANCEL, release, lambda service: service.cancel(release.id, rev=release.rev))
                    if yes
                    else None
                ),
            )

    def action_new(self) -> None:
        from relman_tui.tui.screens.dialogs import ReleaseForm

        before = self._ask(None)
        self.app.push_screen(
            ReleaseForm(None, self.host.session.actor), lambda saved: self._saved(saved, "created in planned", before)
        )

    def action_edit(self) -> None:
        from relman_tui.tui.screens.dialogs import ReleaseForm

        if (release := self._need_selected()) is not None:
            before = self._ask(release)
            self.app.push_screen(ReleaseForm(release, release.owner), lambda saved: self._saved(saved, "saved", before))

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
        before = self._ask(release)
        tz = self.host.tz

        def said(saved: Saved | None) -> None:
            if saved is not None:
                window = next(
                    (
                        w
                        for w in saved.release.windows
                        if w.environment in names and w != release.window_in(w.environment)
                    ),
                    None,
                )
                where = f"in {window.environment} at {format_local(window.start, tz)}" if window else "scheduled"
                self._saved(saved, where, before)

        self.app.push_screen(ScheduleDialog(release, envs, default, tz, self.host.now()), said)

    def _saved(self, saved: Saved | None, what: str, before: Ask) -> None:
        if saved is None:
            return
        self.selected_id = saved.release.id
        self.notify(self.said(f"{saved.release.label} {what}", before, saved.snapshot), timeout=5)

    @staticmethod
    def said(text: str, before: Ask, snapshot: Snapshot | None) -> str:
        """A toast for a change, with the board's counts as the top bar now shows them, if they changed."""
        if snapshot is None:
            return text
        after = conflict_counts(snapshot)
        return text if after == before.before else f"{text} · now {count_words(*after)}"

    # -- the session's answers -----------------------------------------------------------------------

    def on_session_done(self, message: Session.Done[object]) -> None:
        call, result = message.call, message.result
        ask = call.context
        if call.undoing is not None or not isinstance(ask, Ask) or not isinstance(result, Release):
            return
        words = {
            Write.MOVE: moved_words(ask.release or result, result, ask.force, self.host.now(), self.host.tz),
            Write.VERIFY: f"verified in {result.stage}",
            Write.APPROVE: f"approved by {result.approved_by}",
            Write.FAIL: f"marked failed in {result.stage}",
            Write.CANCEL: "cancelled",
        }
        write = call.change.write if call.change is not None else None
        if write is not None and write in words:
            if ask.moves == self.cursor_moves:  # the operator is still where they asked from: follow
                self.selected_id = result.id
            self.notify(self.said(f"{result.label} {words[write]}", ask, message.snapshot), timeout=5)

    def on_session_refused(self, message: Session.Refused) -> None:
        from relman_tui.errors import GateRefused
        from relman_tui.tui.screens.dialogs import RefusedMoveDialog

        call, error = message.call, message.error
        ask = call.context
        if (
            call.name == Write.MOVE
            and isinstance(error, GateRefused)
            and isinstance(ask, Ask)
            and ask.release is not None
            and ask.stage is not None
        ):
            message.prevent_default()
            release, stage = ask.release, ask.stage
            self.app.push_screen(
                RefusedMoveDialog(f"{release.label} cannot move to {stage}", localize(error.explanation, self.host.tz)),
                lambda why: self._move(release, stage, reason=why, force=True) if why else None,
            )

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
