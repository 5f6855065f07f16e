"""The few Textual internals relman needs that have no public form, all in one place (each has a test)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.message_pump import MessagePump
from textual.notifications import Notification

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen


class Guarded(MessagePump):
    """A message pump that outlives an exception in one of its handlers: the app reports it and goes on.

    Textual stops a widget's (or the app's) message loop at the first exception a handler raises and
    then ends the app with a traceback; it has no public hook around a handler. The board's screens,
    dialogs and widgets instead hand the error to the app (see :class:`UnhandledErrors`) and keep
    processing their messages.
    """

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            report_unhandled(self.app, error)


class UnhandledErrors:
    """Put before ``App`` in an app's bases: every error Textual would end the app on (a handler's, a
    timer's, a worker's) goes to :meth:`unhandled_error` instead. Textual funnels them all through
    ``App._handle_exception`` and has no public hook for it."""

    def _handle_exception(self, error: Exception) -> None:
        self.unhandled_error(error)

    def unhandled_error(self, error: Exception) -> None:
        raise NotImplementedError


def report_unhandled(app: App[Any], error: Exception) -> None:
    """Hand ``error`` to the app as Textual does with an unhandled one."""
    app._handle_exception(error)


def replace_notification(app: App[Any], old: Notification | None, new: Notification) -> None:
    """Show ``new`` in place of ``old`` (if ``old`` is still on screen), at once rather than on the next
    message. Textual can add one (``notify``, on its next message) and clear all, not swap one."""
    if old is not None and old in app._notifications:
        app._unnotify(old, refresh=False)
    app._notifications.add(new)
    app._refresh_notifications()


def notifications(app: App[Any]) -> list[Notification]:
    """The notifications the app shows now (for tests and diagnostics)."""
    return list(app._notifications)


def screen_lines(screen: Screen[Any]) -> list[str]:
    """What ``screen`` draws, as plain text lines (for tests)."""
    return ["".join(segment.text for segment in strip) for strip in screen._compositor.render_strips()]


def border_chars() -> Iterable[str]:
    """Every character Textual draws borders with (the ASCII driver must have a form for each)."""
    from textual._border import BORDER_CHARS

    return {c for rows in BORDER_CHARS.values() for row in rows for c in row}
