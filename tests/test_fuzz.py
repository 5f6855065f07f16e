"""Hostile input, fuzzed: the CLI and the TOML import answer with exit 0, 1 or 2 and one inert line,
never a traceback, and a refused command or import changes nothing.

Examples per test: small in the normal run, large with ``RELMAN_STRESS=1``.
"""

from __future__ import annotations

import itertools
import sqlite3
import string
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from conftest import WEEKEND_FREEZE, Run, copy_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stress_support import report, size

EXAMPLES = size(60, 3000)
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TRIED: dict[str, int] = {}

# --- what a hostile or careless person types --------------------------------------------------------------

CONTROL = "\x00\x07\x08\x1b\x7f\x85\x9b\u200b\u200d\u2028\u202e\u2066\ufeff\n\r\t"
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(string.printable + CONTROL + "[]/=;é名🚀"), max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "-",
            "--",
            "--help",
            "x" * 200_000,
            "[bold red]x[/]",
            "[link=http://evil]x[/link]",
            "\x1b[2J\x1b[H",
            "\x1b]52;c;cm0gLXJmIH4=\x07",
            "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",
            "abc\u202edef",
            "zero\u200bwidth",
            "\udcff",
            "../../etc/passwd",
            "'; DROP TABLE events; --",
        ]
    ),
)
numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 40).map(str),
    st.sampled_from(["0", "-1", "1e3", "0x10", "１", "9" * 40, " 1", "1.0", "nan"]),
)


def mostly(usual: Any, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` four times in five, so the interesting input meets an otherwise sound command."""
    return st.integers(0, 4).flatmap(lambda i: other if i == 0 else st.just(usual))


ids = st.one_of(st.integers(1, 3).map(str), st.integers(1, 3).map(str), numbers, hostile_text)
times = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M")),
    st.builds(
        lambda d, off: d.isoformat(timespec="minutes") + off,
        st.datetimes(),
        st.sampled_from(["Z", "+01:00", "-14:00", "+99:99", "+0530", "z"]),
    ),
    st.builds(
        lambda sign, n, unit: f"{sign}{n}{unit}",
        st.sampled_from(["+", "-", "now+", "now-"]),
        st.integers(0, 10**20),
        st.sampled_from(["m", "h", "d", "w", "s", "y", ""]),
    ),
    st.sampled_from(
        [
            "now",
            "today",
            "tomorrow",
            "24:00",
            "23:59",
            "9999-12-31T23:59",
            "0001-01-01T00:00",
            "2026-02-29T10:00",
            "2026-03-29T02:30",
            "1969-12-31T23:59Z",
            "8999-12-31T23:00Z",
        ]
    ),
    hostile_text,
)
durations = st.one_of(
    st.from_regex(r"\A(\d{1,22}w)?(\d{1,22}d)?(\d{1,22}h)?(\d{1,22}m)?(\d{1,22}s)?\Z"),
    st.sampled_from(["0m", "1h", "90m", "62h", "1h30m", "-5m", "1.5h", "PT1H", "999999999d"]),
    hostile_text,
)
cron_field = st.one_of(
    st.sampled_from(
        [
            "*",
            "*/0",
            "*/1",
            "*/15",
            "0",
            "59",
            "60",
            "1-5",
            "5-1",
            "1,2,3",
            "MON-FRI",
            "FRI",
            "JAN",
            "L",
            "?",
            "#",
            "-",
            ",",
            "1-",
            "*/",
            "32",
            "0-7",
            "7",
            "99999999999999999999",
        ]
    ),
    st.integers(-5, 100).map(str),
    st.text(alphabet="0123456789*/-,", max_size=8),
)
crons = st.one_of(
    st.lists(cron_field, min_size=5, max_size=5).map(" ".join),
    st.lists(cron_field, min_size=0, max_size=7).map(" ".join),
    st.sampled_from(["@daily", "@weekly", "@reboot", "@yearly", "0 18 * * FRI", "0 0 31 2 *", "0 0 30 2 *"]),
    hostile_text,
)
zones = st.one_of(
    st.sampled_from(
        [
            "UTC",
            "Europe/Berlin",
            "America/St_Johns",
            "Pacific/Kiritimati",
            "Etc/GMT+12",
            "Australia/Lord_Howe",
            "utc",
            "Europe",
            "Europe/",
            "/etc/localtime",
            "../../etc/passwd",
            "Europe/../UTC",
            "posixrules",
            "localtime",
            "Factory",
            "",
            " UTC",
            "EST5EDT",
            "\x00",
        ]
    ),
    hostile_text,
)
stages = st.one_of(
    st.sampled_from(["planned", "dev", "test", "staging", "preprod", "prod", "all", "PROD"]), hostile_text
)


@st.composite
def commands(draw: st.DrawFn) -> list[str]:
    rid = draw(ids)
    choice = draw(st.integers(0, 13))
    if choice == 0:
        args = ["move", rid, draw(stages)]
        if draw(st.booleans()):
            args += ["--force", "--reason", draw(hostile_text)]
    elif choice == 1:
        args = ["schedule", rid, draw(stages), draw(times), "--for", draw(durations)]
    elif choice == 2:
        args = ["schedule", rid, draw(stages), draw(times), draw(times)]
    elif choice == 3:
        args = ["schedule", rid, draw(stages), "--next-free", "--for", draw(durations), "--after", draw(times)]
    elif choice == 4:
        args = [
            "freeze",
            "add",
            draw(stages),
            "--cron",
            draw(crons),
            "--for",
            draw(durations),
            "--zone",
            draw(zones),
            "--reason",
            draw(hostile_text),
        ]
    elif choice == 5:
        args = [
            "freeze",
            "add",
            draw(stages),
            "--start",
            draw(times),
            "--end",
            draw(times),
            "--reason",
            draw(hostile_text),
        ]
    elif choice == 6:
        args = [
            "release",
            "add",
            draw(hostile_text),
            draw(hostile_text),
            "--component",
            draw(hostile_text),
            "--owner",
            draw(hostile_text),
            "--notes",
            draw(hostile_text),
        ]
    elif choice == 7:
        args = ["rollback", rid, "--reason", draw(hostile_text), "--to", draw(stages)]
    elif choice == 8:
        args = ["conflicts", "--now", draw(times), "--json"]
    elif choice == 9:
        args = ["log", rid, "--limit", draw(numbers)]
    elif choice == 10:
        args = [
            "env",
            "add",
            draw(hostile_text),
            "--title",
            draw(hostile_text),
            "--capacity",
            draw(numbers),
            "--after",
            draw(stages),
        ]
    elif choice == 11:
        args = [
            draw(st.sampled_from(["verify", "approve", "cancel", "fail", "release show"])),
            rid,
            "--rev",
            draw(numbers),
        ]
        args = [*args[0].split(), *args[1:]]
    elif choice == 12:
        args = ["unschedule", rid, draw(stages)]
    else:
        args = ["freeze", "remove", rid]
    return args


def state_of(db: Path) -> list[Any]:
    """Every row of every table: what a refused command must leave exactly as it was."""
    conn = sqlite3.connect(db)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return [(t, sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"')))) for t in tables]
    finally:
        conn.close()


def assert_answer(result: Any, where: str) -> None:
    """Exit 0, 1 or 2; on failure one inert line on stderr; never a traceback or an internal error."""
    assert result.exit_code in (0, 1, 2), (where, result.exit_code, result.stderr)
    text = result.stdout + result.stderr
    for bad in ("Traceback", "internal error", "database is locked"):
        assert bad not in text, (where, text)
    assert not any(c in text for c in "\x00\x07\x1b\x9b\u202e\u200b"), (where, text)  # printed inert
    if result.exit_code:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, (where, result.stderr)
        assert lines[0].startswith(("relman: error: ", "relman: refused: ")), (where, lines[0])


@pytest.fixture(scope="module")
def fuzz_template(tmp_path_factory: pytest.TempPathFactory, initialised: Path) -> Path:
    """The default pipeline, two releases (one in dev with a window) and a recurring freeze."""
    home = tmp_path_factory.mktemp("fuzz")
    board = Run(home / "fuzz.db", home)
    copy_database(initialised, board.path)
    board.ok("release", "add", "payments-api", "2.4.1")
    board.ok("release", "add", "ledger", "1.9.3", actor="bob")
    board.ok("move", "1", "dev")
    board.ok("schedule", "1", "test", "2026-12-02T10:00", "--for", "2h")
    board.ok(*WEEKEND_FREEZE)
    return board.path


counter = itertools.count()


def fresh(run: Run, template: Path) -> Path:
    db = run.home / f"case-{next(counter)}.db"
    run.home.mkdir(parents=True, exist_ok=True)
    copy_database(template, db)
    return db


@pytest.mark.stress
@FUZZ
@given(args=commands(), tz=mostly("UTC", zones), actor=mostly("alice", hostile_text))
def test_cli_answers_every_input_with_one_line_and_an_exit_status(
    run: Run, fuzz_template: Path, args: list[str], tz: str, actor: str
) -> None:
    TRIED["cli"] = TRIED.get("cli", 0) + 1
    db = fresh(run, fuzz_template)
    before = state_of(db)
    result = run.raw("--db", str(db), "--tz", tz, "--as", actor, *args)
    assert_answer(result, repr(args))
    if result.exit_code:
        TRIED["cli refused"] = TRIED.get("cli refused", 0) + 1
        assert state_of(db) == before, args
    db.unlink()


# --- the board file ---------------------------------------------------------------------------------------

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    hostile_text,
    times,
    st.datetimes(),
    st.lists(st.text(max_size=5), max_size=3),
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(value, scalar)


environment = st.fixed_dictionaries(
    {"name": maybe(st.sampled_from(["dev", "test", "staging", "preprod", "prod", "qa"]))},
    optional={
        "title": maybe(hostile_text),
        "capacity": maybe(st.integers(-2, 5)),
        "requires_approval": st.booleans(),
        "colour": scalar,
    },
)
freeze = st.fixed_dictionaries(
    {
        "environments": maybe(st.lists(st.sampled_from(["prod", "dev", "all", "qa"]), max_size=3)),
        "reason": maybe(hostile_text),
    },
    optional={
        "cron": maybe(crons),
        "duration": maybe(durations),
        "zone": maybe(zones),
        "start": maybe(times),
        "end": maybe(times),
        "extra": scalar,
    },
)
board_data = st.fixed_dictionaries(
    {"environments": st.one_of(st.lists(environment, max_size=6), scalar)},
    optional={
        "relman_board": maybe(st.just(1)),
        "gates": st.one_of(st.fixed_dictionaries({}, optional={"four_eyes": scalar}), scalar),
        "freezes": st.one_of(st.lists(freeze, max_size=4), scalar),
        "stray": scalar,
    },
)


def board_text(data: dict[str, Any]) -> str | None:
    try:
        return tomli_w.dumps({k: v for k, v in data.items() if v is not None})
    except (TypeError, ValueError):
        return None


good_env = st.builds(
    lambda name, title, cap, appr: {"name": name, "title": title, "capacity": cap, "requires_approval": appr},
    st.sampled_from(["dev", "test", "staging", "preprod", "prod"]),
    mostly("Title", hostile_text),
    mostly(1, st.integers(-2, 2**63 - 1)),
    st.booleans(),
)
good_freeze = st.one_of(
    st.builds(
        lambda env, reason, cron, dur, zone: {
            "environments": [env],
            "reason": reason,
            "cron": cron,
            "duration": dur,
            "zone": zone,
        },
        st.sampled_from(["prod", "all", "dev"]),
        mostly("weekend", hostile_text),
        mostly("0 18 * * FRI", crons),
        mostly("62h", durations),
        mostly("Europe/Berlin", zones),
    ),
    st.builds(
        lambda env, reason, start, end: {"environments": [env], "reason": reason, "start": start, "end": end},
        st.sampled_from(["prod", "all", "dev"]),
        mostly("year end", hostile_text),
        mostly("2026-12-24T00:00:00Z", times),
        mostly("2027-01-02T00:00:00Z", times),
    ),
)
mostly_good_board = st.builds(
    lambda envs, freezes, four_eyes: {
        "relman_board": 1,
        "gates": {"four_eyes": four_eyes},
        "environments": envs,
        "freezes": freezes,
    },
    st.lists(good_env, min_size=5, max_size=6, unique_by=lambda e: e["name"]),
    st.lists(good_freeze, max_size=3),
    st.booleans(),
)

board_files = st.one_of(
    mostly_good_board.map(board_text).filter(lambda text: text is not None),
    mostly_good_board.map(board_text).filter(lambda text: text is not None),
    board_data.map(board_text).filter(lambda text: text is not None),
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["[[environments]\n", "relman_board = 1\nrelman_board = 2\n", "\ufeff[gates]\n", "a = '\x00'\n"]),
)


@pytest.mark.stress
@FUZZ
@given(text=board_files)
def test_a_refused_import_changes_nothing(run: Run, fuzz_template: Path, text: str) -> None:
    TRIED["import"] = TRIED.get("import", 0) + 1
    db = fresh(run, fuzz_template)
    path = run.home / "board.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = state_of(db)
    result = run("import", str(path), db=db)
    assert_answer(result, text[:200])
    if result.exit_code:
        TRIED["import refused"] = TRIED.get("import refused", 0) + 1
        assert state_of(db) == before
    else:  # an accepted file is the board now: it exports, and imports again to the same board
        first, second = run.home / "first.toml", run.home / "second.toml"
        run.ok("export", str(first), db=db)
        run.ok("import", str(first), db=db)
        run.ok("export", str(second), db=db)
        assert first.read_text() == second.read_text()
    db.unlink()


def report_the_inputs_tried() -> None:
    """The figures of this module's run (called by conftest when the session ends: not a test)."""
    if TRIED:
        report("fuzz", examples_per_test=EXAMPLES, **{k.replace(" ", "_"): v for k, v in sorted(TRIED.items())})


# --- what the fuzzing found (each was "internal error: OverflowError…" or a misleading message) ----------------

FOUND = [
    (["move", "99999999999999999999999", "dev"], "too large"),
    (["log", "--limit", "99999999999999999999999"], "--limit"),
    (["env", "add", "qa", "--capacity", "99999999999999999999"], "too large"),
    (["schedule", "1", "test", "9999-12-31T23:00", "--for", "3d"], "out of range"),
    (["schedule", "1", "test", "now", "--for", "99999999999999999d"], "out of range"),
    (["schedule", "1", "test", "0001-01-01T00:00", "--for", "1h"], "out of range"),
    (["schedule", "1", "test", "9500-01-01T00:00", "--for", "1h"], "out of range"),
    (
        ["freeze", "add", "all", "--start", "1900-01-01T00:00", "--end", "1900-01-02T00:00", "--reason", "x"],
        "out of range",
    ),
    (["freeze", "add", "all", "--cron", "0 0 * * *", "--for", "99999999999h", "--reason", "x"], "out of range"),
]


@pytest.mark.parametrize(("args", "message"), FOUND, ids=[" ".join(a)[:50] for a, _ in FOUND])
def test_numbers_and_times_past_the_edge_are_bad_input(
    run: Run, fuzz_template: Path, args: list[str], message: str
) -> None:
    db = fresh(run, fuzz_template)
    before = state_of(db)
    result = run(*args, db=db)
    assert_answer(result, repr(args))
    assert result.exit_code == 2
    assert message in result.stderr
    assert state_of(db) == before
