"""StrictModes for the hook runner on SQLite: whoever can write the board's file chooses the commands it runs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from relman_tui.errors import Refused
from relman_tui.store import BoardStore


def writers_problem(database: Path, uid: int | None = None) -> str | None:
    """Why accounts other than ``uid`` (default: ours) can change what is in ``database``, or None.

    The file, its -wal and -shm beside it (a transaction in the WAL is the database's content too)
    and its directory (anyone who may write it may put another file in its place) must be owned by
    us or root and writable by neither their group nor others — OpenSSH's StrictModes, for a board.
    """
    me = os.geteuid() if uid is None else uid
    real = database.resolve()
    paths = [(real, "the board's file")]
    paths += [(Path(f"{real}{suffix}"), f"the board's {suffix[1:]} file") for suffix in ("-wal", "-shm")]
    paths.append((real.parent, "the board's directory"))
    for path, what in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        if st.st_uid not in (me, 0):
            return f"{what} {path} belongs to another account (uid {st.st_uid})"
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o022:
            who = " and ".join(w for bit, w in ((0o020, "its group"), (0o002, "every account")) if mode & bit)
            return f"{what} {path} can be written by {who} (mode {mode:04o})"
    return None


def check_writers(store: BoardStore) -> None:
    """Refuse to run hooks from a file other accounts can write (a server's board is guarded by its roles)."""
    target = store.target
    if not isinstance(target, Path):
        return
    problem = writers_problem(target)
    if problem:
        raise Refused(
            f"not running hooks: {problem}, so other accounts can make this runner run any command. "
            "Remove their write access (chmod go-w), or pass --trust-writers if every one of them is trusted"
        )
