"""The service's log: verifying it (`relman log --verify`), the tables replay sees, checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from relman_tui import chain, replay
from relman_tui.actions import Action
from relman_tui.details import CheckpointDetails
from relman_tui.service_base import ServiceBase
from relman_tui.store.contract import NewEvent


class LogUses(ServiceBase):
    """Reading and checking the board's log."""

    def verify_log(self, seen: Sequence[tuple[int, str, str, bool]] = ()) -> chain.Verdict:
        """Check the log (`relman log --verify`): its hash chain, what this account saw before, time order,
        the rules at each event's time, and that replaying it gives the stored tables.

        ``seen`` holds ``(seq, hash, when, whole)`` points this account verified before: the event at that
        seq must still carry that hash, or the log was rewritten since — chain and all; with ``whole``
        it must still be there (a point seen in another copy of the board may lie past this log's end).
        """
        from relman_tui import audit

        with self.store.read():
            events = self.store.stored_events()
            board_id = self.store.board_id()
            verdict = chain.verify(board_id, events)
            table = self.table_state()
        if not verdict.ok:
            return verdict
        by_seq = {e.seq: e for e in events}
        for seq, known, when, whole in seen:
            found = by_seq.get(seq)
            if found is None and not whole:
                continue
            if found is None:
                problem = f"event #{seq}, which you verified at {when}, is gone: the log was cut short"
            elif found.hash != known:
                problem = (
                    f"event #{seq} no longer has the hash you verified at {when}: the log was rewritten "
                    "and its chain recomputed"
                )
            else:
                continue
            return replace(verdict, broken_at=seq, problem=problem, last_hash=None, check="witness")
        return audit.judge(verdict, events, table, board_id, server=self.store.server_account() is not None)

    def table_state(self) -> replay.BoardState:
        """The stored tables as replay sees them (inside the caller's read or write)."""
        return replay.table_state(
            self.store.settings(),
            self.store.environments(),
            self.store.releases(include_cancelled=True),
            self.store.freezes(),
            self.hooks(),
        )

    def checkpoint(self, reason: str) -> int:
        """Log the whole state as it stands (``state_checkpoint``): what a seeded demo's history cannot replay.
        Inside the caller's write."""
        details: CheckpointDetails = {
            "board_id": self.store.board_id(),
            "state": self.table_state().as_json(),
            "reason": reason,
        }
        return self._log(NewEvent(Action.STATE_CHECKPOINT, details=details), self.now())
