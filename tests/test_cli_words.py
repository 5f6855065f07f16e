"""What the CLI prints for people (issue 20's smaller items): counts, `release add` on a terminal, `log` columns."""

from __future__ import annotations

from unittest import mock

from conftest import Run


def test_one_conflict_is_said_in_the_singular(board: Run) -> None:
    a = board.ok("release", "add", "a", "1").stdout.strip()
    b = board.ok("release", "add", "b", "1").stdout.strip()
    board.ok("schedule", a, "prod", "2026-12-02T10:00", "--for", "2h")
    board.ok("schedule", b, "prod", "2026-12-02T11:00", "--for", "2h")
    assert board.ok("conflicts").stdout.splitlines()[-1] == "1 conflict: 1 error, 0 warnings (times in UTC)"


def test_release_add_says_more_on_a_terminal_and_the_id_alone_when_piped(board: Run) -> None:
    assert board.ok("release", "add", "payments-api", "2.4.1").stdout == "1\n"  # piped: scripts rely on it
    with mock.patch("relman_tui.cli.releases.stdout_is_tty", return_value=True):
        out = board.ok("release", "add", "ledger", "1.0").stdout
    assert out == "2  (ledger 1.0 added to planned, owner alice)\n"


def test_log_columns_line_up_whatever_the_account_names(board: Run) -> None:
    board.ok("release", "add", "a", "1", actor="al")
    board.ok("release", "add", "b", "1", actor="maximilian.longname")
    lines = [line for line in board.ok("log").stdout.splitlines() if "created in planned" in line]
    assert len(lines) == 2
    assert len({line.index("#") for line in lines}) == 1, lines
