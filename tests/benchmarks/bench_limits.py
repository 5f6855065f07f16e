"""Boards at the limits (DESIGN.md "Limits — bounded work"): time and peak memory of a command each.

Run: ``python tests/benchmarks/bench_limits.py`` (a few minutes, most of it building the boards;
not collected by pytest). Builds, through the service as an operator would:

- ``hourly``: 1,000 every-hour freezes of 1–59 minutes in Pacific/Chatham on prod, and one
  90-day window in prod;
- ``spread``: 50 environments and 10,000 such freezes, 200 on each, and a 90-day window in
  each environment;
- ``columns``: ``spread`` without its freezes, the baseline of 50 columns;

each with a verified release in the stage before prod. Then, each in a fresh process, times
``relman conflicts``, ``relman move ID prod`` (its freeze gate refuses it: prod is frozen) and
the board's first paint (Textual's ``App.run_test``, headless, until the first frame; then,
in the same process, until the conflict marks arrive), and reads the process's peak resident
memory from the kernel (``wait4``). Target: each at most 2 s and 300 MB. Reports, never asserts.
Wall-clock seconds on a shared machine follow its load; the CPU seconds beside them do less.
``--limit-mb`` caps each process's address space (4 GB by default), so that code from before
the fix fails instead of taking the machine's memory; ``--code DIR`` measures another copy of
``relman_tui`` (``git archive 601b115 relman_tui | tar -x -C DIR``: the code before issue 18
item 9) on the same boards; ``--keep DIR`` builds the boards there once and reuses them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

PYTHON = sys.executable
RELMAN = str(Path(PYTHON).parent / "relman")
TARGET_SECONDS = 2.0
TARGET_MB = 300.0
ZONE = "Pacific/Chatham"  # +12:45 / +13:45: a quarter-hour offset and a clock change
ENVIRONMENTS = 50
MOVER = 1  # the first release made: the one that moves
CODE = ""  # --code: measure the relman_tui package in this directory instead (e.g. the code before a fix)

# Run in a fresh process: the board's first frame, then its conflict marks, each printed as it comes.
PAINT = """
import asyncio, gc, getpass, sys, time
from pathlib import Path
start = time.perf_counter()
from relman_tui.settings import Settings
from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import SystemClock
from relman_tui.tui.app import RelmanApp

service = Service(Store.open(Path(sys.argv[1])), SystemClock(), getpass.getuser())
gc.disable()  # as run_app reads the board before its event loop starts
first = service.snapshot(conflicts=False)
gc.enable()
gc.freeze()
app = RelmanApp(service, Settings(), "UTC", first_snapshot=first, poll_interval=0.2)

async def main() -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        # run_test hands over once the app is ready: its first screen composed and drawn
        print(f"painted {time.perf_counter() - start:.3f}", flush=True)
        await pilot.pause()
        deadline = time.monotonic() + 600
        while not (app.snapshot is not None and app.snapshot.checked) and time.monotonic() < deadline:
            await pilot.pause(0.01)
        print(f"marked {time.perf_counter() - start:.3f}", flush=True)

asyncio.run(main())
"""


@dataclass
class Figure:
    board: str
    what: str
    seconds: float
    cpu: float  # user + system seconds of the whole process
    mb: float
    note: str


def build(db: Path, environments: int, freezes: int, seed: int) -> int:
    """A board as described above; returns the id of the release waiting before prod (:data:`MOVER`)."""
    from relman_tui.service import Service
    from relman_tui.store import Store
    from relman_tui.timeutil import SystemClock

    subprocess.run([RELMAN, "--db", str(db), "init"], check=True, capture_output=True)
    service = Service(Store.open(db), SystemClock(), getpass.getuser())
    try:
        names = [env.name for env in service.environments()]
        while len(names) < environments:
            name = f"region{len(names):02d}"
            service.add_environment(name, capacity=2, after=names[-2])  # before prod: prod stays last
            names.insert(len(names) - 1, name)
        stages = [env.name for env in sorted(service.environments(), key=lambda e: e.position)]
        # The release that moves: verified in the stage before prod.
        mover = service.add_release("mover", "1.0")
        for stage in stages[:-1]:
            service.move(mover.id, stage)
            service.verify(mover.id)
        tomorrow = SystemClock().now().replace(minute=0, second=0) + timedelta(days=1)
        long = [env for env in service.environments() if env.name == "prod" or environments > 1]
        for env in long:
            release = service.add_release(f"long-{env.name}", "1.0")
            service.schedule(release.id, env.name, tomorrow, tomorrow + timedelta(days=90))
        rng = random.Random(seed)
        targets = ["prod"] if environments == 1 else stages
        for i in range(freezes):
            service.add_freeze(
                [targets[i % len(targets)]],
                f"hourly {i}",
                cron=f"{rng.randrange(60)} * * * *",
                duration=timedelta(minutes=rng.randint(1, 59)),
                zone=ZONE,
            )
        return mover.id
    finally:
        service.store.close()


def _cap(limit_mb: int | None) -> None:
    if limit_mb:
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))


def measure(
    argv: list[str], limit_mb: int | None, stream: bool = False
) -> tuple[float, float, float, int, list[str], str]:
    """(seconds, CPU seconds, peak MB, exit status, the last stdout lines, stderr's last line).

    Output goes to a file, as fast as a terminal takes it; with ``stream`` it comes through a
    pipe instead, each line prefixed with the seconds since the start when it came.
    """
    env = {**os.environ, "TZ": "UTC"}
    env.pop("RELMAN_NOW", None)
    if CODE:
        env["PYTHONPATH"] = CODE
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        begin = time.perf_counter()
        child = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE if stream else out,
            stderr=err,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),  # not the checkout: `python -c` would import the package from there
            preexec_fn=lambda: _cap(limit_mb),  # only setrlimit, before exec
        )
        lines: list[str] = []
        if child.stdout is not None:
            lines = [f"{time.perf_counter() - begin:.3f} {line.rstrip()}" for line in child.stdout]
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - begin
        child.returncode = os.waitstatus_to_exitcode(status)
        if not stream:
            # Only the last lines: a command from before the fix printed two million conflicts.
            out.seek(max(0, out.seek(0, os.SEEK_END) - 4096))
            lines = list(deque(out, maxlen=3))
        err.seek(0)
        said = err.read().strip().splitlines()
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, child.returncode, lines, (said[-1] if said else "")


def figures(name: str, db: Path, mover: int, limit_mb: int | None) -> list[Figure]:
    found = []
    seconds, cpu, mb, code, lines, err = measure([RELMAN, "--db", str(db), "conflicts"], limit_mb)
    summary = lines[-1].strip() if lines and code == 0 else err
    found.append(Figure(name, "`relman conflicts`", seconds, cpu, mb, f"exit {code}: {summary[:70]}"))
    seconds, cpu, mb, code, lines, err = measure([RELMAN, "--db", str(db), "move", str(mover), "prod"], limit_mb)
    found.append(Figure(name, "`relman move ID prod`", seconds, cpu, mb, f"exit {code}: {err[:70]}…"))
    seconds, cpu, mb, code, lines, err = measure([PYTHON, "-c", PAINT, str(db)], limit_mb, stream=True)
    times = {line.split()[1]: float(line.split()[0]) for line in lines}
    if "painted" in times:
        note = f"marks at {times['marked']:.2f} s" if "marked" in times else "no conflict marks"
        found.append(Figure(name, "board: first paint", times["painted"], cpu, mb, f"{note}; CPU and MB of the run"))
    if code != 0:
        found.append(Figure(name, "board", seconds, cpu, mb, f"exit {code}: {err[:70]}"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=int, default=4096, help="address-space cap per process (0: none)")
    parser.add_argument("--board", choices=["hourly", "spread", "columns"], action="append", help="only these")
    parser.add_argument("--code", default="", help="a directory holding another relman_tui to measure")
    parser.add_argument("--keep", default="", help="build the boards in this directory, or reuse them from it")
    args = parser.parse_args()
    global CODE
    CODE = args.code
    # "columns" is "spread" without its freezes: what 50 columns cost before any freeze.
    boards = {"hourly": (1, 1_000), "spread": (ENVIRONMENTS, 10_000), "columns": (ENVIRONMENTS, 0)}
    rows: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="relman-limits-") as tmp:
        for name, (environments, freezes) in boards.items():
            if args.board and name not in args.board:
                continue
            db = Path(args.keep or tmp) / f"{name}.db"
            began = time.perf_counter()
            if not db.exists():
                build(db, environments, freezes, seed=18)
            took = time.perf_counter() - began
            print(f"{name}: {environments} environment(s), {freezes:,} freezes (made or found in {took:.0f} s)")
            for figure in figures(name, db, MOVER, args.limit_mb or None):
                rows.append(figure)
                cost = f"{figure.seconds:.2f} s ({figure.cpu:.2f} s CPU), {figure.mb:.0f} MB"
                print(f"  {figure.what}: {cost}  {figure.note}", flush=True)
    print()
    print("| board | figure | seconds | CPU seconds | peak MB | within 2 s / 300 MB | outcome |")
    print("|---|---|--:|--:|--:|:-:|---|")
    for row in rows:
        met = "yes" if row.seconds <= TARGET_SECONDS and row.mb <= TARGET_MB else "**no**"
        print(f"| {row.board} | {row.what} | {row.seconds:.2f} | {row.cpu:.2f} | {row.mb:.0f} | {met} | {row.note} |")
    print(f"\n{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
