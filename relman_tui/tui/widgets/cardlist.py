"""A stage column's cards, drawn line by line so a column of 10,000 releases costs what is on screen."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from relman_tui.model import Severity
from relman_tui.text import cell_len, truncate
from relman_tui.tui.viewmodel import Card, Cards

CARD_HEIGHT = 4  # three lines of card and one of space
_DRAG_THRESHOLD = 2


class CardList(ScrollView, can_focus=False):
    """The cards of one stage. The screen owns the cursor; this widget only draws and reports."""

    COMPONENT_CLASSES = {
        "cardlist--card",
        "cardlist--cursor",
        "cardlist--title",
        "cardlist--meta",
        "cardlist--error",
        "cardlist--warning",
        "cardlist--risk-high",
        "cardlist--risk-medium",
        "cardlist--failed",
        "cardlist--verified",
        "cardlist--approved",
        "cardlist--overdue",
        "cardlist--dragged",
    }

    class Clicked(Message):
        """A card was clicked without moving the mouse: select it."""

        def __init__(self, cardlist: CardList, release_id: int) -> None:
            super().__init__()
            self.cardlist = cardlist
            self.release_id = release_id

        @property
        def control(self) -> CardList:
            return self.cardlist

    class _Pointer(Message):
        def __init__(self, cardlist: CardList, release_id: int, x: int, y: int) -> None:
            super().__init__()
            self.cardlist = cardlist
            self.release_id = release_id
            self.x = x
            self.y = y

        @property
        def control(self) -> CardList:
            return self.cardlist

    class Dragging(_Pointer):
        """A card is being dragged; the pointer is at screen ``(x, y)``."""

    class Dropped(_Pointer):
        """A dragged card was let go at screen ``(x, y)``."""

    def __init__(self, stage: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stage = stage
        self.cards = Cards()
        self.cursor: int | None = None
        self.dragged_id: int | None = None
        self._press: tuple[int, int, int] | None = None  # release id, screen x, screen y
        self._dragging = False

    # -- data from the screen --------------------------------------------------------------

    def set_cards(self, cards: Cards) -> None:
        same = cards.same_as(self.cards)
        self.cards = cards
        if same:  # a change elsewhere on the board: nothing here to draw again
            return
        self.virtual_size = Size(self.scrollable_content_region.width, len(cards) * CARD_HEIGHT)
        self.refresh()

    def set_cursor(self, index: int | None, *, scroll: bool = True) -> None:
        if index is not None and not self.cards:
            index = None
        if index is not None:
            index = max(0, min(index, len(self.cards) - 1))
        if index != self.cursor:
            self.cursor = index
            self.refresh()
        if scroll and index is not None:
            self.scroll_to_region(
                Region(0, index * CARD_HEIGHT, 1, CARD_HEIGHT - 1), animate=False, immediate=True, force=True
            )

    def index_of(self, release_id: int) -> int | None:
        return self.cards.index_of(release_id)

    @property
    def page_cards(self) -> int:
        return max(1, self.scrollable_content_region.height // CARD_HEIGHT)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.cards) * CARD_HEIGHT)

    # -- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index, line = divmod(y + scroll_y, CARD_HEIGHT)
        if index >= len(self.cards) or line == CARD_HEIGHT - 1 or width <= 0:
            return Strip.blank(width, self.rich_style)
        card = self.cards[index]
        selected = index == self.cursor
        base = self.get_component_rich_style("cardlist--card")
        if selected:
            base = base + self.get_component_rich_style("cardlist--cursor")
        if card.release_id == self.dragged_id:
            base = base + self.get_component_rich_style("cardlist--dragged")
        gutter = Segment("▌" if selected else " ", base)
        inner = width - 2 if width >= 24 else width - 1
        if line == 0:
            parts = [(_title(card, inner), self.get_component_rich_style("cardlist--title"))]
        elif line == 1:
            parts = self._state_line(card)
        else:
            parts = self._window_line(card, inner)
        segments = [gutter]
        used = 0
        for text, style in parts:
            text = truncate(text, inner - used)
            if not text:
                break
            segments.append(Segment(text, base + style))
            used += cell_len(text)
        segments.append(Segment(" " * (width - 1 - used), base))
        return Strip(segments, width).crop(scroll_x, scroll_x + width)

    def _state_line(self, card: Card) -> list[tuple[str, Style]]:
        meta = self.get_component_rich_style("cardlist--meta")
        state_style = {
            "failed": self.get_component_rich_style("cardlist--failed"),
            "verified": self.get_component_rich_style("cardlist--verified"),
        }.get(card.state, meta)
        risk_style = {
            "high": self.get_component_rich_style("cardlist--risk-high"),
            "medium": self.get_component_rich_style("cardlist--risk-medium"),
        }.get(card.risk, meta)
        approved = self.get_component_rich_style("cardlist--approved")
        parts = [(card.state, state_style), (" · ", meta), (card.risk, risk_style)]
        long = [*parts[:2], (f"{card.risk} risk", risk_style)]
        if card.approved:
            parts.append((" ✓", approved))
            long.append((" · ✓ approved", approved))
        width = self.scrollable_content_region.width
        room = width - 2 if width >= 24 else width - 1
        return long if sum(cell_len(text) for text, _ in long) <= room else parts

    def _window_line(self, card: Card, inner: int) -> list[tuple[str, Style]]:
        meta = self.get_component_rich_style("cardlist--meta")
        mark = ""
        mark_style = meta
        if card.conflict is Severity.ERROR:
            mark, mark_style = f"✖ {card.conflict_count}", self.get_component_rich_style("cardlist--error")
        elif card.conflict is Severity.WARNING:
            mark, mark_style = f"⚠ {card.conflict_count}", self.get_component_rich_style("cardlist--warning")
        window_style = self.get_component_rich_style("cardlist--overdue") if card.overdue else meta
        text = card.next_window or "no window"
        room = inner - (cell_len(mark) + 1 if mark else 0)
        text = truncate(text, room)
        gap = max(0, inner - cell_len(text) - cell_len(mark))
        return [(text, window_style), (" " * gap, meta), (mark, mark_style)]

    # -- the mouse: click to select, drag to move ------------------------------------------

    def _card_at(self, y: int) -> int | None:
        index, line = divmod(y + int(self.scroll_offset.y), CARD_HEIGHT)
        if index < len(self.cards) and line < CARD_HEIGHT - 1:
            return index
        return None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1:
            return
        index = self._card_at(event.y)
        if index is None:
            return
        self._press = (self.cards.release_id(index), event.screen_x, event.screen_y)
        self._dragging = False
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._press is None:
            return
        release_id, x0, y0 = self._press
        if not self._dragging and (abs(event.screen_x - x0) >= _DRAG_THRESHOLD or event.screen_y != y0):
            self._dragging = True
            self.dragged_id = release_id
            self.refresh()
        if self._dragging:
            self.post_message(self.Dragging(self, release_id, event.screen_x, event.screen_y))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._press is None:
            return
        release_id = self._press[0]
        dragging = self._dragging
        self._press = None
        self._dragging = False
        self.dragged_id = None
        self.release_mouse()
        self.refresh()
        if dragging:
            self.post_message(self.Dropped(self, release_id, event.screen_x, event.screen_y))
        else:
            self.post_message(self.Clicked(self, release_id))


def _title(card: Card, width: int) -> str:
    """``name version`` in ``width`` cells: the name gives way first, the version stays whole."""
    if cell_len(card.title) <= width:
        return card.title
    version = truncate(card.version, max(4, width // 2))
    return f"{truncate(card.name, max(1, width - cell_len(version) - 1))} {version}"
