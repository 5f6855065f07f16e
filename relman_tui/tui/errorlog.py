"""Where the board writes an unexpected error, with its traceback: ``$XDG_STATE_HOME/relman/relman.log``."""

from __future__ import annotations

import os
import traceback
from datetime import datetime
from pathlib import Path

from relman_tui.settings import state_dir
from relman_tui.text import inert


def default_path() -> Path:
    return state_dir() / "relman.log"


def write(path: Path, error: BaseException, at: datetime, where: str) -> bool:
    """Append ``error`` and its traceback to ``path``, private to the user (0600 in a 0700 directory).

    Every line is made inert: a name holding escape sequences in an error message cannot steer
    the terminal of whoever reads the log. Returns False when the log cannot be written (the
    board must go on regardless).
    """
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    text = f"--- {at.isoformat()} unexpected error in {where}\n"
    text += "".join(inert(line.rstrip("\n")) + "\n" for chunk in lines for line in chunk.splitlines())
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.parent.chmod(0o700)  # whatever the umask
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, text.encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
    except OSError:
        return False
    return True
