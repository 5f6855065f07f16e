"""The errors every face of relman turns into a one-line message and an exit status."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relman_tui.model import Release


class RelmanError(Exception):
    """Base of every error meant for a person; ``str()`` is the one-line message."""

    exit_code = 2


class BadInput(RelmanError):
    """Bad usage or bad input: unknown id or stage, bad time, bad TOML, unreadable database."""

    exit_code = 2


class Refused(RelmanError):
    """A rule said no: a gate, a freeze, a stale write."""

    exit_code = 1

    def __init__(self, message: str, gates: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.gates = gates


class GateRefused(Refused):
    """A move failed one or more gates; ``force`` with a reason would override them."""

    def __init__(self, message: str, gates: tuple[str, ...] = (), explanation: str = "") -> None:
        super().__init__(message, gates)
        self.explanation = explanation or message


class StaleWrite(Refused):
    """The release changed since the operator saw it; nothing was written."""

    def __init__(self, message: str, fresh: Release, changed_by: str | None) -> None:
        super().__init__(message)
        self.fresh = fresh
        self.changed_by = changed_by
