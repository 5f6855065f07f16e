"""Many freezes at once, against brute force: when a freeze holds within a window, and until when
a set of freezes keeps an environment frozen (the shortcuts behind issue 18 item 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from relman_tui.freezes import frozen_until, held_within, occurrences
from relman_tui.model import Freeze

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ZONES = ("UTC", "Europe/Berlin", "Pacific/Chatham")
# Days the clocks change in one of the zones (Berlin: March and October; Chatham: September and
# April, at 02:45 local), and an ordinary one.
ANCHORS = (
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 9, 26, 14, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2027, 4, 3, 14, tzinfo=UTC),
    datetime(2026, 6, 1, 12, tzinfo=UTC),
)
SETTINGS = settings(
    max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def ticks(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


@st.composite
def freezes(draw: st.DrawFn, freeze_id: int = 1) -> Freeze:
    if draw(st.integers(0, 5)) == 0:
        start = draw(st.sampled_from(ANCHORS)) + draw(st.integers(-48 * 60, 48 * 60)) * MINUTE
        return Freeze(
            freeze_id, ("prod",), f"f{freeze_id}", start=start, end=start + draw(st.integers(1, 3000)) * MINUTE
        )
    minute, hour = draw(st.integers(0, 59)), draw(st.integers(0, 23))
    cron = draw(
        st.sampled_from(
            [
                f"{minute} * * * *",
                f"{minute} {hour} * * *",
                f"{minute % 7}-59/7 * * * *",
                f"{minute} */5 * * *",
                f"{minute} {hour} * * MON-FRI",
                f"{minute} * * * SAT,SUN",
                f"{minute} {hour} * * SAT",
            ]
        )
    )
    minutes = draw(st.one_of(st.integers(1, 59), st.sampled_from([60, 90, 300, 1800, 2880])))
    zone = draw(st.sampled_from(ZONES))
    return Freeze(freeze_id, ("prod",), f"f{freeze_id}", cron=cron, duration=minutes * MINUTE, zone=zone)


def cover(found: list[Freeze], start: datetime, end: datetime) -> list[list[int]]:
    """Every occurrence of ``found`` meeting ``[start, end)``, clipped to it, touching ones merged."""
    pieces = sorted(
        (max(ticks(o.start), ticks(start)), min(ticks(o.end), ticks(end)))
        for freeze in found
        for o in occurrences(freeze, start, end)
    )
    merged: list[list[int]] = []
    for low, high in pieces:
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


@SETTINGS
@given(freezes(), st.sampled_from(ANCHORS), st.integers(-36 * 60, 36 * 60), st.integers(1, 16 * 24 * 60))
def test_held_within_matches_the_occurrences(freeze: Freeze, anchor: datetime, offset: int, length: int) -> None:
    start = anchor + offset * MINUTE
    end = start + length * MINUTE
    expected = cover([freeze], start, end)
    found = held_within(freeze, ticks(start), ticks(end))
    if not expected:
        assert found is None
    else:
        assert found == (expected[0][0], expected[-1][1], len(expected) > 1)


@SETTINGS
@given(st.integers(1, 4), st.data(), st.sampled_from(ANCHORS))
def test_frozen_until_matches_the_merged_occurrences(count: int, data: st.DataObject, anchor: datetime) -> None:
    found = [data.draw(freezes(freeze_id)) for freeze_id in range(1, count + 1)]
    moment = anchor + data.draw(st.integers(-24 * 60, 24 * 60)) * MINUTE
    # Nothing lasts two days and a bit: an occurrence from before the horizon cannot reach it.
    horizon = (moment - 3 * timedelta(days=1), moment + 8 * timedelta(days=1))
    spans = cover(found, *horizon)
    t = ticks(moment)
    holding = next((span for span in spans if span[0] <= t < span[1]), None)
    held = frozen_until(found, "prod", moment)
    if holding is None:
        assert held is None
        return
    assume(holding[1] < ticks(horizon[1]))  # a cover running past the horizon: nothing to compare with
    assert held is not None and held.until is not None
    assert ticks(held.until) == holding[1]
    # First the freezes holding now, then only freezes that hold somewhere in the cover.
    now = {f.reason for f in found if cover([f], moment, moment + timedelta(seconds=1))}
    assert set(held.reasons[: len(now)]) == now
    assert set(held.reasons) <= {f.reason for f in found if cover([f], moment, held.until)}
