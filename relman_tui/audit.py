"""`relman log --verify` beyond the chain: time order, the rules at each event's time, and replay against the tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from relman_tui import replay
from relman_tui.actions import Action
from relman_tui.chain import StoredEvent, Verdict
from relman_tui.details import parse


def judge(
    verdict: Verdict, events: Sequence[StoredEvent], table: replay.BoardState, board_id: str, *, server: bool = False
) -> Verdict:
    """``verdict`` (the chain's, which held) with what replaying ``events`` says about them and ``table``."""
    result = replay.replay(events, server_admins=server)
    base = replace(verdict, replayed_from=result.start, fixed_clock=result.fixed_clock)
    if result.problem:
        return replace(base, broken_at=result.at_seq, problem=result.problem, check=result.kind, last_hash=None)
    said = _board_id_in_log(events)
    if said is not None and said[1] != board_id:
        problem = f"the board id is {board_id or 'none'} in the table, {said[1]} in the log (event #{said[0]})"
        return replace(base, problem=problem, check="replay", last_hash=None)
    difference = replay.first_difference(table, result.state)
    if difference:
        return replace(base, problem=difference, check="replay", last_hash=None)
    return base


def _board_id_in_log(events: Sequence[StoredEvent]) -> tuple[int, str] | None:
    """The board id the latest board_created or state_checkpoint event recorded."""
    for event in reversed(events):
        if event.action in (Action.BOARD_CREATED, Action.STATE_CHECKPOINT):
            value = parse(event.details).get("board_id")
            return (event.seq, value) if value else None
    return None


def verdict_words(verdict: Verdict) -> str:
    """What `relman log --verify` (and the board's warning bar) says about a verdict, in one line."""
    if not verdict.ok:
        lead = {
            "replay": "the board does not match its log",
            "rules": "the log records a change against the rules",
            "time": "the log's times go backwards",
        }.get(verdict.check, "the audit log was tampered with")
        return f"{lead}: {verdict.problem}"
    text = f"log verified: {verdict.events} events, the hash chain holds, the replay matches the board"
    if verdict.replayed_from:
        text += f"; replayed from the state checkpoint #{verdict.replayed_from} (history before it is not replayable)"
    if verdict.fixed_clock:
        text += "; a fixed-clock board: event times were not checked for order"
    return text + (f" (latest #{verdict.last_seq} {verdict.last_hash[:12]})" if verdict.last_hash else "")
