"""Who may change the board's rules (its admins), and that nobody grants a power to themselves (pure).

DESIGN "Who acts": the board's ``admins`` setting lists the accounts that may change settings,
environments, hooks and import a board file; the board's creator is the first. An admin adds
another account, never themselves; the same holds for ``delegates``. A change made through a
delegate (``--as``) needs both the named actor and the delegate account to be admins: a CI
runner acting "as" an admin gains nothing it did not have.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

ADMINS = "admins"
FIXED_CLOCK = "fixed_clock"
GRANTS = ("admins", "delegates")  # settings listing accounts that gain a power


def accounts(raw: str) -> tuple[str, ...]:
    """A stored JSON list of accounts (``admins``, ``delegates``); anything else is none."""
    try:
        value = json.loads(raw)
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _folded(names: Iterable[str]) -> set[str]:
    return {n.casefold() for n in names}


def admin_problem(actor: str, via: str | None, admins: Sequence[str], what: str) -> str | None:
    """Why ``actor`` (through ``via``) may not ``what``, or ``None`` when every account involved is an admin."""
    allowed = _folded(admins)
    for account in (actor, via):
        if account is not None and account.casefold() not in allowed:
            listed = ", ".join(admins) or "none"
            return f"only the board's admins may {what}; {account} is not one (admins: {listed})"
    return None


def self_grant_problem(actor: str, via: str | None, key: str, old: Sequence[str], new: Sequence[str]) -> str | None:
    """Why this change of ``admins`` or ``delegates`` is a self-grant, or ``None``."""
    if key not in GRANTS:
        return None
    added = _folded(new) - _folded(old)
    for account in (actor, via):
        if account is not None and account.casefold() in added:
            return f"nobody adds themselves to {key}: {account} must be added by another admin"
    return None
