"""Files a person names for relman to write (a calendar, an export, a config): regular files only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from relman_tui.errors import BadInput

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


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
