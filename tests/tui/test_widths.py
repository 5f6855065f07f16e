"""Cards measure names as Textual draws them (Rich's grapheme widths): an emoji with a skin tone is two cells."""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len

from .conftest import loaded, make_app, other, screen_text

NAMES = ["👍🏽👍🏽👍🏽 thumbs", "名前の長いサービス", "cafe\u0301 service", "plain service"]


def separators(line: str) -> list[int]:
    """The cell offsets of the column separators drawn on ``line``."""
    return [cell_len(line[:i]) for i, char in enumerate(line) if char == "▕"]


async def test_cards_with_skin_tones_and_wide_names_fit_as_drawn_and_keep_the_columns_in_line(
    empty_board: Path,
) -> None:
    setup = other(empty_board, "setup")
    for name in NAMES:
        setup.add_release(name, "1.0")
    setup.store.close()
    app = make_app(empty_board)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        lines = screen_text(app).splitlines()
    titles = [line[1:].split("▕")[0].rstrip() for line in lines]
    # 17 cells as drawn (the old measure said 23: the card cut the name in a column 18 cells wide)
    assert "👍🏽👍🏽👍🏽 thumbs 1.0" in titles
    assert "cafe\u0301 service 1.0" in titles
    assert "名前の長いサービス" in titles  # 18 cells: the version goes to the next line
    columns = [separators(line) for line in lines if "▕" in line]
    assert len(columns) > 20 and all(c == columns[0] for c in columns), columns
