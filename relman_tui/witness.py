"""What this account has seen of each board's log: the latest verified (seq, hash), kept outside the board.

The hash chain alone shows a naive rewrite; someone who can write the file could still rewrite
an event *and* recompute every hash after it. The account that verified the log earlier kept
the hash it saw, in its own state directory: a recomputed chain no longer has that hash at that
seq, and `relman log --verify` (and the board at start) say so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from relman_tui.chain import Verdict
from relman_tui.settings import state_dir
from relman_tui.timeutil import to_stamp

if TYPE_CHECKING:
    from relman_tui.service import Service

MAX_BOARDS = 200  # remembered boards; the oldest are forgotten first


@dataclass(frozen=True, slots=True)
class Seen:
    seq: int
    hash: str
    at: str  # when it was verified, UTC stamp


def _path() -> Path:
    return state_dir() / "witness.json"


def _load_all() -> dict[str, dict[str, object]]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load(board_id: str) -> Seen | None:
    item = _load_all().get(board_id)
    if not isinstance(item, dict):
        return None
    try:
        return Seen(int(item["seq"]), str(item["hash"]), str(item["at"]))  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return None


def remember(board_id: str, seq: int, hash_: str, at: datetime) -> None:
    """Keep the newest verified point of ``board_id``'s log; never fails the command that verified it."""
    if not board_id:
        return
    data = _load_all()
    data.pop(board_id, None)
    data[board_id] = {"seq": seq, "hash": hash_, "at": to_stamp(at)}
    while len(data) > MAX_BOARDS:
        data.pop(next(iter(data)))
    path = _path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temp, path)
    except OSError:
        pass  # a read-only home: the chain still holds on its own


def verify(service: Service) -> Verdict:
    """Verify ``service``'s board log against its chain and against what this account saw before,
    and remember where it now stands (`relman log --verify`, and the board when it starts)."""
    board_id = service.store.board_id()
    seen = load(board_id)
    verdict = service.verify_log((seen.seq, seen.hash, seen.at) if seen else None)
    if verdict.ok and verdict.last_hash:
        remember(board_id, verdict.last_seq, verdict.last_hash, service.now())
    return verdict
