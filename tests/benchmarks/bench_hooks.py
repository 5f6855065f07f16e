"""What running a hook costs the runner, and how soon a commit wakes it, on a SQLite file.

Run: ``python tests/benchmarks/bench_hooks.py`` (not collected by pytest; reports, never asserts).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from relman_tui.demo import add_default_pipeline
from relman_tui.model import Hook
from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import SystemClock

EVENTS = 200
WAKES = 30


def service(db: Path) -> Service:
    return Service(Store.open(db, create=True), SystemClock(), "bench")


def run_once(db: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "relman_tui", "--db", str(db), "hooks", "run", "--once"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - started


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="relman-bench-hooks-"))
    os.chmod(folder, 0o700)
    env = dict(os.environ) | {"XDG_STATE_HOME": str(folder / "state"), "PYTHONPATH": str(Path(__file__).parents[2])}
    db = folder / "b.db"
    board = service(db)
    add_default_pipeline(board)
    empty = run_once(db, env)  # start-up and an empty pass, to subtract
    board.add_hook(Hook("moved", ("/bin/true",), timedelta(seconds=30)))
    for i in range(EVENTS):
        release = board.add_release(f"svc-{i}", "1.0")
        board.move(release.id, "dev")
    full = run_once(db, env)
    per_hook = (full - empty) / EVENTS * 1000
    print(f"{EVENTS} hooks (/bin/true) in one `hooks run --once`: {full:.2f} s, {per_hook:.1f} ms per hook")
    print(f"  (start-up and an empty pass: {empty:.2f} s)")

    stamp = folder / "stamp"
    board.add_hook(Hook("edited", ("/bin/sh", "-c", f"date +%s.%N > {stamp}"), timedelta(seconds=30)))
    runner = subprocess.Popen(
        [sys.executable, "-m", "relman_tui", "--db", str(db), "hooks", "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    waits = []
    try:
        release = board.add_release("woken", "1.0")
        for i in range(WAKES):
            stamp.unlink(missing_ok=True)
            committed = time.time()
            board.edit_release(release.id, notes=f"wake {i}")
            while not stamp.exists() or not stamp.read_text().strip():
                time.sleep(0.001)
            waits.append((float(stamp.read_text()) - committed) * 1000)
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait()
    print(
        f"commit → hook started, {WAKES} times: median {statistics.median(waits):.0f} ms, "
        f"max {max(waits):.0f} ms (the file is looked at every WATCH_POLL_S)"
    )


if __name__ == "__main__":
    main()
