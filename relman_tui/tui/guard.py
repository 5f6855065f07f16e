"""A message pump that outlives an exception in one of its handlers: the app reports it and goes on.

Textual stops a widget's (or the app's) message loop at the first exception a handler raises,
and then ends the app with a traceback. The board's screens, dialogs and widgets instead hand
the error to the app (``App._handle_exception``, which relman overrides to log it and show a
dialog) and keep processing their messages.
"""

from __future__ import annotations

from textual.message import Message
from textual.message_pump import MessagePump


class Guarded(MessagePump):
    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            self.app._handle_exception(error)
