"""The footer: the keys that act now, from the screen's key table; the priority keys always fit."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from relman_tui.tui.cells import cell_len
from relman_tui.tui.keys import Allowed, Key, KeyTable
from relman_tui.tui.textual_private import Guarded


class KeyBar(Guarded, Widget):
    """One line of ``key label`` pairs; the keys ranked first (``q`` ``?`` ``/``) sit at the right and never drop."""

    COMPONENT_CLASSES = {"keybar--key", "keybar--label"}

    def __init__(self, table: KeyTable, allowed: Allowed) -> None:
        super().__init__()
        self._table = table
        self._allowed = allowed

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _: self.refresh())

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def shown(self) -> list[Key]:
        """The keys drawn at the current width, left to right."""
        return [key for key, _ in self._layout(self.size.width)]

    def _layout(self, width: int) -> list[tuple[Key, bool]]:
        first, rest = self._table.footer(self._allowed)
        room = width - sum(_width(k) for k in first)
        left = []
        for key in rest:
            if _width(key) > room:
                continue  # a shorter one further on may still fit
            left.append(key)
            room -= _width(key)
        return [(k, False) for k in left] + [(k, True) for k in first]

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        label_style = self.get_component_rich_style("keybar--label")
        width = self.size.width
        layout = self._layout(width)
        text = Text(no_wrap=True, overflow="crop")
        used = 0
        for key, priority in layout:
            if priority and used < width - sum(_width(k) for k, p in layout if p):
                gap = width - used - sum(_width(k) for k, p in layout if p)
                text.append(" " * gap, label_style)
                used += gap
            text.append(f" {key.footer_key} ", key_style)
            text.append(f"{key.label} ", label_style)
            used += _width(key)
        return text


def _width(key: Key) -> int:
    return cell_len(key.footer_key) + cell_len(key.label) + 3
