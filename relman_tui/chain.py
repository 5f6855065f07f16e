"""The audit log's hash chain: each event's hash covers its content and the previous event's hash (pure).

As in git or CloudTrail's digest files, changing any stored event — its actor, its time, a
reason — changes its hash, and every hash after it. `relman log --verify` recomputes the
chain and names the first event that no longer matches.

The content is a plain join of the stored text of each column, so a PostgreSQL trigger can
compute exactly the same hash with ``sha256()`` and ``concat_ws()``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from relman_tui.details import Details, parse

FIELD_SEP = "\x1f"  # ASCII unit separator: no stored name or text may contain control characters
LINK_SEP = "\x1e"  # ASCII record separator, between the previous hash and the content
CHAIN_STARTED = "log_chain_started"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the events table, as stored (times and details as their stored text)."""

    seq: int
    at: str
    actor: str
    via: str | None
    release: int | None
    action: str
    from_: str | None
    to: str | None
    forced: bool
    reason: str | None
    details: str | None
    hash: str | None


def details_text(details: Details | None) -> str | None:
    """The stored form of an event's details: compact JSON with sorted keys, or ``None``."""
    if not details:
        return None
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def genesis(board_id: str) -> str:
    """The "previous hash" of a board's first chained event: ties the chain to the board's id."""
    return _sha256(f"relman-board{LINK_SEP}{board_id}")


def content(event: StoredEvent) -> str:
    fields = (
        str(event.seq),
        event.at,
        event.actor,
        event.via or "",
        "" if event.release is None else str(event.release),
        event.action,
        event.from_ or "",
        event.to or "",
        "1" if event.forced else "0",
        event.reason or "",
        event.details or "",
    )
    return FIELD_SEP.join(fields)


def link(previous: str, event: StoredEvent) -> str:
    """The hash of ``event`` chained after ``previous``."""
    return _sha256(previous + LINK_SEP + content(event))


def digest(events: Iterable[StoredEvent]) -> str:
    """One hash over the content of events written before the chain existed (the migration's event)."""
    hasher = hashlib.sha256()
    for event in events:
        hasher.update(content(event).encode("utf-8", "surrogateescape"))
        hasher.update(LINK_SEP.encode())
    return hasher.hexdigest()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `relman log --verify` found."""

    events: int  # rows read
    chained: int  # rows covered by the chain (the rest predate it and are covered by a digest)
    broken_at: int | None  # seq of the first event that does not match, or None
    problem: str  # one sentence; empty when the chain holds
    last_seq: int
    last_hash: str | None
    check: str = ""  # which check failed: "chain", "witness", "time", "rules", "replay"; empty when all hold
    replayed_from: int = 0  # seq of the state checkpoint replay started from (0: the board's first event)
    fixed_clock: bool = False  # a fixed-clock board: event times were not checked for order

    @property
    def ok(self) -> bool:
        return not self.problem


def verify(board_id: str, events: Sequence[StoredEvent]) -> Verdict:
    """Check the whole chain, oldest first. Events before the chain started must be covered by
    the ``log_chain_started`` event's digest; after it, every event must carry its link."""
    previous = genesis(board_id)
    chained = 0
    unchained: list[StoredEvent] = []
    started = False
    last_seq, last_hash = 0, None
    for event in events:
        last_seq = event.seq
        if event.hash is None:
            if started:
                return _broken(events, chained, event.seq, "has no hash though the chain had started before it")
            unchained.append(event)
            continue
        if not started and unchained:
            # the first chained event must be the migration's, vouching for everything before it
            if event.action != CHAIN_STARTED:
                first = unchained[0].seq
                return _broken(events, chained, first, "predates the chain and no chain start vouches for it")
            said = parse(event.details)
            if said.get("events_before") != len(unchained) or said.get("digest") != digest(unchained):
                first = unchained[0].seq
                return _broken(
                    events,
                    chained,
                    first,
                    "predates the chain and was changed after the chain started "
                    "(the digest of the earlier events no longer matches)",
                )
        started = True
        expected = link(previous, event)
        if event.hash != expected:
            return _broken(events, chained, event.seq, "does not match its hash: it was changed after it was written")
        previous = expected
        last_hash = expected
        chained += 1
    if unchained and not started:
        # an unhashed log vouched for by nothing: the chain was stripped (or never started)
        return _broken(events, chained, unchained[0].seq, "has no hash and no chain start vouches for it")
    return Verdict(len(events), chained, None, "", last_seq, last_hash)


def _broken(events: Sequence[StoredEvent], chained: int, seq: int, why: str) -> Verdict:
    return Verdict(len(events), chained, seq, f"event #{seq} {why}", seq, None, "chain")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
