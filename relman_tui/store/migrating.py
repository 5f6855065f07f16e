"""The one migration runner both stores use: which migrations are due, refusing a newer board, applying the rest."""

from __future__ import annotations

from collections.abc import Sequence, Set
from contextlib import AbstractContextManager
from typing import Protocol

from relman_tui.errors import BadInput

OPEN_IT = "upgrade relman to open it"


class Ledger(Protocol):
    """Where a backend records which migrations a board has: enough to tell what is due."""

    @property
    def names(self) -> Sequence[str]:
        """Every migration this relman knows, in the order they apply."""
        ...

    def applied(self) -> Set[str]:
        """The names recorded as applied to the board (none on a fresh one)."""
        ...


class Migrator(Ledger, Protocol):
    """A ledger that can also apply: a backend's lock, its transactions and how it runs one migration."""

    def locked(self) -> AbstractContextManager[None]:
        """Held around a whole run, so that one relman migrates a board at a time (a no-op where the backend
        has no lock that outlives a transaction)."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """One migration's transaction: everything inside lands together, or nothing does."""
        ...

    def apply(self, name: str) -> None:
        """Run the migration ``name`` and record it as applied (inside :meth:`transaction`)."""
        ...


def pending(applied: Set[str], known: Set[str], where: object, upgrade: str = OPEN_IT) -> set[str]:
    """The migrations ``known`` to this relman that ``applied`` lacks; :class:`BadInput` naming the newest
    unknown one when ``applied`` holds any (a newer relman wrote the board: ``upgrade`` says what to do)."""
    unknown = set(applied) - set(known)
    if unknown:
        raise BadInput(f"{where} was written by a newer relman (schema {max(unknown)}); {upgrade}")
    return set(known) - set(applied)


def due(ledger: Ledger, where: object, upgrade: str = OPEN_IT) -> list[str]:
    """The migrations the board behind ``ledger`` still needs, in order; refuses a board a newer relman wrote."""
    missing = pending(ledger.applied(), set(ledger.names), where, upgrade)
    return [name for name in ledger.names if name in missing]


def migrate(migrator: Migrator, where: object, upgrade: str = OPEN_IT) -> list[str]:
    """Apply what is due, in order, each migration in its own transaction with its record; returns the names
    applied. A migration that fails leaves itself unrecorded and the board as the one before it left it."""
    done: list[str] = []
    with migrator.locked():
        for name in due(migrator, where, upgrade):
            with migrator.transaction():
                # asked again inside the transaction: another relman may have applied it meanwhile (a SQLite
                # file has no lock that spans the run, only each migration's write transaction)
                if name not in due(migrator, where, upgrade):
                    continue
                migrator.apply(name)
            done.append(name)
    return done
