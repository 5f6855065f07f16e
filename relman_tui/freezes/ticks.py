"""Instants as integer ticks (microseconds since the Unix epoch), the calendar's edges and one-off freeze spans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from relman_tui.errors import BadInput
from relman_tui.model import Freeze

# --- instants as integers -------------------------------------------------------------------
#
# Inside the expansion an instant is an int count of microseconds since the Unix epoch (the
# unit of conflicts.ticks): exact, fast, and free of the calendar's edges — a freeze that runs
# 999999 weeks past year 9999 is only a large number here, and becomes a datetime again only
# clamped to the calendar.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)
_MINUTE = 60_000_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_EPOCH_DAY = _EPOCH.date().toordinal()
_LAST_DAY = date.max.toordinal()
_FIRST_TICK = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _TICK
_LAST_TICK = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _TICK

OCCURRENCES_MAX = 10_000  # occurrences() lists at most this many, so no span can make it hang
# How far a cover is followed past the span asked about. No freeze may last longer than 366
# days (limits.FREEZE_MAX), so a cover still going two years on is open-ended in practice:
# "frozen until further notice".
REACH = timedelta(days=2 * 366)
_REACH = REACH // _TICK


def _first_day(t: int) -> int:
    """The first local day (ordinal) that can hold a begin at or after ``t``, in any zone:
    offsets lie within a day either side of UTC, and a gap may carry a wall time past midnight."""
    return t // _DAY + _EPOCH_DAY - 2


def _last_day(t: int) -> int:
    """The last local day (ordinal) that can hold a begin before ``t``, in any zone."""
    return (t - 1) // _DAY + _EPOCH_DAY + 1


# --- one-off freezes and conversions ----------------------------------------------------------


def _one_off(freeze: Freeze) -> tuple[int, int]:
    if freeze.start is None or freeze.end is None:
        raise BadInput(f"freeze {freeze.id} has neither a cron expression nor a start and an end")
    first, last = _ticks(freeze.start), _ticks(freeze.end)
    if first >= last:
        raise BadInput(f"freeze {freeze.id}: start must be before end")
    return first, last


def _ticks(moment: datetime) -> int:
    """An aware datetime as ticks; no conversion, so the calendar's edges cannot overflow."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: relman passes times as aware UTC")
    return (moment - _EPOCH) // _TICK


def _moment(value: int) -> datetime:
    """Ticks as an aware UTC datetime, clamped to the calendar."""
    return _EPOCH + timedelta(microseconds=min(max(value, _FIRST_TICK), _LAST_TICK))
