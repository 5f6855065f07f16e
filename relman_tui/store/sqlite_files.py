"""The SQLite board's file beside its connection: its identity on disk, its private directory, errors in words."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from relman_tui.errors import BadInput


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite gave up waiting for another connection's lock."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def has_shm(path: Path) -> bool:
    return os.path.exists(f"{path}-shm")


def file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def disk_mark(path: Path) -> tuple[int, ...]:
    """What changes when a writer changes the file (or its WAL)."""
    out: list[int] = []
    for name in (str(path), f"{path}-wal"):
        try:
            info = os.stat(name)
        except OSError:
            out += [0, 0, 0]
        else:
            out += [info.st_ino, info.st_size, info.st_mtime_ns]
    return tuple(out)


def make_private_dir(directory: Path) -> None:
    """Create ``directory`` and every missing parent private to the user (0700), outermost first.

    ``Path.mkdir(parents=True, mode=...)`` gives the mode to the last directory only; the
    parents it creates get the umask's default, which may let anyone list the board's files.
    """
    missing: list[Path] = []
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # another process made it in between
            continue
        except OSError as exc:
            raise BadInput(f"cannot create {path}: {exc.strerror}") from exc
    if directory.exists() and not directory.is_dir():
        raise BadInput(f"cannot create {directory}: a file of that name is in the way")


def describe_error(exc: sqlite3.Error, path: Path | None = None) -> str:
    """A database error as one sentence for a person (never SQLite's bare "database is locked")."""
    return str(translate(exc, path or Path("the database")))


def translate(exc: sqlite3.Error, path: Path) -> BadInput:
    text = str(exc)
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return BadInput(f"{path} is read-only; nothing was changed")
    if is_busy(exc) if isinstance(exc, sqlite3.OperationalError) else False:
        return BadInput(f"{path} is busy (another process holds a write lock); nothing was changed, try again")
    if "disk is full" in lowered or "disk i/o" in lowered:
        return BadInput(f"cannot write {path}: the disk is full or failing; nothing was changed")
    if "not a database" in lowered or "malformed" in lowered:
        return BadInput(f"{path} is not a relman database or is damaged ({text})")
    if "unable to open" in lowered:
        return BadInput(f"cannot open {path} ({text})")
    return BadInput(f"database error on {path}: {text}")


def board_file(path: Path, *, create: bool, read_only: bool) -> tuple[bool, bool]:
    """Whether a board is at ``path`` already, and whether it must be opened read-only (a file we may not
    write); refuses what is not a regular file, and a missing file unless ``create``."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # missing (a directory in its path may be made)
        info = None
    except OSError as exc:
        raise BadInput(f"cannot open {path}: {exc.strerror}") from exc
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, a pipe or a socket"
        raise BadInput(f"{path} is {kind}, not a regular file; relman keeps a board in a regular file")
    exists = info is not None and info.st_size > 0
    if not exists and not create:
        raise BadInput(f"no relman database at {path} (run `relman init` or `relman demo` first)")
    if exists and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        # a file we may not write, or one in a directory where the -wal and -shm files it
        # needs cannot be made: read it, never try to change it
        read_only = True
    return exists, read_only
