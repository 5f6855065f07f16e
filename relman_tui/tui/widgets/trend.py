"""A weekly trend: Textual's own Sparkline, drawn in ASCII when the terminal cannot show its blocks."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from textual.app import RenderResult as WidgetRender
from textual.reactive import reactive
from textual.widgets import Sparkline

# The one mapping from the Sparkline's glyphs (its BARS, and the blocks it draws for no data or one
# value) to ASCII: the insights screen shows no other character outside ASCII.
ASCII_BARS = str.maketrans({"▁": "_", "▂": ".", "▃": ",", "▄": "-", "▅": "=", "▆": "+", "▇": "*", "█": "#"})


class _Translated:
    """A renderable drawn by another, every character mapped through a table."""

    def __init__(self, inner: RenderableType, table: dict[int, str]) -> None:
        self.inner = inner
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        segments: Iterable[Segment] = console.render(self.inner, options)
        for segment in segments:
            yield Segment(segment.text.translate(self.table), segment.style, segment.control)


class Trend(Sparkline):
    """One bar a week, the oldest left; ``ascii`` draws the bars with :data:`ASCII_BARS`."""

    ascii: reactive[bool] = reactive(False)

    def render(self) -> WidgetRender:
        drawn = super().render()
        if not self.ascii:
            return drawn
        return _Translated(drawn, ASCII_BARS)  # type: ignore[arg-type]
