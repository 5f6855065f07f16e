"""A stage column: its header (title, count against capacity, freeze) above its cards."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from relman_tui.tui.cells import cell_len, truncate
from relman_tui.tui.textual_private import Guarded
from relman_tui.tui.viewmodel import Cards, Column
from relman_tui.tui.widgets.cardlist import CardList


class ColumnHeader(Guarded, Widget):
    """The title and count, then capacity and approval; a frozen column has the freeze between them. Cut to fit."""

    def __init__(self, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._column: Column | None = None
        self._shown = 0

    def show(self, column: Column, shown: int) -> None:
        if (column, shown) == (self._column, self._shown):
            return
        self._column, self._shown = column, shown
        self.set_class(bool(column.frozen_until), "-frozen")
        self.refresh()

    def render(self) -> Text:
        column = self._column
        if column is None:
            return Text()
        width = max(1, self.content_region.width)
        count = f"{self._shown}/{column.count}" if self._shown != column.count else str(column.count)
        title = truncate(column.title, max(1, width - cell_len(count) - 2))
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(title, style="bold")
        text.append(" " * max(2, width - cell_len(title) - cell_len(count)) + count)
        text.append("\n")
        details = []
        if column.capacity is not None:
            details.append(f"cap {column.capacity}")
        if column.requires_approval:
            details.append("approval")
        detail = " · ".join(details) or "not yet deployed"
        if column.frozen_until:
            # the longest that fits whole: the end of the freeze is never cut; the rules on the line below
            until = column.frozen_until
            choices = [f"❄ frozen until {until}", f"❄ until {until}", f"❄ {until}", "❄ frozen"]
            frozen = next((c for c in choices if cell_len(c) <= width), choices[-1])
            text.append(truncate(frozen, width), style="bold")
            text.append("\n")
        text.append(truncate(detail, width))
        return text


class StageColumn(Guarded, Vertical):
    """One stage of the pipeline on the board."""

    def __init__(self, stage: str, column: Column | None = None, cards: Cards | None = None) -> None:
        """``column`` and ``cards``, when already known, are drawn in the very first frame."""
        super().__init__(classes="stage-column")
        self.stage = stage
        self.column = column
        self._first_cards = cards

    def compose(self) -> ComposeResult:
        header = ColumnHeader(classes="column-header")
        cards = CardList(self.stage)
        if self.column is not None and self._first_cards is not None:
            header.show(self.column, len(self._first_cards))
            cards.set_cards(self._first_cards)
        yield header
        yield cards

    @property
    def cards(self) -> CardList:
        return self.query_one(CardList)

    def show(self, column: Column, cards_shown: int) -> None:
        self.column = column
        self.query_one(ColumnHeader).show(column, cards_shown)
        if column.frozen_until:
            self.tooltip = f"frozen: {column.frozen_reason}"
        else:
            self.tooltip = None
