"""One test per Textual internal in relman_tui.tui.textual_private: each fails when Textual changes that name."""

from __future__ import annotations

import inspect

from textual.app import App, ComposeResult
from textual.message import Message
from textual.message_pump import MessagePump
from textual.notifications import Notification
from textual.widgets import Static

from relman_tui.tui.textual_private import (
    Guarded,
    UnhandledErrors,
    border_chars,
    notifications,
    replace_notification,
    report_unhandled,
    screen_lines,
)

from .conftest import until


class Poke(Message):
    """Makes the probe's widget run its handler once."""


class Boom(Guarded, Static):
    def __init__(self) -> None:
        super().__init__("hello from the probe")
        self.handled = 0

    def on_poke(self, message: Poke) -> None:
        self.handled += 1
        if self.handled == 1:
            raise ValueError("the first poke fails")


class Probe(UnhandledErrors, Guarded, App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[Exception] = []

    def compose(self) -> ComposeResult:
        yield Boom()

    def unhandled_error(self, error: Exception) -> None:
        self.errors.append(error)


def test_the_internals_have_the_signatures_relman_overrides() -> None:
    assert list(inspect.signature(MessagePump._dispatch_message).parameters) == ["self", "message"]
    assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]


async def test_a_guarded_widget_reports_a_handler_error_and_goes_on() -> None:
    """``Guarded`` (``_dispatch_message``) and ``UnhandledErrors`` (``App._handle_exception``)."""
    app = Probe()
    async with app.run_test() as pilot:
        boom = app.query_one(Boom)
        boom.post_message(Poke())
        boom.post_message(Poke())
        await until(pilot, lambda: boom.handled == 2)
        assert [str(e) for e in app.errors] == ["the first poke fails"]
        assert app.is_running


async def test_a_timer_error_reaches_the_apps_hook() -> None:
    """Textual's other callers of ``App._handle_exception`` (timers, workers) reach the hook too."""
    app = Probe()
    async with app.run_test() as pilot:

        def fail() -> None:
            raise RuntimeError("a timer fails")

        app.set_timer(0.01, fail)
        await until(pilot, lambda: app.errors)
        assert [str(e) for e in app.errors] == ["a timer fails"]
        report_unhandled(app, KeyError("reported"))
        assert [str(e) for e in app.errors] == ["a timer fails", "'reported'"]


async def test_replace_notification_swaps_one_toast_and_notifications_lists_them() -> None:
    """``App._notifications``, ``App._unnotify``, ``App._refresh_notifications``."""
    app = Probe()
    async with app.run_test(notifications=True) as pilot:
        app.notify("stays")
        await until(pilot, lambda: len(notifications(app)) == 1)
        first = Notification("first", "t", "information", 30)
        replace_notification(app, None, first)
        assert [n.message for n in notifications(app)] == ["stays", "first"]
        second = Notification("second", "t", "information", 30)
        replace_notification(app, first, second)
        assert [n.message for n in notifications(app)] == ["stays", "second"]
        await until(pilot, lambda: "second" in "\n".join(screen_lines(app.screen)))
        assert "first" not in "\n".join(screen_lines(app.screen))


async def test_screen_lines_is_what_the_screen_draws() -> None:
    """``Screen._compositor.render_strips``."""
    app = Probe()
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        lines = screen_lines(app.screen)
        assert len(lines) == 5
        assert lines[0].startswith("hello from the probe")


def test_border_chars_are_textuals_border_characters() -> None:
    """``textual._border.BORDER_CHARS``."""
    chars = set(border_chars())
    assert {"─", "│", "╭", "╯", "+", "|"} <= chars
