"""Many writers on one board: a PostgreSQL server against a SQLite file, doing the same work.

Two "hosts", each two processes, each process two writer threads with a connection of its own:
eight writers. Each writer, for a fixed time, reads a release, then moves it on one stage (forced,
with a reason) or rolls it back from the last one, against the revision it read — what operators
and scripts do all day. A change someone else made in between is refused (a stale write): that
is counted, not retried. On PostgreSQL every writer is its own login role in relman_operator;
on SQLite every writer is the same account (a file has no server to tell them apart).

Run: ``python tests/benchmarks/bench_pg.py [SECONDS]`` — it starts a throwaway cluster (the
tests' own, from tests/pg_support.py), prints the figures, and never asserts (not collected by
pytest). It needs the PostgreSQL server binaries and psycopg, like the PostgreSQL tests.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS.parent))
sys.path.insert(0, str(TESTS))

HOSTS = 2
PROCESSES_PER_HOST = 2
WRITERS_PER_PROCESS = 2
RELEASES = 24
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def writer_loop(target: str, actor: str, seconds: float, seed: int, out: list[tuple[str, float]]) -> None:
    """One writer: read, decide, write against the revision read, until the time is up."""
    import random

    from relman_tui.errors import RelmanError, StaleWrite
    from relman_tui.service import Service
    from relman_tui.store import open_store
    from relman_tui.timeutil import FixedClock

    rng = random.Random(seed)
    store = open_store(target)
    service = Service(store, FixedClock(NOW), actor)
    stages = service.stages()
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            rid = rng.randint(1, RELEASES)
            started = time.perf_counter()
            try:
                seen = service.release(rid)
                here = stages.index(seen.stage)
                if here == len(stages) - 1:
                    service.rollback(rid, "bench: back to the start", stage=stages[0], rev=seen.rev)
                else:
                    service.move(rid, stages[here + 1], force=True, reason="bench", rev=seen.rev)
                outcome = "moved"
            except StaleWrite:
                outcome = "stale"
            except RelmanError as exc:
                outcome = f"error: {exc}"
            out.append((outcome, time.perf_counter() - started))
    finally:
        store.close()


def process_main(targets: list[tuple[str, str]], seconds: float, seed: int, queue: Any) -> None:
    """One process of a "host": its writers in threads, each on its own connection."""
    results: list[list[tuple[str, float]]] = [[] for _ in targets]
    threads = [
        threading.Thread(target=writer_loop, args=(target, actor, seconds, seed * 10 + i, results[i]))
        for i, (target, actor) in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put([item for batch in results for item in batch])


def run(label: str, targets: list[tuple[str, str]], seconds: float) -> dict[str, Any]:
    """Start the processes (``PROCESSES_PER_HOST`` per host), gather every operation's outcome and time."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    per_process = WRITERS_PER_PROCESS
    processes = [
        ctx.Process(target=process_main, args=(targets[i : i + per_process], seconds, i, queue))
        for i in range(0, len(targets), per_process)
    ]
    for proc in processes:
        proc.start()
    outcomes: list[tuple[str, float]] = []
    for _ in processes:
        outcomes += queue.get(timeout=seconds + 120)
    for proc in processes:
        proc.join(60)
    moved = [t for what, t in outcomes if what == "moved"]
    latencies = sorted(t for _, t in outcomes)
    errors = [what for what, _ in outcomes if what.startswith("error")]
    return {
        "label": label,
        "writers": len(targets),
        "ops": len(outcomes),
        "moves": len(moved),
        "moves_per_s": len(moved) / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "stale": sum(1 for what, _ in outcomes if what == "stale"),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def seed_board(store: Any, actor: str) -> None:
    from relman_tui.demo import add_default_pipeline
    from relman_tui.service import Service
    from relman_tui.timeutil import FixedClock

    service = Service(store, FixedClock(NOW), actor)
    if not service.environments():
        add_default_pipeline(service)
    for i in range(RELEASES):
        service.add_release(f"service-{i:02d}", "1.0")
    store.close()


def live(label: str, writer: Any, watcher: Any, samples: int = 20) -> str:
    """A change committed on one connection until a store waiting on another is told (median, max)."""
    from relman_tui.service import Service
    from relman_tui.timeutil import FixedClock

    service = Service(writer, FixedClock(NOW), writer.server_account() or "bench")
    seen = watcher.last_seq()
    watcher.wait_for_change(0, after_seq=seen)
    times = []

    def wait(told: list[float]) -> None:
        if watcher.wait_for_change(5):
            told.append(time.perf_counter())

    for i in range(samples):
        told: list[float] = []
        waiting = threading.Thread(target=wait, args=(told,))
        waiting.start()
        time.sleep(0.05)  # the watcher is waiting (this is a benchmark: it sets the scene)
        begin = time.perf_counter()
        service.add_release(f"live-{i}", "1.0")
        waiting.join()
        times.append(told[0] - begin)
    return (
        f"{label:<18} change seen by a waiting board: median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms"
    )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    writers = HOSTS * PROCESSES_PER_HOST * WRITERS_PER_PROCESS
    from pg_support import INIT_TEMPLATE, running_cluster, skip_reason

    from relman_tui.store import Store, open_store

    reason = skip_reason()
    if reason:
        print(f"cannot run: {reason}")
        return
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        store = Store.open(path, create=True)
        seed_board(store, "bench")
        figures.append(run("SQLite file", [(str(path), "bench")] * writers, seconds))
        lines = [live("SQLite file", Store.open(path), Store.open(path, read_only=True))]
    with running_cluster() as cluster:
        cluster.make_templates(NOW)
        database = cluster.fresh_database(INIT_TEMPLATE)
        seed_board(open_store(cluster.url(database, "admin")), "admin")
        names = [f"host{h}-w{w}" for h in range(HOSTS) for w in range(PROCESSES_PER_HOST * WRITERS_PER_PROCESS)]
        for name in names:
            cluster.ensure_role(name)
        figures.append(run("PostgreSQL server", [(cluster.url(database, n), n) for n in names], seconds))
        lines.append(
            live(
                "PostgreSQL server",
                open_store(cluster.url(database, names[0])),
                open_store(cluster.url(database, names[1])),
            )
        )
    print(
        f"{writers} writers ({HOSTS} hosts × {PROCESSES_PER_HOST} processes × {WRITERS_PER_PROCESS} threads), "
        f"{RELEASES} releases, {seconds:.0f} s each; {os.cpu_count()} cores"
    )
    print(f"{'backend':<18} {'ops':>6} {'moves/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'stale':>6} {'errors':>6}")
    for f in figures:
        print(
            f"{f['label']:<18} {f['ops']:>6} {f['moves_per_s']:>8.1f} {f['p50_ms']:>7.1f} {f['p99_ms']:>7.1f} "
            f"{f['stale']:>6} {f['errors']:>6}" + (f"  ({f['first_error']})" if f["first_error"] else "")
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
