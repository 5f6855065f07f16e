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
from relman_tui.tui.cells import cell_len, cut_words, truncate, wrap_words
from relman_tui.tui.textual_private import Guarded
from relman_tui.tui.viewmodel import Card, Cards

CARD_HEIGHT = 5  # four lines of card and one of space
TITLE_LINES_MAX = 4  # the card under the cursor grows to show its whole name, up to this
_DRAG_THRESHOLD = 2

Part = tuple[str, Style]


class CardList(Guarded, ScrollView, can_focus=False):
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
        "cardlist--step",
        "cardlist--step-ready",
        "cardlist--step-failed",
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
        self._extra = 0  # lines the card under the cursor takes beyond CARD_HEIGHT
        self.dragged_id: int | None = None
        self._press: tuple[int, int, int] | None = None  # release id, screen x, screen y
        self._dragging = False

    # -- data from the screen --------------------------------------------------------------

    def set_cards(self, cards: Cards) -> None:
        same = cards.same_as(self.cards)
        self.cards = cards
        if same:  # a change elsewhere on the board: nothing here to draw again
            return
        self._resize_virtual()
        self.refresh()

    def _resize_virtual(self) -> None:
        self._extra = 0
        if self.cursor is not None and self.cursor < len(self.cards):
            self._extra = len(self._title_lines(self.cards[self.cursor], self._inner, full=True)) - 1
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.cards) * CARD_HEIGHT + self._extra)

    @property
    def _inner(self) -> int:
        width = self.scrollable_content_region.width
        return width - 2 if width >= 24 else width - 1

    def set_cursor(self, index: int | None, *, scroll: bool = True) -> None:
        if index is not None and not self.cards:
            index = None
        if index is not None:
            index = max(0, min(index, len(self.cards) - 1))
        if index != self.cursor:
            self.cursor = index
            self._resize_virtual()
            self.refresh()
        if scroll and index is not None:
            self.scroll_to_region(
                Region(0, index * CARD_HEIGHT, 1, CARD_HEIGHT - 1 + self._extra),
                animate=False,
                immediate=True,
                force=True,
            )

    def _locate(self, y: int) -> tuple[int, int]:
        """The card and its line at virtual line ``y`` (the card under the cursor may be taller)."""
        cursor, extra = self.cursor, self._extra
        if cursor is None or y < cursor * CARD_HEIGHT:
            return divmod(y, CARD_HEIGHT)
        if y < (cursor + 1) * CARD_HEIGHT + extra:
            return cursor, y - cursor * CARD_HEIGHT
        return divmod(y - extra, CARD_HEIGHT)

    def index_of(self, release_id: int) -> int | None:
        return self.cards.index_of(release_id)

    @property
    def page_cards(self) -> int:
        return max(1, self.scrollable_content_region.height // CARD_HEIGHT)

    def on_resize(self, event: events.Resize) -> None:
        self._resize_virtual()

    # -- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index, line = self._locate(y + scroll_y)
        if width <= 0 or index >= len(self.cards):
            return Strip.blank(width, self.rich_style)
        card = self.cards[index]
        selected = index == self.cursor
        lines = self._card_lines(card, self._inner, selected)
        if line >= len(lines):
            return Strip.blank(width, self.rich_style)
        base = self.get_component_rich_style("cardlist--card")
        if selected:
            base = base + self.get_component_rich_style("cardlist--cursor")
        if card.release_id == self.dragged_id:
            base = base + self.get_component_rich_style("cardlist--dragged")
        segments = [Segment("▌" if selected else " ", base)]
        used = 0
        for text, style in lines[line]:
            text = truncate(text, self._inner - used)
            if not text:
                break
            segments.append(Segment(text, base + style))
            used += cell_len(text)
        segments.append(Segment(" " * (width - 1 - used), base))
        return Strip(segments, width).crop(scroll_x, scroll_x + width)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"cardlist--{name}")

    @staticmethod
    def _title_lines(card: Card, inner: int, full: bool) -> list[str]:
        """The title: whole on one line if it fits; under the cursor, wrapped to show all of it;
        else the name alone, cut at a word (the version then leads the next line)."""
        if cell_len(card.title) <= inner:
            return [card.title]
        if full:
            return wrap_words(card.title, inner, TITLE_LINES_MAX)
        return [cut_words(card.name, inner)]

    def _card_lines(self, card: Card, inner: int, selected: bool) -> list[list[Part]]:
        """Title; version or state with the risk; the next step with the approval mark; the next window
        with the conflict mark. Marks on the right are placed first, so they are never cut."""
        meta = self._style("meta")
        titles = self._title_lines(card, inner, selected)
        out: list[list[Part]] = [[(text, self._style("title"))] for text in titles]
        moved_version = len(titles) == 1 and titles[0] != card.title
        state_style = {"failed": self._style("failed"), "verified": self._style("verified")}.get(card.state, meta)
        risk_style = {"high": self._style("risk-high"), "medium": self._style("risk-medium")}.get(card.risk, meta)
        lead = (cut_words(card.version, inner), self._style("title")) if moved_version else (card.state, state_style)
        risk = f"{card.risk} risk"
        if cell_len(lead[0]) + 3 + cell_len(risk) > inner:
            risk = card.risk
        out.append(_spread([lead], [(risk, risk_style)], inner, meta, gap=" · "))
        step_style = (
            self._style("step-ready")
            if card.next_step.startswith(("ready", "live"))
            else self._style("step-failed")
            if card.state == "failed"
            else self._style("step")
        )
        right: list[Part] = []
        step: Part = (card.next_step, step_style)
        if card.unapproved:  # break-glass: in place of the next step (which is an approval), never cut
            step = ("⚑ UNAPPROVED" if inner >= 12 else "⚑", self._style("error"))
        elif card.approved:
            right = [("✓ approved" if cell_len(card.next_step) + 11 <= inner else "✓", self._style("approved"))]
        out.append(_spread([step], right, inner, meta))
        mark = ""
        mark_style = meta
        if card.conflict is Severity.ERROR:
            mark, mark_style = f"✖ {card.conflict_count}", self._style("error")
        elif card.conflict is Severity.WARNING:
            mark, mark_style = f"⚠ {card.conflict_count}", self._style("warning")
        if card.hook_failed:
            mark, mark_style = f"hook ✖ {mark}".strip(), self._style("error")
        window_style = self._style("overdue") if card.overdue else meta
        if mark and cell_len(card.next_window) + 1 + cell_len(mark) > inner:
            mark = mark.replace(" ", "")  # "✖3": the window keeps its words
        out.append(
            _spread(
                [(card.next_window or "no window", window_style)], [(mark, mark_style)] if mark else [], inner, meta
            )
        )
        return out

    # -- the mouse: click to select, drag to move ------------------------------------------

    def _card_at(self, y: int) -> int | None:
        index, line = self._locate(y + int(self.scroll_offset.y))
        last = CARD_HEIGHT - 1 + (self._extra if index == self.cursor else 0)
        if index < len(self.cards) and line < last:
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


def _spread(left: list[Part], right: list[Part], width: int, gap_style: Style, gap: str = "") -> list[Part]:
    """``left`` then ``right`` on one line of ``width`` cells: ``right`` keeps its room, ``left`` is cut at
    a word; ``gap`` joins them when both fit side by side, else they go to the two ends."""
    right_len = sum(cell_len(text) for text, _ in right)
    room = width - right_len - (1 if right else 0)
    parts: list[Part] = []
    used = 0
    for text, style in left:
        cut = cut_words(text, room - used)
        if cut:
            parts.append((cut, style))
            used += cell_len(cut)
    if not right:
        return parts
    if gap and used + cell_len(gap) + right_len <= width:
        return [*parts, (gap, gap_style), *right]
    return [*parts, (" " * max(1, width - used - right_len), gap_style), *right]
