"""relman's speed as a person sees it: the whole TUI in a real pty, the CLI, the conflict engine.

Run: ``python tests/benchmarks/bench.py`` (a few minutes; not collected by pytest). Prints one
table of figure / value / target / met. Each timed figure is a median of several runs, taken in
turn with its baseline in the same run, so a busy machine slows both alike. ``--quick`` runs
fewer repetitions (for trying things out; publish figures from a full run).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from pty_driver import Terminal  # noqa: E402

PYTHON = sys.executable
RELMAN = str(Path(PYTHON).parent / "relman")
BARE_APP = [PYTHON, str(HERE / "bare_app.py")]
BARE_READY = "bare app ready"
BOARD_READY = "Production"  # the title of the last column, drawn with the columns and their cards
NOW = "2026-11-26T10:00:00Z"  # a Thursday: no weekend freeze on prod
BIG = 10_000
DEV_TITLE = "Development"


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str
    met: bool
    note: str = ""


def median(values: list[float]) -> float:
    return statistics.median(values)


class Bench:
    def __init__(self, workdir: Path, repeat: int, samples: int) -> None:
        self.workdir = workdir
        self.repeat = repeat  # runs per first-paint and CLI median
        self.samples = samples  # moves / writes per latency median
        self.env = {
            "RELMAN_NOW": NOW,
            "XDG_STATE_HOME": str(workdir / "state"),
            "XDG_CONFIG_HOME": str(workdir / "config"),
            "XDG_DATA_HOME": str(workdir / "data"),
            "TZ": "UTC",
        }
        os.environ.update(self.env)
        self.demo = workdir / "demo.db"
        self.big = workdir / "big.db"
        self.figures: list[Figure] = []

    def relman(self, *args: str) -> None:
        subprocess.run([RELMAN, *args], check=True, capture_output=True, env={**os.environ, **self.env})

    def prepare(self) -> None:
        self.relman("--db", str(self.demo), "demo", "--no-tui")
        self.relman("--db", str(self.big), "demo", "--no-tui", "--releases", str(BIG))

    def copy(self, source: Path, name: str) -> Path:
        target = self.workdir / name
        shutil.copy(source, target)
        return target

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        mark = "yes" if figure.met else "NO"
        print(f"  {figure.name}: {fmt(figure.value, figure.unit)} (target {figure.target}) {mark}", flush=True)

    # -- the TUI ---------------------------------------------------------------------------------

    def paint(self, argv: list[str], ready: str) -> float:
        with Terminal(argv, self.env, cwd=str(self.workdir)) as term:
            return term.wait_for(ready) - term.started

    def first_paint(self, db: Path, label: str, target: float) -> None:
        bare, board = [], []
        for _ in range(self.repeat):
            bare.append(self.paint(BARE_APP, BARE_READY))
            board.append(self.paint([RELMAN, "--db", str(db)], BOARD_READY))
        ratio = median(board) / median(bare)
        self.add(
            Figure(
                f"first paint, {label} / bare Textual app",
                ratio,
                "x",
                f"≤ {target:.1f}×",
                ratio <= target,
                f"{median(board) * 1000:.0f} ms / {median(bare) * 1000:.0f} ms",
            )
        )

    def idle_and_rss(self, db: Path, label: str, rss_target: float | None) -> None:
        with Terminal([RELMAN, "--db", str(db)], self.env, cwd=str(self.workdir)) as term:
            term.wait_for(BOARD_READY)
            term.settle(1.0)
            cpu, written = term.cpu_seconds(), term.offset
            time.sleep(5)
            cpu, written = term.cpu_seconds() - cpu, term.offset - written
            rss = term.peak_rss_mb()
        self.add(Figure(f"idle 5 s, {label}: bytes to the terminal", written, "B", "< 200", written < 200))
        self.add(Figure(f"idle 5 s, {label}: CPU", cpu, "s", "< 0.05 s", cpu < 0.05))
        self.add(
            Figure(
                f"peak RSS, {label}",
                rss,
                "MB",
                f"≤ {rss_target:.0f} MB" if rss_target else "—",
                rss <= rss_target if rss_target else True,
            )
        )

    def move_latency(self, source: Path | None = None, label: str = "") -> None:
        """`>` on the first planned card until the Development header shows one more release."""
        db = self.copy(source or self.demo, f"move-{(source or self.demo).stem}.db")
        add_planned(db, "bench-key", self.samples + 2)
        dev = count_in(db, "dev")
        times = []
        with Terminal([RELMAN, "--db", str(db)], self.env, cwd=str(self.workdir)) as term:
            term.wait_for(BOARD_READY)
            term.settle(0.5)
            for i in range(self.samples):
                term.type(b"h")  # back to the planned column (the cursor followed the last move)
                term.type(b"\x1b[H")  # home: its first card
                term.settle(0.2)
                since = term.offset
                sent = term.type(b">")
                seen = term.wait_for(header(DEV_TITLE, dev + i + 1), since, timeout=10)
                times.append(seen - sent)
                term.settle(0.1)
        value = median(times) * 1000
        self.add(
            Figure(
                f"key → screen, one-stage move{label} (median of {self.samples})",
                value,
                "ms",
                "≤ 50 ms",
                value <= 50,
                f"max {max(times) * 1000:.0f} ms",
            )
        )

    def scroll(self) -> None:
        """`pgdn` in a column of thousands of cards until the frame it causes is written."""
        times = []
        with Terminal([RELMAN, "--db", str(self.big)], self.env, cwd=str(self.workdir)) as term:
            term.wait_for(BOARD_READY)
            term.settle(1.0)  # the conflict marks are in
            term.type(b"\x1b[H")  # home: the first card of the planned column
            term.settle(0.3)
            for _ in range(self.samples):
                since = term.offset
                sent = term.type(b"\x1b[6~")  # page down
                times.append(term.answered(since) - sent)
                term.settle(0.05)
        value = median(times) * 1000
        self.add(
            Figure(
                f"scroll a column of {BIG:,} by a page, key → frame written (median of {self.samples})",
                value,
                "ms",
                "≤ 16 ms",
                value <= 16,
                f"max {max(times) * 1000:.0f} ms",
            )
        )

    def live_latency(self) -> None:
        """Another process moves a release (the Service API, in this process, so no CLI start-up
        is counted); time until the board's Development header shows it."""
        from relman_tui.service import Service
        from relman_tui.store import Store
        from relman_tui.timeutil import FixedClock

        db = self.copy(self.demo, "live.db")
        ids = add_planned(db, "bench-live", self.samples)
        dev = count_in(db, "dev")
        times = []
        with Terminal([RELMAN, "--db", str(db)], self.env, cwd=str(self.workdir)) as term:
            term.wait_for(BOARD_READY)
            term.settle(0.5)
            store = Store.open(db)
            service = Service(store, FixedClock(datetime.fromisoformat(NOW)), "bench")
            try:
                for i, release_id in enumerate(ids):
                    since = term.offset
                    begin = time.perf_counter()
                    service.move(release_id, "dev")
                    seen = term.wait_for(header(DEV_TITLE, dev + i + 1), since, timeout=10)
                    times.append(seen - begin)
                    term.settle(0.05)
                    time.sleep(0.137 * (i % 4))  # land the writes at different points of the poll interval
            finally:
                store.close()
        value = median(times)
        self.add(
            Figure(
                f"another process's write → on the board (median of {self.samples})",
                value,
                "s",
                "≤ 0.3 s",
                value <= 0.3,
                f"max {max(times):.2f} s",
            )
        )

    # -- the CLI and the engine ------------------------------------------------------------------

    def cli(self) -> None:
        floor, cli = [], []
        for _ in range(max(10, self.repeat * 2)):
            floor.append(wall([PYTHON, "-c", "import sqlite_utils, pendulum, click"]))
            cli.append(wall([RELMAN, "--db", str(self.demo), "env", "list", "--json"]))
        ratio = median(cli) / median(floor)
        self.add(
            Figure(
                "`relman env list --json` / import floor",
                ratio,
                "x",
                "≤ 1.1×",
                ratio <= 1.1,
                f"{median(cli) * 1000:.0f} ms / {median(floor) * 1000:.0f} ms",
            )
        )

    def conflicts(self) -> None:
        import bench_conflicts as bc

        from relman_tui.conflicts import find_conflicts

        releases, freezes = bc.board(100_000, 1_000)
        big = bc.median_time(lambda: find_conflicts(bc.ENVIRONMENTS, releases, freezes, bc.NOW), 3)
        self.add(Figure("conflicts, 100,000 windows + 1,000 freezes", big * 1000, "ms", "≤ 1000 ms", big <= 1.0))
        small_r, small_f = bc.board(5_000, 50, seed=11)
        fast = bc.median_time(lambda: find_conflicts(bc.ENVIRONMENTS, small_r, small_f, bc.NOW), 5)
        slow = bc.median_time(lambda: bc.naive(small_r, small_f, bc.NOW), 1)
        self.add(
            Figure(
                "conflicts at 5,000 windows: pairwise / engine",
                slow / fast,
                "x",
                "≥ 100×",
                slow / fast >= 100,
                f"{fast * 1000:.1f} ms vs {slow * 1000:.0f} ms",
            )
        )

    def run(self, only: set[str] | None) -> None:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("paint", lambda: self.first_paint(self.demo, "demo (30 releases)", 1.5)),
            ("paint", lambda: self.first_paint(self.big, f"{BIG:,} releases", 2.0)),
            ("move", self.move_latency),
            ("move", lambda: self.move_latency(self.big, f", {BIG:,} releases")),
            ("scroll", self.scroll),
            ("live", self.live_latency),
            ("idle", lambda: self.idle_and_rss(self.demo, "demo", None)),
            ("idle", lambda: self.idle_and_rss(self.big, f"{BIG:,} releases", 120)),
            ("cli", self.cli),
            ("conflicts", self.conflicts),
        ]
        self.prepare()
        for key, step in steps:
            if only is None or key in only:
                step()


def header(title: str, count: int) -> re.Pattern[str]:
    """A column header line: the title, spaces, and the count (then no further digit)."""
    return re.compile(rf"{re.escape(title)} +{count}(?!\d)")


def add_planned(db: Path, prefix: str, count: int) -> list[int]:
    from relman_tui.service import Service
    from relman_tui.store import Store
    from relman_tui.timeutil import FixedClock

    store = Store.open(db)
    try:
        service = Service(store, FixedClock(datetime.fromisoformat(NOW)), "bench")
        return [service.add_release(f"{prefix}-{i:02d}", "1.0", ["bench"], "bench", "low", "").id for i in range(count)]
    finally:
        store.close()


def count_in(db: Path, stage: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT count(*) FROM releases WHERE stage = ? AND state != 'cancelled'", (stage,)
        ).fetchone()
    return int(row[0])


def wall(argv: list[str]) -> float:
    begin = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - begin


def fmt(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "B":
        return f"{value:.0f} B"
    if unit == "s":
        return f"{value:.3f} s" if value < 0.1 else f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value}"


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} × {model}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--only", action="append", help="paint, move, scroll, live, idle, cli or conflicts (repeatable)"
    )
    args = parser.parse_args()
    repeat, samples = (3, 8) if args.quick else (7, 20)
    print(f"machine: {machine()}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="relman-bench-") as tmp:
        bench = Bench(Path(tmp), repeat, samples)
        bench.run(set(args.only) if args.only else None)
    print()
    rows = [("figure", "value", "target", "met")] + [
        (f.name + (f" ({f.note})" if f.note else ""), fmt(f.value, f.unit), f.target, "yes" if f.met else "**no**")
        for f in bench.figures
    ]
    print("| " + " | ".join(rows[0]) + " |")
    print("|---|--:|--:|:-:|")
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")
    print(
        f"\n{sum(f.met for f in bench.figures)} of {len(bench.figures)} targets met "
        f"in {time.perf_counter() - started:.0f} s on {machine()}"
    )


if __name__ == "__main__":
    main()
