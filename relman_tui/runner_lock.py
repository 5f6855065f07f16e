"""The hook runner's lock file on SQLite: one per database file, usable by every account that reads the board."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from relman_tui.errors import BadInput


def open_lock_file(lock_path: Path, database: Path) -> int:
    """A read-only descriptor of ``lock_path``, made if missing with the database's read bits and group.

    The umask does not decide who may open it (fchmod after creating it): a second operator who can
    read the board can take the lock after the first runner stopped. Nobody writes the file.
    """
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        for _ in range(3):
            try:
                return _regular(os.open(lock_path, flags), lock_path)
            except FileNotFoundError:
                pass
            try:
                fd = os.open(lock_path, flags | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue  # another runner made it just now: open theirs
            db = os.stat(database)
            with contextlib.suppress(PermissionError):
                os.fchown(fd, -1, db.st_gid)  # the board's group, if we belong to it
            os.fchmod(fd, stat.S_IMODE(db.st_mode) & 0o644)
            return fd
    except OSError as exc:
        raise BadInput(f"cannot open the hook runner's lock {lock_path}: {exc.strerror}") from exc
    raise BadInput(f"cannot open the hook runner's lock {lock_path}: it keeps changing")


def _regular(fd: int, path: Path) -> int:
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadInput(f"the hook runner's lock {path} is not a regular file")
    return fd
