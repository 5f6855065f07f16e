"""The command palette: every board action, and "jump to release"."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from relman_tui.text import inert

if TYPE_CHECKING:
    from relman_tui.tui.app import RelmanApp

ACTIONS = [
    ("Move release one stage on", "move_next", True),
    ("Roll release back one stage", "move_prev", True),
    ("Move release to…", "move_to", True),
    ("Verify release", "verify", True),
    ("Approve release", "approve", True),
    ("Mark release failed", "fail", True),
    ("Cancel release", "cancel_release", True),
    ("New release", "new", True),
    ("Edit release", "edit", True),
    ("Schedule release window", "schedule", True),
    ("Release details and history", "detail", False),
    ("Filter the board", "filter", False),
    ("Toggle UTC / local time", "app.toggle_utc", False),
    ("Open scheduler", "app.show_scheduler", False),
    ("Open board", "app.show_board", False),
    ("Show keys", "help", False),
]


class BoardCommands(Provider):
    """Board actions and releases by name."""

    @property
    def relman(self) -> RelmanApp:
        return self.app  # type: ignore[return-value]

    def _actions(self) -> list[tuple[str, str]]:
        read_only = self.relman.read_only
        return [(title, action) for title, action, writes in ACTIONS if not (writes and read_only)]

    async def _run(self, action: str) -> None:
        from relman_tui.tui.screens.board import BoardScreen

        screen = next((s for s in self.app.screen_stack if isinstance(s, BoardScreen)), None)
        if screen is None:
            return
        if action.startswith("app."):
            await self.app.run_action(action[4:])
        else:
            await screen.run_action(action)

    def _jump(self, release_id: int) -> None:
        from relman_tui.tui.screens.board import BoardScreen

        while len(self.app.screen_stack) > 2 and not isinstance(self.app.screen, BoardScreen):
            self.app.pop_screen()
        screen = next((s for s in self.app.screen_stack if isinstance(s, BoardScreen)), None)
        if screen is not None:
            screen.jump_to(release_id)

    async def discover(self) -> Hits:
        for title, action in self._actions():
            yield DiscoveryHit(title, partial(self._run, action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action in self._actions():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action))
        snapshot = self.relman.snapshot
        if snapshot is None:
            return
        for release in snapshot.releases:
            text = f"Jump to {inert(release.label)} ({release.stage})"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._jump, release.id), help=inert(release.owner))
