"""Two boards on one board, on a file and on a server: each sees the other's changes, live."""

from __future__ import annotations

import pytest
from backends import Backend

from relman_tui.service import Service
from relman_tui.settings import Settings
from relman_tui.timeutil import FixedClock
from relman_tui.tui.app import RelmanApp
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.textual_private import notifications

from .conftest import TUI_NOW, loaded, screen_text, until

pytestmark = pytest.mark.both_backends


def board_app(backend: Backend, actor: str) -> RelmanApp:
    store = backend.open(actor)
    service = Service(store, FixedClock(TUI_NOW), store.server_account() or actor)
    return RelmanApp(service, Settings(), "UTC", poll_interval=0.05, identity=f"{actor}@host-{actor}")


async def test_two_boards_as_two_people_see_each_others_moves(backend: Backend) -> None:
    backend.make("init")
    alice, bob = board_app(backend, "alice"), board_app(backend, "bob")
    async with alice.run_test(size=(120, 36)) as pa, bob.run_test(size=(120, 36)) as pb:
        await loaded(pa)
        await loaded(pb)
        alice_board = alice.screen
        assert isinstance(alice_board, BoardScreen)
        writer = Service(backend.open("carol"), FixedClock(TUI_NOW), "carol")
        rid = writer.add_release("payments-api", "2.4.1").id
        await until(pa, lambda: "payments-api" in screen_text(alice))
        await until(pb, lambda: "payments-api" in screen_text(bob))
        alice_board.jump_to(rid)
        await pa.press("greater_than_sign")  # alice moves it to dev on her board ...
        await until(
            pb, lambda: any("alice moved payments-api 2.4.1 → dev" in str(n.message) for n in notifications(bob))
        )  # ... and bob is told on his
        assert writer.release(rid).stage == "dev"
        assert writer.events(rid)[-1].actor == "alice"
