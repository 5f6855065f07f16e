"""What watching an idle board costs: the CPU of `relman hooks run` and of the board's watcher thread.

Run: ``python tests/benchmarks/bench_idle.py [--seconds 10] [--code DIR]`` (not collected by pytest;
reports, never asserts). On a fresh demo board (a SQLite file) nothing changes while it measures:

- ``hooks run``: a runner left waiting for ``--seconds``, then stopped with SIGTERM; its user+sys
  CPU seconds from the kernel (``wait4``) beside those of ``hooks run --once`` (start-up and one
  pass), and the process's own CPU seconds from its first look at the file (its first wait) to
  its end;
- the board: the app headless (``App.run_test``) for ``--seconds`` after its first snapshot; the
  CPU seconds of its watcher thread alone (the thread's own clock), and how often it looked at the
  file (``PRAGMA data_version``).

``--code DIR`` measures another copy of ``relman_tui`` on the same board (``git archive REV
relman_tui | tar -x -C DIR``: the code before a change).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

# Run in a fresh process: the board, idle for argv[2] seconds; prints the watcher thread's CPU seconds.
BOARD = """
import asyncio, getpass, sys, threading, time
from pathlib import Path
from relman_tui.settings import Settings
from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import SystemClock
from relman_tui.tui.app import RelmanApp
from relman_tui.tui.session import Session

seconds = float(sys.argv[2])
threads: list[int] = []
looks = [0]
poll, version = Session._poll, Store.data_version

def watched(self: Session) -> None:
    threads.append(threading.get_ident())
    poll(self)

def counted(self: Store) -> int:
    looks[0] += 1
    return version(self)

Session._poll = watched
Store.data_version = counted
service = Service(Store.open(Path(sys.argv[1])), SystemClock(), getpass.getuser())
app = RelmanApp(service, Settings(), "UTC")

async def main() -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        while app.snapshot is None or not app.snapshot.checked or not threads:
            await pilot.pause(0.05)
        clock = time.pthread_getcpuclockid(threads[0])
        cpu, seen = time.clock_gettime(clock), looks[0]
        await asyncio.sleep(seconds)
        cpu, seen = time.clock_gettime(clock) - cpu, looks[0] - seen
        print(f"{cpu:.4f} {seen}", flush=True)

asyncio.run(main())
"""


# `relman ARGS…` in a fresh process; into the file $RELMAN_BENCH_LOOKS names, at exit: its looks at the file,
# and the CPU and wall-clock seconds from its first look (the runner's first wait) to its end.
RELMAN = """
import atexit, os, sys, time
from pathlib import Path
from relman_tui.store import Store
looks: list[tuple[float, float]] = []
version = Store.data_version

def counted(self: Store) -> int:
    looks.append((time.process_time(), time.monotonic()))
    return version(self)

def said() -> None:
    cpu, wall = (time.process_time() - looks[0][0], time.monotonic() - looks[0][1]) if looks else (0.0, 0.0)
    Path(os.environ["RELMAN_BENCH_LOOKS"]).write_text(f"{len(looks)} {cpu} {wall}")

Store.data_version = counted
atexit.register(said)
sys.argv = ["relman", *sys.argv[1:]]
from relman_tui.cli import main
main()
"""


def env_for(code: Path, state: Path) -> dict[str, str]:
    return dict(os.environ) | {"PYTHONPATH": str(code), "XDG_STATE_HOME": str(state), "TERM": "dumb"}


def cpu_of(args: list[str], env: dict[str, str], *, stop_after: float | None = None) -> tuple[float, list[float]]:
    """User+sys CPU seconds of `relman ARGS` (stopped with SIGTERM after ``stop_after`` seconds), and
    how often it looked at the file, and the CPU and wall seconds from its first look to its end."""
    looks = Path(env["RELMAN_BENCH_LOOKS"])
    looks.unlink(missing_ok=True)
    quiet = subprocess.DEVNULL
    child = subprocess.Popen([PYTHON, "-c", RELMAN, *args], env=env, stdout=quiet, stderr=quiet)
    if stop_after is not None:
        time.sleep(stop_after)  # the idle time being measured, not a wait for a condition
        child.send_signal(signal.SIGTERM)
    _pid, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, f"{args} ended with {status}"
    return usage.ru_utime + usage.ru_stime, [float(word) for word in looks.read_text().split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3, help="runs of each `hooks run` (the median is shown)")
    parser.add_argument("--code", type=Path, default=HERE.parents[1], help="the directory holding relman_tui")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="relman-bench-idle-"))
    os.chmod(folder, 0o700)
    env = env_for(args.code.resolve(), folder / "state") | {"RELMAN_BENCH_LOOKS": str(folder / "looks")}
    db = folder / "demo.db"
    demo = [PYTHON, "-m", "relman_tui", "--db", str(db), "demo", "--no-tui"]
    subprocess.run(demo, check=True, env=env, capture_output=True)
    print(f"code: {args.code.resolve()}; idle for {args.seconds:g} s on a demo board (a SQLite file)")

    runner = ["--db", str(db), "hooks", "run"]
    once = statistics.median(cpu_of([*runner, "--once"], env)[0] for _ in range(args.runs))
    idle = [cpu_of(runner, env, stop_after=args.seconds) for _ in range(args.runs)]
    whole = statistics.median(cpu for cpu, _ in idle)
    looks, waited, wall = (statistics.median(seen[i] for _, seen in idle) for i in range(3))
    print(
        f"hooks run (median of {args.runs}): {whole:.3f} s user+sys in all (--once, start-up and one pass: "
        f"{once:.3f} s); from its first wait to its end: {waited:.4f} s CPU over {wall:.1f} s "
        f"({waited / wall * 100:.2f}% of a core), {looks:.0f} looks at the file"
    )

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [PYTHON, "-c", BOARD, str(db), str(args.seconds)], check=True, env=env, capture_output=True, text=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    thread, board_looks = out.stdout.split()
    cpu = float(thread)
    process = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(
        f"board's watcher thread: {cpu:.3f} s CPU over {args.seconds:g} s idle "
        f"({cpu / args.seconds * 100:.2f}% of a core), {board_looks} looks at the file "
        f"(the whole headless board process: {process:.2f} s)"
    )


if __name__ == "__main__":
    main()
