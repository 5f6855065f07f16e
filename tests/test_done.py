"""Done windows (DESIGN "Conflicts") through the CLI, and what `relman move` says about a forced move."""

from __future__ import annotations

from pathlib import Path

from conftest import Run


def two_releases_through_to_prod(board: Run) -> tuple[int, int]:
    """Overlapping dev windows tomorrow, then both forced through to prod (the issue's board)."""
    a = int(board.ok("release", "add", "payments-api", "2.4.1", "--component", "payments").stdout)
    b = int(board.ok("release", "add", "ledger", "1.0", "--component", "payments").stdout)
    board.ok("schedule", str(a), "dev", "2026-12-02T10:00", "--for", "2h")
    board.ok("schedule", str(b), "dev", "2026-12-02T11:00", "--for", "2h")
    assert board.json("conflicts")  # while both are planned: capacity in dev
    for rid in (a, b):
        board.ok("move", str(rid), "prod", "--force", "--reason", "hotfix")
    return a, b


def test_windows_of_passed_stages_are_done(board: Run, tmp_path: Path) -> None:
    a, b = two_releases_through_to_prod(board)
    assert board.json("conflicts") == []
    assert board.ok("conflicts", "--fail-on", "error").exit_code == 0
    listed = {r["id"]: r for r in board.json("release", "list")}
    assert listed[a]["windows"]["dev"]["done"] is True
    shown = board.json("release", "show", str(a))
    assert shown["windows"]["dev"] == {"start": "2026-12-02T10:00:00Z", "end": "2026-12-02T12:00:00Z", "done": True}
    # the NEXT WINDOW column is not a dev window of a prod release
    row = next(line for line in board.ok("release", "list").stdout.splitlines() if line.startswith(f"{a} "))
    assert row.rstrip().endswith("-"), row
    # and the calendar leaves history out
    path = tmp_path / "cal.ics"
    assert board.ok("calendar", str(path)).stdout == f"wrote 0 events to {path}\n"
    # scheduling prod warns nothing against a done dev window of a release sharing the component
    board.ok("schedule", str(b), "prod", "2026-12-02T11:00", "--for", "1h")
    assert board.json("conflicts") == []


def test_a_rollback_below_the_environment_makes_the_window_count_again(board: Run) -> None:
    a, b = two_releases_through_to_prod(board)
    board.ok("rollback", str(a), "--to", "planned", "--reason", "wrong build")
    listed = {r["id"]: r for r in board.json("release", "list")}
    assert listed[a]["windows"]["dev"]["done"] is False
    assert listed[b]["windows"]["dev"]["done"] is True
    assert board.json("conflicts") == []  # b's dev window is still history
    board.ok("rollback", str(b), "--to", "planned", "--reason", "wrong build")
    assert [c["kind"] for c in board.json("conflicts")] == ["capacity"]


def test_a_forced_move_says_forced_and_unapproved(board: Run) -> None:
    rid = int(board.ok("release", "add", "payments-api", "2.4.1").stdout)
    out = board.ok("move", str(rid), "prod", "--force", "--reason", "x").stdout
    assert out.startswith("payments-api 2.4.1 → prod (deployed), forced; UNAPPROVED"), out
    # a move that passed its gates says neither
    other = int(board.ok("release", "add", "ledger", "1.0").stdout)
    assert board.ok("move", str(other), "dev").stdout == "ledger 1.0 → dev (deployed)\n"


def test_a_move_before_the_window_opens_says_so(board: Run) -> None:
    rid = int(board.ok("release", "add", "payments-api", "2.4.1").stdout)
    board.ok("schedule", str(rid), "dev", "2026-12-02T06:00", "--for", "2h")  # now is 12-01 10:00
    out = board.ok("move", str(rid), "dev").stdout
    assert out == "payments-api 2.4.1 → dev (deployed); its dev window opens in 20h (2026-12-02 06:00 UTC)\n"
