"""How long `relman insights --json` takes on a board of 100,000 events (the target: at most 1 s on 2 cores).

Run: ``python tests/benchmarks/bench_insights.py [EVENTS]`` (not collected by pytest; reports, never asserts).
The board is a `relman demo --releases N` board, N chosen so that its log holds at least EVENTS events
(default 100,000); it is made once in a temporary directory and read several times.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock, from_stamp

NOW = "2026-12-01T10:00:00Z"
EVENTS_PER_RELEASE = 6.8  # what the demo's histories come to, about
RUNS = 5


def relman(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELMAN_NOW": NOW, "RELMAN_TZ": "UTC"}
    return subprocess.run(
        [sys.executable, "-m", "relman_tui", *args], env=env, capture_output=True, text=True, check=True
    )


def main() -> None:
    wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.db"
        releases = int(wanted / EVENTS_PER_RELEASE) + 200
        started = time.perf_counter()
        relman("--db", str(db), "demo", "--no-tui", "--releases", str(releases))
        events = sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0]
        print(f"board: {releases} releases, {events} events (made in {time.perf_counter() - started:.1f} s)")

        whole = []
        for _ in range(RUNS):
            started = time.perf_counter()
            out = relman("--db", str(db), "insights", "--json")
            whole.append(time.perf_counter() - started)
        figures = json.loads(out.stdout)
        print(
            f"figures: {figures['deployments']['n']} deployments into {figures['environment']}, "
            f"{figures['change_failure_rate']['numerator']} failed, lead time n {figures['lead_time']['n']}"
        )
        bare = []
        for _ in range(RUNS):
            started = time.perf_counter()
            relman("--db", str(db), "--version")
            bare.append(time.perf_counter() - started)

        store = Store.open(db, read_only=True)
        service = Service(store, FixedClock(from_stamp(NOW)), "bench")
        read, computed = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            found = store.delivery_rows("prod")
            read.append(time.perf_counter() - started)
            started = time.perf_counter()
            service.insights()
            computed.append(time.perf_counter() - started)
        store.close()
        print(f"read {len(found)} of the events the figures need")

    def show(label: str, times: list[float]) -> None:
        print(f"{label:<44} median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f})")

    show("`relman insights --json`, whole process", whole)
    show("`relman --version` (start-up alone)", bare)
    show("store.delivery_rows (one query)", read)
    show("service.insights (query + figures + trend)", computed)


if __name__ == "__main__":
    main()
