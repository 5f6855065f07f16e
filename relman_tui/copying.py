"""`relman copy`: a whole board, with its full history, from one store into an empty one; verified on both sides."""

from __future__ import annotations

from dataclasses import dataclass

from relman_tui import chain
from relman_tui.errors import BadInput, Refused
from relman_tui.store import BoardStore


@dataclass(frozen=True, slots=True)
class Copied:
    """What `relman copy` moved, and the hash of the log's last event on both sides."""

    releases: int
    events: int
    environments: int
    freezes: int
    last_hash: str | None


def copy_board(source: BoardStore, target: BoardStore) -> Copied:
    """Copy everything in ``source`` into ``target``, which must be empty; all or nothing.

    The source's log must verify before anything is written; the target takes the events with
    their original seqs, actors, times and hashes (PostgreSQL checks each link as it arrives)
    and verifies the whole chain before it commits; afterwards the copy is read back and must
    hold exactly the source's history.
    """
    dump = source.dump()
    before = chain.verify(dump.settings.get("board_id", ""), dump.events)
    if not before.ok:
        raise Refused(f"the log of {source.name} does not verify ({before.problem}); nothing was copied")
    target.load_copy(dump)
    copied = target.dump()
    after = chain.verify(copied.settings.get("board_id", ""), copied.events)
    if not after.ok or copied.events != dump.events or copied.releases != dump.releases:
        raise BadInput(
            f"the copy in {target.name} does not match {source.name} after writing it "
            f"({after.problem or 'the history differs'})"
        )
    return Copied(
        len(copied.releases), len(copied.events), len(copied.environments), len(copied.freezes), after.last_hash
    )
