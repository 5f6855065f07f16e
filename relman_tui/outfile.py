"""Files a person names for relman to write (a calendar, an export, a config): regular files only."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Protocol

from relman_tui.errors import BadInput

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

_SQLITE_HEADER = b"SQLite format 3\x00"
_WAL_HEADERS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")


class OwnsFiles(Protocol):
    """A board that can say whether a path is one of its own files (every store can)."""

    def owns(self, path: Path) -> bool: ...


def real_target(path: Path) -> Path:
    """What ``path`` names once symlinks are followed: the file a rename must replace (a symlink to a
    published calendar stays a symlink, and its target gets the new content)."""
    return Path(os.path.realpath(path))


def refuse_special(path: Path, what: str) -> None:
    """Refuse ``path`` unless it is a regular file or nothing yet; never opens it, so a FIFO never blocks
    (and root writing `/dev/null` does not replace the device)."""
    try:
        mode = os.stat(path).st_mode  # follows symlinks: what would be written is the target
    except FileNotFoundError:
        return
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from exc
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise BadInput(f"{path} is {kind}; {what} writes only a regular file. Give a file name")


def check_output(path: Path, what: str, store: OwnsFiles | None = None) -> None:
    """Refuse to write a file a person named (an export, a calendar, a config) over a database.

    A tired operator who types the board's own path (`relman --db b.db export b.db`) would
    otherwise replace the board, history and all, with a few lines of TOML.
    """
    if store is not None and store.owns(path):
        raise BadInput(f"{path} is this board's own database file; {what} would destroy it. Give another file name")
    refuse_special(path, what)  # looked at, never opened: a FIFO would block the read below
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return  # not there yet (or not readable: writing it will say so)
    if head == _SQLITE_HEADER or head[:4] in _WAL_HEADERS:
        raise BadInput(f"{path} is a database file; {what} does not write over it. Give another file name")
