"""Issue 15 through the command line: typed times in gaps, repeated hours and midnight changes; barren crons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from conftest import NOW_TEXT, Run, one_line

from relman_tui.service import Service
from relman_tui.tui.viewmodel import build_columns

BERLIN = "Europe/Berlin"


@dataclass
class RunAt(Run):
    """``Run`` with the clock ($RELMAN_NOW) at another *now*."""

    now: str = NOW_TEXT

    def env(self) -> dict[str, str | None]:
        return {**super().env(), "RELMAN_NOW": self.now}


def at(board: Run, now: str) -> RunAt:
    return RunAt(board.db, board.home, now=now)


def release(run: Run, name: str) -> str:
    return run.ok("release", "add", name, "1").stdout.strip()


def window(run: Run, rid: str, environment: str) -> tuple[str, str]:
    found = run.json("release", "show", rid)["windows"][environment]
    return found["start"], found["end"]


def test_tomorrow_in_santiago_on_the_day_it_springs_forward_at_midnight(board: Run) -> None:
    """The repro: this stored 2026-09-06 23:00 -03, the evening before."""
    santiago = at(board, "2026-09-06T12:00:00Z")  # 09:00 -03; the day began at 01:00
    rid = release(santiago, "payments-api")
    out = santiago.ok("schedule", rid, "staging", "tomorrow", "--for", "1h", tz="America/Santiago").stdout
    assert out == "payments-api 1 in staging: 2026-09-07 00:00 -03 → 2026-09-07 01:00 -03\n"
    assert window(santiago, rid, "staging") == ("2026-09-07T03:00:00Z", "2026-09-07T04:00:00Z")
    out = santiago.ok("schedule", rid, "dev", "today", "--for", "1h", tz="America/Santiago").stdout
    assert out == "payments-api 1 in dev: 2026-09-06 01:00 -03 → 2026-09-06 02:00 -03\n"


@pytest.mark.parametrize(
    ("now", "start"),
    [
        ("2026-03-29T12:00:00Z", "2026-03-29 02:30"),
        ("2026-03-29T12:00:00Z", "2026-03-29T02:30"),
        ("2026-03-29T12:00:00Z", "02:30"),
        ("2026-03-29T12:00:00Z", "today 02:30"),
        ("2026-03-28T12:00:00Z", "tomorrow 02:30"),
    ],
)
def test_a_start_in_the_spring_gap_is_read_one_way_whatever_its_form(board: Run, now: str, start: str) -> None:
    run = at(board, now)
    rid = release(run, "ledger")
    out = run.ok("schedule", rid, "dev", start, "--for", "1h", tz=BERLIN).stdout
    assert out == "ledger 1 in dev: 2026-03-29 03:30 CEST → 2026-03-29 04:30 CEST\n"
    assert window(run, rid, "dev")[0] == "2026-03-29T01:30:00Z"


@pytest.mark.parametrize(
    ("now", "start"),
    [
        ("2026-10-25T12:00:00Z", "2026-10-25 02:30"),
        ("2026-10-25T12:00:00Z", "2026-10-25T02:30"),
        ("2026-10-25T12:00:00Z", "02:30"),
        ("2026-10-25T12:00:00Z", "today 02:30"),
        ("2026-10-24T12:00:00Z", "tomorrow 02:30"),
        ("2026-10-24T12:00:00Z", "2026-10-25 02:30 CEST"),
    ],
)
def test_a_start_in_the_repeated_hour_is_the_first_whatever_its_form(board: Run, now: str, start: str) -> None:
    run = at(board, now)
    rid = release(run, "ledger")
    out = run.ok("schedule", rid, "dev", start, "--for", "30m", tz=BERLIN).stdout
    assert out == "ledger 1 in dev: 2026-10-25 02:30 CEST → 2026-10-25 02:00 CET\n"
    assert window(run, rid, "dev") == ("2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z")


def test_the_second_of_a_repeated_hour_is_typed_with_its_abbreviation(board: Run) -> None:
    rid = release(board, "ledger")
    out = board.ok("schedule", rid, "dev", "2026-10-25 02:30 CET", "--for", "30m", tz=BERLIN).stdout
    assert out == "ledger 1 in dev: 2026-10-25 02:30 CET → 2026-10-25 03:00 CET\n"
    result = board("schedule", rid, "dev", "2026-10-25 02:30 EST", "--for", "30m", tz=BERLIN)
    assert result.exit_code == 2
    assert one_line(result.stderr) == (
        "relman: error: bad time '2026-10-25 02:30 EST': Europe/Berlin calls 2026-10-25 02:30 CEST or CET, not EST"
    )


def test_tomorrow_at_a_clock_time(board: Run) -> None:
    rid = release(board, "ledger")  # now is 2026-12-01 11:00 in Berlin
    out = board.ok("schedule", rid, "dev", "tomorrow 10:00", "--for", "1h", tz=BERLIN).stdout
    assert out == "ledger 1 in dev: 2026-12-02 10:00 CET → 2026-12-02 11:00 CET\n"
    out = board.ok("schedule", rid, "test", "today 17:00", "tomorrow 9:00", tz=BERLIN).stdout
    assert out == "ledger 1 in test: 2026-12-01 17:00 CET → 2026-12-02 09:00 CET\n"
    other = release(board, "billing")
    board.ok("schedule", other, "staging", "--next-free", "--for", "1h", "--after", "tomorrow 10:00", tz=BERLIN)
    assert window(board, other, "staging")[0] == "2026-12-02T09:00:00Z"


def test_conflicts_in_the_repeated_hour_show_which_one(board: Run) -> None:
    """The repro: a one-hour conflict printed as START 2026-10-25 02:00  END 2026-10-25 02:00."""
    run = at(board, "2026-10-24T12:00:00Z")
    first, second = release(run, "ledger"), release(run, "billing")
    run.ok("schedule", first, "dev", "2026-10-25 01:00", "--for", "2h", tz=BERLIN)  # 01:00 CEST → 02:00 CET
    run.ok("schedule", second, "dev", "2026-10-25 02:00", "--for", "3h", tz=BERLIN)  # 02:00 CEST → 04:00 CET
    third, fourth = release(run, "search"), release(run, "mail")
    run.ok("schedule", third, "test", "2026-10-26 10:00", "--for", "2h", tz=BERLIN)
    run.ok("schedule", fourth, "test", "2026-10-26 11:00", "--for", "2h", tz=BERLIN)

    found = run.json("conflicts")
    assert [(c["kind"], c["start"], c["end"]) for c in found] == [
        ("capacity", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"),
        ("capacity", "2026-10-26T10:00:00Z", "2026-10-26T11:00:00Z"),
    ]
    lines = run.ok("conflicts", tz=BERLIN).stdout.splitlines()
    assert lines[0].split()[:4] == ["KIND", "SEVERITY", "START", "END"]
    assert lines[1].split()[:9] == [
        "capacity",
        "error",
        "2026-10-25",
        "02:00",
        "CEST",
        "2026-10-25",
        "02:00",
        "CET",
        "dev",
    ]
    assert lines[2].split()[:7] == ["capacity", "error", "2026-10-26", "11:00", "2026-10-26", "12:00", "test"]
    assert lines[-1] == "2 conflicts: 2 errors, 0 warnings (times in Europe/Berlin)"


def test_frozen_until_in_the_repeated_hour_says_which_one(service: Service) -> None:
    """The repro: "❄ frozen until 10-25 02:00" on a freeze that ends at the second 02:00."""
    end = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 02:00 CET, an hour after 02:00 CEST
    service.add_freeze(["prod"], "change freeze", start=end - timedelta(hours=6), end=end)
    columns = {c.stage: c for c in build_columns(service.snapshot(), BERLIN, end - timedelta(minutes=30))}
    assert columns["prod"].frozen_until == "02:00 CET"  # today: the time, and which 02:00 it is
    earlier = end - timedelta(hours=1)
    service.add_freeze(["dev"], "audit", start=earlier - timedelta(hours=6), end=earlier)
    columns = {c.stage: c for c in build_columns(service.snapshot(), BERLIN, earlier - timedelta(minutes=30))}
    assert columns["dev"].frozen_until == "02:00 CEST"
    assert columns["prod"].frozen_until == "02:00 CET"


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 0 30 2 *", "it can never fire: day-of-month '30' never falls in month '2'"),
        ("0 0 31 4,6,9,11 *", "it can never fire: day-of-month '31' never falls in month '4,6,9,11'"),
        ("0 0 31 2 *", "it can never fire: day-of-month '31' never falls in month '2'"),
        ("0 0 * * ſun", "only printable ASCII is allowed (found U+017F)"),
    ],
)
def test_barren_and_non_ascii_crons_are_refused(board: Run, cron: str, words: str) -> None:
    before = board.dump()
    result = board("freeze", "add", "prod", "--cron", cron, "--for", "1h", "--reason", "x")
    assert result.exit_code == 2
    assert one_line(result.stderr) == f"relman: error: bad cron expression {cron!r}: {words}"
    assert board.dump() == before


def test_a_cron_with_both_day_fields_restricted_fires_on_either(board: Run) -> None:
    """Vixie's either-rule: `0 0 30 2 MON` fires on Mondays in February, so it is accepted."""
    assert board.ok("freeze", "add", "prod", "--cron", "0 0 30 2 MON", "--for", "1h", "--reason", "x").stdout == "1\n"


def test_gate_messages_show_times_in_the_operators_zone(board: Run) -> None:
    board.ok("freeze", "add", "test", "--start", "2026-12-01T09:00", "--end", "2026-12-01T12:00", "--reason", "load")
    rid = board.ok("release", "add", "ledger", "1.0").stdout.strip()
    board.ok("move", rid, "dev")
    board.ok("verify", rid)
    result = board("move", rid, "test", tz="Europe/Berlin")
    assert result.exit_code == 1
    assert "test is frozen until 2026-12-01 13:00 CET (load)" in result.stderr
