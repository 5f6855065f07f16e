"""relman against hostile freezes and far-apart windows (issue 10): the real CLI and the real board.

Run: ``python tests/benchmarks/bench_hostile.py`` (about a minute; not collected by pytest).
On the demo board (``relman demo --no-tui``), then with what issue 10 did to it, times
``relman conflicts``, ``relman move`` planned → dev and preprod → prod (each on a fresh copy;
the freeze refuses the second: "frozen until …"), and the first paint of the board in a real
pty. Each figure is a median of several runs, start-up included.
Target: each under a second. Reports, never asserts.

The boards:
- ``demo``: as seeded.
- ``minute freeze``: plus ``freeze add prod --cron '* * * * *' --for 1m`` and a prod window
  ten years on (written through the store: what limits allow, placed far from the rest).
- ``old database``: plus what only a database written before the limits can hold — a window in
  8999, a ``* * * * *`` freeze lasting 156 weeks and a New Year freeze lasting 999999 weeks.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from bench import fmt, machine, median  # noqa: E402
from pty_driver import Terminal  # noqa: E402

PYTHON = sys.executable
RELMAN = str(Path(PYTHON).parent / "relman")
BOARD_READY = "Production"  # the title of the last column, drawn with the columns and their cards
NOW = "2026-11-26T10:00:00Z"  # a Thursday: the demo's weekend freeze is not on
TARGET = 1.0  # seconds, for every figure


@dataclass
class Row:
    board: str
    what: str
    seconds: float
    note: str = ""


class HostileBench:
    def __init__(self, workdir: Path, repeat: int) -> None:
        self.workdir = workdir
        self.repeat = repeat
        self.env = {
            "RELMAN_NOW": NOW,
            "RELMAN_ACTOR": "operator",
            "XDG_CONFIG_HOME": str(workdir / "config"),
            "XDG_DATA_HOME": str(workdir / "data"),
            "XDG_STATE_HOME": str(workdir / "state"),
            "TZ": "UTC",
        }
        self.rows: list[Row] = []

    def relman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RELMAN, *args], check=check, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **self.env}
        )

    # -- the boards ------------------------------------------------------------------------------

    def boards(self) -> dict[str, Path]:
        demo = self.workdir / "demo.db"
        self.relman("--db", str(demo), "demo", "--no-tui")
        minute = self.workdir / "minute.db"
        copy_db(demo, minute)
        self.relman(
            "--db",
            str(minute),
            "freeze",
            "add",
            "prod",
            "--cron",
            "* * * * *",
            "--for",
            "1m",
            "--zone",
            "UTC",
            "--reason",
            "every minute",
        )
        now = datetime.fromisoformat(NOW)
        far = now.replace(year=now.year + 10)
        self.window(minute, planned_release(minute), "prod", far, far + timedelta(hours=2))
        old = self.workdir / "old.db"
        copy_db(minute, old)
        self.window(
            old,
            planned_release(old, skip=1),
            "prod",
            datetime.fromisoformat("8999-06-01T09:00:00+00:00"),
            datetime.fromisoformat("8999-06-01T11:00:00+00:00"),
        )
        self.old_freezes(old)
        return {"demo": demo, "minute freeze": minute, "old database": old}

    @staticmethod
    def window(db: Path, release_id: int, environment: str, start: datetime, end: datetime) -> None:
        from relman_tui.model import Window
        from relman_tui.store import Store

        store = Store.open(db)
        try:
            with store.write():
                store.set_window(Window(release_id, environment, start, end))
        finally:
            store.close()

    @staticmethod
    def old_freezes(db: Path) -> None:
        from relman_tui.model import Freeze
        from relman_tui.store import Store

        store = Store.open(db)
        try:
            with store.write():
                store.insert_freeze(
                    Freeze(
                        0, ("prod",), "156 weeks", cron="* * * * *", duration=timedelta(weeks=156), zone="Europe/Berlin"
                    )
                )
                store.insert_freeze(
                    Freeze(0, ("all",), "999999 weeks", cron="0 0 1 1 *", duration=timedelta(weeks=999999), zone="UTC")
                )
        finally:
            store.close()

    # -- the figures ------------------------------------------------------------------------------

    def timed(self, argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
        begin = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **self.env})
        return time.perf_counter() - begin, done

    def conflicts(self, name: str, db: Path) -> None:
        times, last = [], None
        for _ in range(self.repeat):
            seconds, last = self.timed([RELMAN, "--db", str(db), "conflicts"])
            times.append(seconds)
        assert last is not None
        summary = last.stdout.strip().splitlines()[-1] if last.stdout.strip() else last.stderr.strip()
        self.add(Row(name, "`relman conflicts`", median(times), f"exit {last.returncode}: {summary}"))

    def move(self, name: str, db: Path, release: int, stage: str, what: str) -> None:
        """``relman move`` on a fresh copy each time, so every run makes the same move."""
        times, last = [], None
        for i in range(self.repeat):
            copy = self.workdir / f"move-{i}.db"
            copy_db(db, copy)
            seconds, last = self.timed([RELMAN, "--db", str(copy), "move", str(release), stage])
            times.append(seconds)
        assert last is not None
        said = (last.stderr.strip() or last.stdout.strip()).split(": ", 2)[-1]
        self.add(Row(name, what, median(times), f"exit {last.returncode}" + (f": {said}" if last.returncode else "")))

    def first_paint(self, name: str, db: Path) -> None:
        times = []
        for _ in range(self.repeat):
            with Terminal([RELMAN, "--db", str(db)], self.env, cwd=str(self.workdir)) as term:
                times.append(term.wait_for(BOARD_READY, timeout=60) - term.started)
        self.add(Row(name, "first paint of the board", median(times)))

    def add(self, row: Row) -> None:
        self.rows.append(row)
        mark = "yes" if row.seconds < TARGET else "NO"
        print(f"  {row.board}: {row.what}: {fmt(row.seconds, 's')} {mark}  {row.note}", flush=True)

    def run(self) -> None:
        for name, db in self.boards().items():
            self.conflicts(name, db)
            self.move(name, db, planned_release(db), "dev", "`relman move ID dev` (planned → dev)")
            self.move(name, db, release_in(db, "preprod"), "prod", "`relman move ID prod` (preprod → prod)")
            self.first_paint(name, db)


def copy_db(source: Path, target: Path) -> None:
    """A database file and its write-ahead log, which may still hold the last writes."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
        else:
            Path(f"{target}{suffix}").unlink(missing_ok=True)


def planned_release(db: Path, skip: int = 0) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT id FROM releases WHERE stage = 'planned' AND state != 'cancelled' ORDER BY id LIMIT 1 OFFSET ?",
            (skip,),
        ).fetchone()
    return int(row[0])


def release_in(db: Path, stage: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT id FROM releases WHERE stage = ? AND state = 'verified' ORDER BY id LIMIT 1", (stage,)
        ).fetchone()
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="relman-hostile-") as tmp:
        bench = HostileBench(Path(tmp), 3 if args.quick else 7)
        bench.run()
    print()
    print("| board | figure | median | under 1 s | outcome |")
    print("|---|---|--:|:-:|---|")
    for row in bench.rows:
        met = "yes" if row.seconds < TARGET else "**no**"
        print(f"| {row.board} | {row.what} | {fmt(row.seconds, 's')} | {met} | {row.note} |")
    under = sum(row.seconds < TARGET for row in bench.rows)
    took = time.perf_counter() - started
    print(f"\n{under} of {len(bench.rows)} under {TARGET:.0f} s in {took:.0f} s on {machine()}")


if __name__ == "__main__":
    main()
