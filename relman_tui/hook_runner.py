"""`relman hooks run`: one runner per board, woken by every commit, stopped by TERM, INT or HUP."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from types import FrameType

from relman_tui import settings as user_settings
from relman_tui.hooks import Runner, RunningFile, Stops
from relman_tui.service import Service
from relman_tui.store import ChangeWatcher, Interrupt

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)  # HUP: tmux kill-session, a closed terminal


class StoppedWaiting(Exception):
    """The runner was told to stop while it waited for another runner's lock."""


@contextlib.contextmanager
def stop_signals(stops: Stops, wake: Interrupt) -> Iterator[Callable[[bool], None]]:
    """TERM, INT and HUP stop the runner: the first lets the hook in flight finish, a second cuts it
    off (it runs again next time). While the runner waits for the lock, the first one ends the wait;
    while it waits for a change, the first one sets ``wake``, which ends that wait at once.
    Yields a switch that says whether the runner is waiting for the lock."""
    waiting = [False]

    def on_signal(signum: int, frame: FrameType | None) -> None:
        wake.set()
        if waiting[0]:
            stops.stopping.set()
            waiting[0] = False
            raise StoppedWaiting
        if stops.stopping.is_set():
            stops.cut.set()
            _say("relman: stopping now; a hook cut off runs again when a runner starts again")
        else:
            stops.stopping.set()
            _say("relman: stopping once the running hook (if any) finishes; signal again to cut it off")

    def set_waiting(on: bool) -> None:
        waiting[0] = on

    # a runner started under nohup keeps ignoring hang-ups, as it was asked to
    heard = [sig for sig in STOP_SIGNALS if not (sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN)]
    previous = {sig: signal.signal(sig, on_signal) for sig in heard}
    try:
        yield set_waiting
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _say(line: str) -> None:
    """Said from a signal handler: one unbuffered write, which cannot meet a half-done print."""
    with contextlib.suppress(OSError):
        os.write(2, (line + "\n").encode())


def running_file(service: Service) -> RunningFile:
    """Where this account's runner for this board notes the hook in flight (keyed by the board's identity)."""
    return RunningFile(user_settings.state_dir() / f"hooks-running-{service.store.runner_key()}")


def serve(
    service: Service,
    *,
    once: bool,
    poll: float,
    report: Callable[[str], None],
    warn: Callable[[str], None],
) -> None:
    """Run the board's hooks until stopped (with ``once``: what is pending, then return)."""
    stops = Stops()
    store = service.store
    runner = Runner(service, report=report, stops=stops, running=running_file(service))
    watcher = ChangeWatcher(store)
    with stop_signals(stops, watcher.interrupt) as set_waiting, contextlib.ExitStack() as held:
        try:
            with store.runner_lock(wait=False) as got:
                if not got:
                    warn("relman: another hook runner holds this board's lock; waiting for it")
            set_waiting(True)
            if stops.stopping.is_set():
                return
            held.enter_context(store.runner_lock(wait=True))
            set_waiting(False)
        except StoppedWaiting:
            return
        if stops.stopping.is_set():
            return
        assert runner.running is not None
        left = runner.running.stop_leftovers()  # a dead runner's hook, before its delivery runs again
        if left:
            warn(f"relman: stopped what a hook left running when the last runner died (pids {left})")
        # The mark is taken *before* reading: an event committed while a hook runs lies past
        # it, so the wait below returns at once for it instead of waiting for another write.
        watcher.mark()
        runner.run_pending()
        while not once and not stops.stopping.is_set():
            if not watcher.wait(poll).changed:
                continue
            watcher.mark()
            runner.run_pending()
