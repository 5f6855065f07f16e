"""The command palette: the keys of the screen below, with their keys shown, and "jump to release"."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from relman_tui.text import inert
from relman_tui.tui.host import host
from relman_tui.tui.keys import Key
from relman_tui.tui.screens.base import KeyedScreen


class BoardCommands(Provider):
    """Every action that acts now on the screen the palette was opened from (from its key table)."""

    def _below(self) -> KeyedScreen | None:
        return next((s for s in reversed(self.app.screen_stack) if isinstance(s, KeyedScreen)), None)

    def _actions(self) -> list[tuple[Content, Key]]:
        screen = self._below()
        if screen is None:
            return []
        return [
            (Content.assemble(key.palette, ("  " + key.footer_key, "dim")), key)
            for key in screen.KEYS.palette(screen.acts)
        ]

    async def _run(self, key: Key) -> None:
        screen = self._below()
        if screen is not None:
            await screen.run_action(key.action)

    def _jump(self, release_id: int) -> None:
        relman = host(self.app)
        relman.show_board()
        relman.release_id = release_id

    async def discover(self) -> Hits:
        for title, key in self._actions():
            yield DiscoveryHit(title, partial(self._run, key), text=key.palette)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for _, key in self._actions():
            score = matcher.match(key.palette)
            if score > 0:
                shown = Content.assemble(matcher.highlight(key.palette), ("  " + key.footer_key, "dim"))
                yield Hit(score, shown, partial(self._run, key), text=key.palette)
        snapshot = host(self.app).snapshot
        if snapshot is None:
            return
        for release in snapshot.releases:
            text = f"Jump to {inert(release.label)} ({release.stage})"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._jump, release.id), help=inert(release.owner))
