"""Text cut to cells by the measure Textual draws with (Rich's), so a card's layout and its drawing agree."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import split_graphemes

from relman_tui.text import Cells


def drawn_clusters(text: str) -> Iterable[tuple[str, int]]:
    """``text`` as Rich splits and measures it when Textual draws it."""
    spans, _ = split_graphemes(text)
    return [(text[start:end], width) for start, end, width in spans]


DRAWN = Cells(drawn_clusters)
cell_len = DRAWN.len
truncate = DRAWN.truncate
pad = DRAWN.pad
cut_words = DRAWN.cut_words
wrap_words = DRAWN.wrap_words
