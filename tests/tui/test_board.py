"""The board, driven the way an operator drives it: keys, mouse, dialogs, and a second process."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList

from relman_tui.model import Release, Risk, State
from relman_tui.store import BoardStore, NewRelease, Store
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.dialogs import (
    ConfirmDialog,
    HelpScreen,
    ReasonDialog,
    RefusedMoveDialog,
    ReleaseForm,
    ScheduleDialog,
    StagePicker,
)
from relman_tui.tui.textual_private import notifications
from relman_tui.tui.widgets.cardlist import CARD_HEIGHT, CardList

from .conftest import (
    TUI_NOW,
    board,
    footer,
    loaded,
    make_app,
    notes,
    other,
    palette,
    screen_text,
    selected,
    settle,
    until,
    window_of,
)


def stored(store: BoardStore, release_id: int) -> Release:
    """The release as the database holds it (it must exist)."""
    release = store.release(release_id)
    assert release is not None
    return release


def in_stage(release: Callable[[], Release], stage: str) -> Callable[[], bool]:
    """A condition: ``release()`` stands in ``stage`` (a loop's stage, bound now)."""
    return lambda: release().stage == stage


def add_release(path: Path, name: str = "payments-api", version: str = "1.0.0", owner: str = "bob") -> int:
    service = other(path, owner)
    return service.add_release(name, version, owner=owner).id


async def select(pilot: Pilot[Any], release_id: int) -> None:
    board(pilot.app).jump_to(release_id)
    await pilot.pause()
    assert board(pilot.app).selected_id == release_id


async def test_board_shows_every_stage_and_the_demo_cards(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        for title in ("Planned", "Development", "Test", "Staging", "Pre-production", "Production"):
            assert title in text
        assert "payments-api 2.4.1" in text
        assert "✖ 8 errors  ⚠ 4 warnings" in text
        assert "demo.db · alice@jump1" in text  # which board, and who you are
        assert "Thu 26 Nov 12:00 UTC" in text
        # conflict marks and the relative time of the next window
        assert "✖" in text
        assert "prod in 21h" in text


async def test_keyboard_alone_takes_a_release_from_planned_to_production(empty_board: Path) -> None:
    release_id = add_release(empty_board, owner="bob")
    app = make_app(empty_board, actor="alice")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await select(pilot, release_id)
        store = other(empty_board, "reader").store
        for stage in ("dev", "test", "staging", "preprod"):
            await pilot.press("shift+right")
            await until(pilot, in_stage(lambda: stored(store, release_id), stage))
            await until(pilot, in_stage(lambda: selected(app), stage))
            assert board(app).stages[board(app).col] == stage  # the cursor went with it
            await pilot.press("v")
            await until(pilot, lambda: stored(store, release_id).state is State.VERIFIED)
            await until(pilot, lambda: selected(app).state is State.VERIFIED)
        await pilot.press("a")
        await until(pilot, lambda: stored(store, release_id).approved_by == "alice")
        await until(pilot, lambda: selected(app).approved_by == "alice")
        await pilot.press(">")
        await until(pilot, lambda: stored(store, release_id).stage == "prod")
        await until(pilot, lambda: board(app).stages[board(app).col] == "prod")
        assert board(app).selected_id == release_id
        actions = [e.action for e in store.events(release=release_id)]
        assert actions == ["created"] + ["moved", "verified"] * 4 + ["approved", "moved"]


async def test_refused_move_names_the_gate_and_a_forced_move_needs_a_reason(empty_board: Path) -> None:
    release_id = add_release(empty_board)
    other(empty_board).move(release_id, "dev")  # deployed, not verified
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await select(pilot, release_id)
        await pilot.press("shift+right")
        await until(pilot, lambda: isinstance(app.screen, RefusedMoveDialog))
        text = screen_text(app)
        assert "not verified" in text
        assert "cannot move to test" in text
        # the force button stays off until there is a reason
        await pilot.press("enter")
        assert isinstance(app.screen, RefusedMoveDialog)
        await pilot.press(*"hotfix for INC-42")
        # Enter in the reason field does not force: it only moves to the button
        await pilot.press("enter")
        await until(pilot, lambda: app.focused is app.screen.query_one("#ok"))
        assert isinstance(app.screen, RefusedMoveDialog)
        store = other(empty_board, "reader").store
        assert stored(store, release_id).stage == "dev"
        await pilot.press("enter")  # the button itself
        await until(pilot, lambda: stored(store, release_id).stage == "test")
        moved = store.events(release=release_id, limit=1)[0]
        assert moved.forced and moved.reason == "hotfix for INC-42" and moved.actor == "alice"


async def test_cancelling_the_refusal_changes_nothing(empty_board: Path) -> None:
    release_id = add_release(empty_board)
    other(empty_board).move(release_id, "dev")
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await select(pilot, release_id)
        await pilot.press(">")
        await until(pilot, lambda: isinstance(app.screen, RefusedMoveDialog))
        await pilot.press("escape")
        await until(pilot, settle(app))
        assert other(empty_board, "r").release(release_id).stage == "dev"


async def test_moving_back_asks_for_the_rollback_reason(empty_board: Path) -> None:
    release_id = add_release(empty_board)
    other(empty_board).move(release_id, "dev")
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await select(pilot, release_id)
        await pilot.press("<")
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        assert "rollback" in screen_text(app)
        await pilot.press(*"smoke test failed", "enter")
        store = other(empty_board, "reader").store
        await until(pilot, lambda: stored(store, release_id).stage == "planned")
        event = store.events(release=release_id, limit=1)[0]
        assert (event.action, event.reason) == ("rolled_back", "smoke test failed")


async def test_m_moves_to_any_stage_through_a_picker(empty_board: Path) -> None:
    release_id = add_release(empty_board)
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await select(pilot, release_id)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, StagePicker))
        await pilot.press("enter")  # the next stage is highlighted first
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))  # asked before it moves
        assert other(empty_board, "r").release(release_id).stage == "planned"
        await pilot.press("enter")
        await until(pilot, lambda: other(empty_board, "r").release(release_id).stage == "dev")


async def test_the_stage_picker_stops_at_the_ends_and_asks_before_moving(empty_board: Path) -> None:
    release_id = add_release(empty_board)
    app = make_app(empty_board)
    async with app.run_test(size=(80, 22)) as pilot:
        await loaded(pilot)
        await select(pilot, release_id)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, StagePicker))
        picker = app.screen.query_one(OptionList)
        await pilot.press(*["down"] * 9)  # past the last stage: stays on it, never wraps to the first
        assert picker.highlighted == picker.option_count - 1
        await pilot.press(*["up"] * 9)  # `planned` (here) is not a choice: stops at dev
        assert picker.highlighted == 1
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "from planned to test?" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        assert other(empty_board, "r").release(release_id).stage == "planned"


async def test_drag_and_drop_moves_through_the_same_gates(empty_board: Path) -> None:
    release_id = add_release(empty_board)
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        lists = list(app.screen.query(CardList))
        source, target = lists[0], lists[1]
        assert source.cards[0].release_id == release_id
        await pilot.mouse_down(source, offset=(3, 0))
        await pilot.hover(source, offset=(5, 1))
        await pilot.hover(target, offset=(4, 2))
        await pilot.pause()
        assert target.parent is not None and target.parent.has_class("-drop-target")
        assert "payments-api 1.0.0 → dev" in screen_text(app)
        await pilot.mouse_up(target, offset=(4, 2))
        await until(pilot, lambda: other(empty_board, "r").release(release_id).stage == "dev")
        assert not app.screen.query_one("#drag-ghost").display
        assert not target.parent.has_class("-drop-target")
        # dragging a deployed-but-unverified card on opens the refusal dialog
        await until(pilot, lambda: bool(list(app.screen.query(CardList))[1].cards))
        lists = list(app.screen.query(CardList))
        await pilot.mouse_down(lists[1], offset=(3, 0))
        await pilot.hover(lists[2], offset=(3, 0))
        await pilot.mouse_up(lists[2], offset=(3, 0))
        await until(pilot, lambda: isinstance(app.screen, RefusedMoveDialog))


async def test_a_click_without_movement_only_selects(empty_board: Path) -> None:
    first = add_release(empty_board, "a-service")
    second = add_release(empty_board, "b-service")
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        cards = next(iter(app.screen.query(CardList)))
        assert board(app).selected_id == first
        await pilot.click(cards, offset=(3, CARD_HEIGHT))  # the second card
        await pilot.pause()
        assert board(app).selected_id == second
        assert other(empty_board, "r").release(second).stage == "planned"


async def test_a_change_by_another_process_appears_with_who_did_it(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        bob = other(demo_db, "bob")
        payments = next(r for r in bob.releases() if r.label == "payments-api 2.4.1")
        await select(pilot, payments.id)
        bob.move(payments.id, "prod")
        await until(pilot, lambda: board(app).stages[board(app).col] == "prod")
        # the cursor followed its release into the new column
        assert board(app).selected_id == payments.id
        assert any("bob moved payments-api 2.4.1 → prod" in m for m in notes(app))


async def test_a_stale_change_is_refused_and_the_operator_told_who(empty_board: Path) -> None:
    release_id = add_release(empty_board)
    app = make_app(empty_board)
    app.session.poll_interval = 30  # the board will not hear about bob's change before alice acts
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await select(pilot, release_id)
        other(empty_board, "bob").edit_release(release_id, notes="changed behind alice's back")
        await pilot.press(">")
        await until(pilot, settle(app))
        await until(pilot, lambda: any("changed by bob" in str(n.message) for n in notifications(app)))
        assert other(empty_board, "r").release(release_id).stage == "planned"
        # the card was refreshed with the fresh revision
        await until(pilot, lambda: selected(app).rev == 2)


async def test_read_only_hides_and_refuses_every_write(demo_db: Path) -> None:
    app = make_app(demo_db, read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        before = [(r.id, r.stage, r.rev) for r in other(demo_db, "r").releases()]
        text = screen_text(app)
        assert "READ-ONLY" in text
        assert "Move on" not in footer(app) and "Approve" not in footer(app) and "Keys" in footer(app)
        for key in (">", "<", "v", "a", "x", "n", "e", "s", "m", "f", "ctrl+z"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, BoardScreen), key
        await until(pilot, settle(app))
        assert [(r.id, r.stage, r.rev) for r in other(demo_db, "r").releases()] == before
        # the help says so, and offers neither the writing keys nor dragging
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        assert "Read-only board" in text
        assert "drop a card" not in text and "verify it" not in text and "new release" not in text
        assert "filter by name" in text


async def test_hostile_text_is_shown_literally(empty_board: Path) -> None:
    store = Store.open(empty_board)
    hostile = [
        "[bold red]pwned[/]",
        "evil\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07name",
        "名前がとても長いリリース🚀🚀🚀-service-with-a-very-long-name",
    ]
    with store.write():
        for name in hostile:
            store.insert_release(
                NewRelease(
                    name, "1.0", (name,), "bob", Risk.LOW, "[link=http://x]notes[/link]", "planned", State.PENDING
                ),
                TUI_NOW,
            )
    store.close()
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        # the markup is text; the card under the cursor shows its whole name, over two lines
        assert "[bold" in text and "red]pwned[/] 1.0" in text
        assert "\x1b" not in text and "\x07" not in text
        assert "evil\\x1b[2J" in text
        assert "名前がとても" in text
        # every line still fits the terminal: wide characters were cut by cell width
        from rich.cells import cell_len

        assert all(cell_len(line) <= 120 for line in text.splitlines())
        await select(pilot, 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and "Components" in screen_text(app))
        assert "[bold red]pwned[/]" in screen_text(app)
        assert "[link=http://x]notes[/link]" in screen_text(app)


async def test_filter_by_name_component_or_owner_and_escape_clears(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        total = sum(len(c.cards) for c in app.screen.query(CardList))
        await pilot.press("/")
        await pilot.press(*"payments-db")
        await pilot.pause()
        shown = [card.title for c in app.screen.query(CardList) for card in c.cards]
        assert shown and all(t.split()[0] in {"payments-api", "ledger", "fraud-scoring"} for t in shown)
        await pilot.press("escape")
        await pilot.pause()
        assert sum(len(c.cards) for c in app.screen.query(CardList)) == total


async def test_new_release_form_validates_as_you_type(empty_board: Path) -> None:
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ReleaseForm))
        assert app.screen.query_one("#ok").disabled
        await pilot.press(*"billing")
        await pilot.press("tab", *"3.1.0")
        await pilot.pause()
        assert not app.screen.query_one("#ok").disabled
        await pilot.press("enter")
        reader = other(empty_board, "r")
        await until(pilot, lambda: any(r.label == "billing 3.1.0" for r in reader.releases()))
        created = next(r for r in reader.releases() if r.label == "billing 3.1.0")
        assert created.owner == "alice" and created.stage == "planned"
        await until(pilot, lambda: board(app).selected_id == created.id)


async def test_edit_and_cancel(empty_board: Path) -> None:
    release_id = add_release(empty_board)
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await select(pilot, release_id)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReleaseForm))
        version = app.screen.query_one("#version", Input)
        version.value = "1.0.1"
        await pilot.pause()
        app.screen.query_one("#ok", Button).press()
        reader = other(empty_board, "r")
        await until(pilot, lambda: reader.release(release_id).version == "1.0.1")
        await until(pilot, lambda: selected(app).version == "1.0.1")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        app.screen.query_one("#confirm", Button).press()
        await until(pilot, lambda: reader.release(release_id).state is State.CANCELLED)
        await until(pilot, lambda: not any(c.cards for c in app.screen.query(CardList)))


async def test_schedule_shows_the_conflicts_it_would_create_before_saving(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        reader = other(demo_db, "r")
        checkout = next(r for r in reader.releases() if r.label == "checkout-web 5.12.0")
        await select(pilot, checkout.id)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScheduleDialog))
        start = app.screen.query_one("#start", Input)
        start.value = "2026-11-28 12:00"  # a Saturday, in preprod (the weekend freeze is on prod)
        # moving out of the capacity clash with ledger and fraud-scoring: the preview says so
        await until(pilot, lambda: "Takes it out of 1 conflict:" in screen_text(app))
        assert "Puts it in" not in screen_text(app)
        await until(pilot, lambda: not app.screen.query_one("#ok").disabled)
        app.screen.query_one("#ok", Button).press()
        await until(pilot, lambda: window_of(reader, checkout.id, "preprod").start.day == 28)
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        # the toast's counts are the top bar's
        # ledger and fraud-scoring still clash: the board keeps its 8 errors, and the toast claims nothing else
        await until(
            pilot, lambda: any("checkout-web 5.12.0 in preprod at 2026-11-28 12:00 UTC" in m for m in notes(app))
        )
        assert "✖ 8 errors" in screen_text(app)
        assert not any("resolve" in m or "errors" in m for m in notes(app))


async def test_schedule_into_a_freeze_warns_first(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        reader = other(demo_db, "r")
        payments = next(r for r in reader.releases() if r.label == "payments-api 2.4.1")
        await select(pilot, payments.id)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScheduleDialog))
        app.screen.query_one("#start", Input).value = "2026-11-28 10:00"  # Saturday, prod frozen
        await until(pilot, lambda: "Puts it in" in screen_text(app))
        assert "freeze" in screen_text(app)
        await until(pilot, lambda: "Schedule anyway" in screen_text(app))
        app.screen.query_one("#ok", Button).press()
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        # the toast's counts are the top bar's
        await until(
            pilot, lambda: any("payments-api 2.4.1 in prod at 2026-11-28 10:00 UTC · now" in m for m in notes(app))
        )
        top = re.search(r"✖ (\d+) errors  ⚠ (\d+) warnings", screen_text(app).splitlines()[0])
        assert top is not None and top[1] != "8"
        assert any(f"now ✖ {top[1]} errors  ⚠ {top[2]} warnings" in m for m in notes(app))


async def test_detail_help_and_palette(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        assert "roll it back one stage" in text
        assert "the scheduler: windows, conflicts" in text  # `2` is on the board's list
        assert "drop a card on a column" in text
        await pilot.press("escape")
        await palette(pilot, "jump ledger 1.9", "Jump to ledger 1.9.3")
        reader = other(demo_db, "r")
        ledger = next(r for r in reader.releases() if r.label == "ledger 1.9.3")
        await until(pilot, lambda: board(app).selected_id == ledger.id)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and "History" in screen_text(app))
        text = screen_text(app)
        assert "ledger 1.9.3" in text and "payments-db" in text and "moved" in text
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_usable_at_80x24_and_refuses_smaller(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "Planned" in text and "Development" in text
        assert "too small" not in text
        # Production is off screen, and the board says so
        assert "Production" not in text
        await until(pilot, lambda: "2 more ▶" in screen_text(app))
        # the arrows move the cursor (not the view by a character) and the view follows
        for col in range(1, 6):
            await pilot.press("right")
            assert board(app).col == col
        await until(pilot, lambda: "Production" in screen_text(app))
        await until(pilot, lambda: "more ▶" not in screen_text(app) and "◀ 2 more" in screen_text(app))
        await pilot.press("left")
        assert board(app).col == 4
        # the footer keeps q, ? and / at 80 columns
        assert "/ Filter" in footer(app) and "? Keys" in footer(app) and "q Quit" in footer(app)


async def test_behind_the_too_small_notice_no_key_acts_but_quit(demo_db: Path) -> None:
    reader = other(demo_db, "r")
    before = [(r.id, r.stage, r.state, r.rev) for r in reader.releases()]
    deployed = next(r for r in reader.releases() if r.stage == "prod")
    app = make_app(demo_db)
    async with app.run_test(size=(70, 20)) as pilot:
        await loaded(pilot)
        board(app).jump_to(deployed.id)
        assert "terminal too small — needs 80×22 · q quits" in screen_text(app)
        for key in ("v", "a", ">", "question_mark", "ctrl+p", "2", "enter", "n", "slash"):
            await pilot.press(key)
            await until(pilot, settle(app))
            assert isinstance(app.screen, BoardScreen), key
        assert [(r.id, r.stage, r.state, r.rev) for r in reader.releases()] == before
        assert not board(app).check_action("help", ())
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)


async def test_ctrl_c_quits(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not app.is_running)
    assert not any("ctrl+q" in m for m in notes(app))


async def test_cursor_keys_home_end_and_pages(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        screen = board(app)
        first = next(iter(app.screen.query(CardList)))
        await pilot.press("end")
        assert first.cursor == len(first.cards) - 1
        await pilot.press("home")
        assert first.cursor == 0
        await pilot.press("j", "down")
        assert first.cursor == 2
        await pilot.press("k")
        assert first.cursor == 1
        await pilot.press("pagedown")
        assert first.cursor == min(len(first.cards) - 1, 1 + first.page_cards)
        await pilot.press("right")
        assert screen.col == 1
        await pilot.press("h")
        assert screen.col == 0
