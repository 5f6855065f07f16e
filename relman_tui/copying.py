"""`relman copy`: a whole board, with its full history, from one store into an empty one; verified on both sides."""

from __future__ import annotations

import json
from dataclasses import dataclass

from relman_tui import admins as admin_rules
from relman_tui.actions import Action
from relman_tui.details import Details
from relman_tui.errors import BadInput, Refused
from relman_tui.store import BoardStore, NewEvent
from relman_tui.timeutil import Clock, SystemClock


@dataclass(frozen=True, slots=True)
class Copied:
    """What `relman copy` moved, and the hash of the log's last event on both sides."""

    releases: int
    events: int
    environments: int
    freezes: int
    last_hash: str | None


def copy_board(source: BoardStore, target: BoardStore, actor: str, clock: Clock | None = None) -> Copied:
    """Copy everything in ``source`` into ``target``, which must be empty; all or nothing.

    The source must verify as `relman log --verify` checks it (chain, time order, rules, replay against
    its tables) before anything is written; the target takes the events with their original seqs,
    actors, times and hashes, and one ``board_copied`` event by ``actor``, who becomes the copy's first
    admin (beside the source's); afterwards the copy must verify the same way and hold the source's history.
    """
    from relman_tui.service import Service

    clock = clock or SystemClock()
    before = Service(source, clock, actor).verify_log()
    if not before.ok:
        raise Refused(f"{source.name} does not verify ({before.problem}); nothing was copied")
    dump = source.dump()
    target.load_copy(dump)
    copier = Service(target, clock, actor)
    with target.write():
        old = list(copier.admins())
        admins = [actor, *(a for a in old if a.casefold() != actor.casefold())]
        target.set_setting(admin_rules.ADMINS, json.dumps(admins))
        details: Details = {"from": source.name, "admins": admins, "old_admins": old}
        target.append_event(NewEvent(Action.BOARD_COPIED, details=details), actor, copier.now())
    copied = target.dump()
    after = copier.verify_log()
    if not after.ok or copied.events[: len(dump.events)] != dump.events or copied.releases != dump.releases:
        raise BadInput(
            f"the copy in {target.name} does not match {source.name} after writing it "
            f"({after.problem or 'the history differs'})"
        )
    return Copied(
        len(copied.releases), len(copied.events), len(copied.environments), len(copied.freezes), after.last_hash
    )
