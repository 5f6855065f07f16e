"""What the board's keys and drags do to the selected release: moves through the gates, the other calls, the forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.dom import DOMNode
from textual.widgets import Static

from relman_tui.model import Release
from relman_tui.service import Service, Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import format_local
from relman_tui.tui.screens.base import KeyedScreen
from relman_tui.tui.session import Session
from relman_tui.tui.viewmodel import conflict_counts, with_new_counts
from relman_tui.tui.widgets.cardlist import CardList
from relman_tui.tui.widgets.column import StageColumn
from relman_tui.undo import Change, Write
from relman_tui.wording import localize, moved_words

if TYPE_CHECKING:
    from relman_tui.tui.screens.dialogs import Saved


@dataclass(frozen=True)
class Ask:
    """What a board call carries to its answer: the release and target, and the counts before."""

    release: Release | None
    stage: str | None
    before: tuple[int, int]
    force: bool = False
    moves: int = 0  # the operator's cursor moves when asked: the cursor follows the release only if none since


class BoardActions(KeyedScreen):
    """The release under the board's cursor and everything done to it, by key or by drag.

    :class:`~relman_tui.tui.screens.board.BoardScreen` adds the columns, the cursor and the filter, and
    sets the attributes declared here.
    """

    _snapshot: Snapshot | None  # the board as last read
    stages: list[str]  # the columns' stages, in order
    cursor_moves: int  # keys and clicks that moved the cursor, so far

    def __init__(self) -> None:
        super().__init__()
        self._drop_target: StageColumn | None = None  # the column a dragged card is over

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

    def selected(self) -> Release | None:
        return self._release(self.selected_id)

    def _release(self, release_id: int | None) -> Release | None:
        """The release with this id on the board as last read."""
        snapshot = self._snapshot
        return next((r for r in snapshot.releases if r.id == release_id), None) if snapshot else None

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
        release = self._release(event.release_id)
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
        release = self._release(event.release_id)
        if release is None or target is None or target.stage == release.stage:
            return
        if self.refused_read_only():
            return
        self.request_move(release, target.stage)

    def _column_at(self, x: int, y: int) -> StageColumn | None:
        try:
            widget, _ = self.get_widget_at(x, y)
        except Exception:  # outside the screen
            return None
        node: DOMNode | None = widget
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
        self.notify(with_new_counts(f"{saved.release.label} {what}", before.before, saved.snapshot), timeout=5)

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
            self.notify(with_new_counts(f"{result.label} {words[write]}", ask.before, message.snapshot), timeout=5)

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
