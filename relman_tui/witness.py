"""What this account has seen of each board's log: the latest verified (seq, hash), kept outside the board.

The hash chain alone shows a naive rewrite; someone who can write the file could still rewrite
an event *and* recompute every hash after it. The account that verified the log earlier kept
the hash it saw, in its own state directory: a recomputed chain no longer has that hash at that
seq, and `relman log --verify` (and the board at start) say so.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from relman_tui.chain import Verdict
from relman_tui.settings import state_dir
from relman_tui.timeutil import to_stamp

if TYPE_CHECKING:
    from relman_tui.service import Service
    from relman_tui.store import BoardStore

MAX_BOARDS = 200  # remembered boards; the oldest are forgotten first


@dataclass(frozen=True, slots=True)
class Seen:
    seq: int
    hash: str
    at: str  # when it was verified, UTC stamp
    board_id: str = ""  # kept by the entry of a database file or server: the board id it had
    place: str = ""  # kept by the entry of a board id: the file or server it was verified in


def _path() -> Path:
    return state_dir() / "witness.json"


def _load_all() -> dict[str, dict[str, object]]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load(key: str) -> Seen | None:
    """What this account verified of the board ``key`` (a board id, or a :func:`place`)."""
    item = _load_all().get(key)
    if not isinstance(item, dict):
        return None
    try:
        return Seen(
            int(item["seq"]),  # type: ignore[call-overload]
            str(item["hash"]),
            str(item["at"]),
            str(item.get("board_id", "")),
            str(item.get("place", "")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def place(store: BoardStore) -> str | None:
    """Where a board lives, whatever its id says: the file's device and inode, or the server and database."""
    target = store.target
    if isinstance(target, str):
        try:
            parts = urllib.parse.urlsplit(target)
            return f"server:{parts.hostname or ''}:{parts.port or ''}{parts.path}"
        except ValueError:
            return None
    try:
        info = os.stat(target)
    except OSError:
        return None
    return f"file:{info.st_dev}:{info.st_ino}"


def remember(board_id: str, seq: int, hash_: str, at: datetime, where: str | None = None) -> None:
    """Keep the newest verified point of ``board_id``'s log (and of the file or server it lives in);
    never fails the command that verified it."""
    if not board_id:
        return
    data = _load_all()
    entry = {"seq": seq, "hash": hash_, "at": to_stamp(at)}
    for key, value in ((board_id, entry | {"place": where or ""}), (where, entry | {"board_id": board_id})):
        if key:
            data.pop(key, None)
            data[key] = value
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
    """Verify ``service``'s board log: chain, replay and rules, and against what this account saw before of
    this board id and of this file (or server database); remember where it now stands (`relman log
    --verify`, and the board when it starts). A board id that changed under the same file is reported."""
    board_id = service.store.board_id()
    where = place(service.store)
    seen = [s for s in (load(board_id), load(where) if where else None) if s is not None]
    # A copy keeps its board's id and goes on from there: what this account verified of the same id in
    # another file or server must still hold where the two logs overlap, but may lie past this one's end.
    points = [(s.seq, s.hash, s.at, not s.place or s.place == where or bool(s.board_id)) for s in seen]
    verdict = service.verify_log(points)
    moved = next((s for s in seen if s.board_id and s.board_id != board_id), None)
    if moved is not None and verdict.ok:
        problem = (
            f"the board id of {service.store.name} changed since you verified it at {moved.at} "
            f"(was {moved.board_id}, now {board_id or 'none'}): its log was replaced or rewritten"
        )
        return replace(verdict, problem=problem, last_hash=None, check="witness")
    if verdict.ok and verdict.last_hash:
        remember(board_id, verdict.last_seq, verdict.last_hash, service.now(), where)
    return verdict
