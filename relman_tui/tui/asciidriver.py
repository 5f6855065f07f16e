"""A terminal driver that writes every symbol in its ASCII form, for a locale that is not UTF-8."""

from __future__ import annotations

from textual.drivers.linux_driver import LinuxDriver

from relman_tui.tui.glyphs import to_ascii


class AsciiDriver(LinuxDriver):
    """Textual's own driver, with its output put through :func:`to_ascii` on the way out.

    At the last step, so nothing escapes it: relman's marks, Textual's borders, scrollbars,
    toasts and the palette alike, and names with letters a C locale cannot show.
    """

    def write(self, data: str) -> None:
        super().write(to_ascii(data))
