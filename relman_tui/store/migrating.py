"""What both stores' migrations share: which are pending, refusing a board a newer relman wrote."""

from __future__ import annotations

from collections.abc import Set

from relman_tui.errors import BadInput

OPEN_IT = "upgrade relman to open it"


def pending(applied: Set[str], known: Set[str], where: object, upgrade: str = OPEN_IT) -> set[str]:
    """The migrations ``known`` to this relman that ``applied`` lacks; :class:`BadInput` naming the newest
    unknown one when ``applied`` holds any (a newer relman wrote the board: ``upgrade`` says what to do)."""
    unknown = set(applied) - set(known)
    if unknown:
        raise BadInput(f"{where} was written by a newer relman (schema {max(unknown)}); {upgrade}")
    return set(known) - set(applied)
