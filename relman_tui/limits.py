"""What input relman accepts: names, texts, times and sizes, checked before anything is written (pure).

DESIGN.md "Limits": no input may make relman slow for everyone, crash a board, or store
what it cannot read back. Every face (CLI, board, board file) calls these same checks.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from relman_tui.errors import BadInput

NAME_MAX = 120  # release names, components, titles
VERSION_MAX = 60
TEXT_MAX = 10_000  # notes and reasons
LOGIN_MAX = 64  # actors and owners
ENVIRONMENTS_MAX = 50
CAPACITY_MAX = 1_000
BOARD_FILE_BYTES = 10 * 1024 * 1024
BOARD_ITEMS_MAX = 10_000  # releases, freezes, hooks … each, in one board file

# Every stored time lies in [EARLIEST, LATEST): far enough either side of today for any real
# plan, close enough that a freeze expanded across the whole range stays cheap.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
WINDOW_MAX = timedelta(days=90)
FREEZE_MAX = timedelta(days=366)  # a one-off freeze, and each occurrence of a recurring one

ENV_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# Login-like: what `useradd` and PostgreSQL role names have in common, plus "@" for
# directory accounts (alice@example.com). ASCII only, so no look-alike letters.
LOGIN = re.compile(r"[A-Za-z0-9._@-]{1,64}")


def check_time(moment: datetime, what: str) -> datetime:
    """``moment`` if it lies in [2000-01-01, 2100-01-01), else :class:`BadInput` naming ``what``."""
    if not EARLIEST <= moment < LATEST:
        raise BadInput(f"{what} {_show(moment)} is out of range (times from 2000-01-01 to 2099-12-31 are allowed)")
    return moment


def check_span(start: datetime, end: datetime, what: str, longest: timedelta | None = None) -> None:
    """A window or freeze ``[start, end)``: in range, ordered, and no longer than ``longest``."""
    check_time(start, f"{what} start")
    check_time(end, f"{what} end")
    if not start < end:
        raise BadInput(f"{what} must end after it starts ({_show(start)} .. {_show(end)})")
    if longest is not None and end - start > longest:
        raise BadInput(f"{what} lasts {_days(end - start)}; at most {_days(longest)} is allowed")


def check_duration(duration: timedelta, what: str, longest: timedelta) -> None:
    if duration <= timedelta(0):
        raise BadInput(f"{what} must be longer than zero")
    if duration > longest:
        raise BadInput(f"{what} is {_days(duration)}; at most {_days(longest)} is allowed")


def check_capacity(capacity: int) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= CAPACITY_MAX:
        raise BadInput(f"capacity must be a whole number from 1 to {CAPACITY_MAX}, not {capacity!r}")
    return capacity


def clean_name(text: str, what: str, limit: int = NAME_MAX) -> str:
    """A one-line name: stripped, no control or format characters, not empty, not huge."""
    value = text.strip()
    if not value:
        raise BadInput(f"{what} must not be empty")
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value)} characters long; at most {limit} are allowed")
    _check_decodable(value, what)
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn"):
            raise BadInput(f"{what} must not contain control or invisible characters (found U+{ord(char):04X})")
    return value


def clean_text(text: str | None, what: str) -> str:
    """Free text (notes, reasons): newlines and tabs allowed, other control characters not."""
    value = (text or "").strip()
    if len(value) > TEXT_MAX:
        raise BadInput(f"{what} is {len(value)} characters long; at most {TEXT_MAX} are allowed")
    _check_decodable(value, what)
    for char in value:
        if char not in "\n\t" and unicodedata.category(char) == "Cc":
            raise BadInput(f"{what} must not contain control characters (found U+{ord(char):04X})")
    return value


def _check_decodable(value: str, what: str) -> None:
    # Bytes that are not UTF-8 reach Python as lone surrogates (U+DC80..U+DCFF): stored,
    # they could never be printed or exported again.
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(f"{what} is not valid UTF-8 text") from None


def clean_login(text: str, what: str) -> str:
    """An actor or owner: login-like ASCII (letters, digits, ``._-@``), at most 64 characters."""
    value = text.strip()
    if not LOGIN.fullmatch(value):
        shown = value if value.isascii() and value.isprintable() else ascii(value)
        raise BadInput(
            f"{what} {shown[:70]!s} is not a login name: use ASCII letters, digits and . _ - @ "
            f"(at most {LOGIN_MAX} characters)"
        )
    return value


def _show(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _days(delta: timedelta) -> str:
    if delta >= timedelta(days=2):
        return f"{delta.total_seconds() / 86400:g} days"
    return f"{delta.total_seconds() / 3600:g} hours"
