"""Typed event details: the checks at the one way in agree with the types, and stored details of the wrong
shape give a verdict, never a traceback."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from pathlib import Path

import pytest
from conftest import Run, refused
from mypy_copy import mypy_errors

from relman_tui import chain, details
from relman_tui.details import Details, ReleaseRecord, parse
from relman_tui.model import Release


def test_the_release_record_has_every_column_of_a_release_in_order() -> None:
    """A field added to Release must be added to its record (and so to every event that carries one)."""
    columns = [f.name for f in fields(Release) if f.name != "windows"]
    assert list(ReleaseRecord.__annotations__) == columns


def test_every_key_of_the_details_has_its_check() -> None:
    assert set(details._CHECKS) == set(Details.__annotations__)
    assert set(details.RELEASE_FIELDS) | set(details.RELEASE_OPTIONAL) == set(ReleaseRecord.__annotations__)
    assert set(details.HOOK_FIELDS) | set(details.HOOK_OPTIONAL) == set(details.HookRecord.__annotations__)
    assert set(details.FREEZE_FIELDS) | set(details.FREEZE_OPTIONAL) == set(details.FreezeRecord.__annotations__)
    assert set(details.ENVIRONMENT_FIELDS) == set(details.EnvironmentRecord.__annotations__)
    assert set(details.WINDOW_FIELDS) == set(details.WindowRecord.__annotations__)


def test_a_value_of_the_wrong_shape_is_left_out_and_the_rest_kept() -> None:
    stored = {"release": {"id": 1, "name": "x"}, "key": "four_eyes", "old": True, "new": {"x": 1}, "extra": [1]}
    assert dict(parse(json.dumps(stored))) == {"key": "four_eyes", "old": True, "extra": [1]}
    assert [dict(parse(text)) for text in ("not json", "[1, 2]", None, "")] == [{}, {}, {}, {}]
    assert dict(parse('{"environment": "dev", "hook": "abc", "exit_status": null}')) == {
        "environment": "dev",
        "hook": "abc",
        "exit_status": None,
    }


def test_a_chained_event_whose_record_has_the_wrong_shape_is_named_not_a_traceback(board: Run) -> None:
    """An event forged with relman's own chain code, its release record's times not text: `log --verify`
    names it in one line, and `log` still shows the history."""
    rid = int(board.ok("release", "add", "ledger", "1.0", actor="bob").stdout)
    conn = sqlite3.connect(board.path, isolation_level=None)
    last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    record = json.loads(conn.execute("SELECT details FROM events WHERE seq = ?", (last[0],)).fetchone()[0])["release"]
    record |= {"notes": "edited", "created_at": 5, "rev": record["rev"] + 1}
    text = json.dumps({"changes": {"notes": ["", "edited"]}, "release": record}, sort_keys=True, separators=(",", ":"))
    event = chain.StoredEvent(
        last[0] + 1, "2026-12-01T10:00:00Z", "bob", None, rid, "edited", None, "notes", False, None, text, None
    )
    conn.execute(
        'INSERT INTO events (seq, at, actor, via, release, action, "from", "to", forced, reason, details, hash) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event.seq, event.at, "bob", None, rid, "edited", None, "notes", 0, None, text, chain.link(last[1], event)),
    )
    conn.execute(f"UPDATE releases SET notes = 'edited', rev = rev + 1 WHERE id = {rid}")
    conn.close()
    board.ok("move", str(rid), "dev", actor="bob")  # the rules read the release as the forged event left it
    line = refused(board.raw("--db", str(board.db), "log", "--verify"))
    assert f"event #{event.seq} (edited) cannot be replayed" in line and "missing or malformed" in line
    shown = board.ok("log", str(rid)).stdout
    assert "edited notes '' → edited" in shown


@pytest.mark.slow  # a mypy run on a copy of the package: tens of seconds
def test_a_misspelt_key_or_a_wrong_type_in_details_fails_the_type_check(tmp_path: Path) -> None:
    """A builder that misspells a key or gives it a value of another type, and a reader that reads a key
    no event has, turn mypy red where they are."""
    broken = {
        "service_windows.py": (
            '                "old_start": to_stamp(before.start),',
            '                "old_strat": to_stamp(before.start),',
        ),
        "service.py": ('{"unapproved": True} if unapproved', '{"unapproved": "yes"} if unapproved'),
        "replay.py": ('window = d["window"]', 'window = d["windwo"]'),
        "hooks.py": ('record["version"]', 'record["verison"]'),
    }
    errors = mypy_errors(tmp_path, broken)
    assert {file.removeprefix("relman_tui/") for file in errors} == set(broken), errors
