"""A stage column: its header (title, count against capacity, freeze) above its cards."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from relman_tui.tui.viewmodel import Column
from relman_tui.tui.widgets.cardlist import CardList


class ColumnHeader(Static):
    """Two lines: the title and count, then capacity, approval or the freeze."""

    def show(self, column: Column, shown: int) -> None:
        count = f"{shown}/{column.count}" if shown != column.count else str(column.count)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(column.title, style="bold")
        text.append(f"  {count}")
        text.append("\n")
        if column.frozen_until:
            text.append(f"❄ frozen until {column.frozen_until}", style="bold")
        else:
            details = []
            if column.capacity is not None:
                details.append(f"cap {column.capacity}")
            if column.requires_approval:
                details.append("approval")
            text.append(" · ".join(details) or "not yet deployed")
        self.set_class(bool(column.frozen_until), "-frozen")
        self.update(text)


class StageColumn(Vertical):
    """One stage of the pipeline on the board."""

    def __init__(self, stage: str) -> None:
        super().__init__(classes="stage-column")
        self.stage = stage
        self.column: Column | None = None

    def compose(self) -> ComposeResult:
        yield ColumnHeader(classes="column-header")
        yield CardList(self.stage)

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
