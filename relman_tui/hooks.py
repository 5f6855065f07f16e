"""The hook runner: starts the board's hook commands for each new event, in order, at least once.

Hooks run in exactly one place — `relman hooks run`, under the account a team starts it as —
never in a board or a CLI command, so a hook planted in a shared file cannot run as another
operator. The runner records each outcome as an event together with its progress in one
transaction: killed at any moment, it re-runs at most the one hook that was in flight.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from relman_tui.model import HOOK_OUTCOMES, Event, Hook
from relman_tui.service import HookOutcome, Service, event_record
from relman_tui.text import inert
from relman_tui.timeutil import format_duration

OUTPUT_LINES = 20  # the last lines of a hook's output kept in its outcome event
OUTPUT_CHARS = 2_000
BATCH = 500  # events read at a time
KILL_GRACE_S = 5.0  # between SIGTERM and SIGKILL for a hook past its timeout


def destination(event: Event) -> str | None:
    """The stage an event is about, as a hook's ``environment`` matches it."""
    environment = event.details.get("environment")
    if isinstance(environment, str):
        return environment
    return event.to or event.from_


def matches(hook: Hook, event: Event) -> bool:
    """Does ``hook`` run for ``event``? Only events after the one that added it, never a hook's own outcome."""
    if event.action in HOOK_OUTCOMES or event.action != hook.on or event.seq <= hook.added_seq:
        return False
    return hook.environment is None or destination(event) == hook.environment


def event_payload(event: Event, label: tuple[str, str] | None) -> dict[str, Any]:
    """The event as the hook reads it on stdin (the `relman log --json` shape, plus the release's name)."""
    return event_record(event) | {
        "release_name": label[0] if label else None,
        "release_version": label[1] if label else None,
    }


def hook_environment(event: Event, label: tuple[str, str] | None) -> dict[str, str]:
    """``RELMAN_*`` variables a hook gets, beside the runner's own environment."""
    return {
        "RELMAN_EVENT_SEQ": str(event.seq),  # the hook's idempotency key: at-least-once delivery
        "RELMAN_ACTION": event.action,
        "RELMAN_RELEASE_ID": "" if event.release is None else str(event.release),
        "RELMAN_RELEASE": label[0] if label else "",
        "RELMAN_VERSION": label[1] if label else "",
        "RELMAN_FROM": event.from_ or "",
        "RELMAN_TO": event.to or "",
        "RELMAN_ACTOR": event.actor,
    }


def run_hook(hook: Hook, event: Event, label: tuple[str, str] | None) -> HookOutcome:
    """Start ``hook`` for ``event`` (argv, no shell), wait up to its timeout, keep the tail of its output."""
    env = dict(os.environ) | hook_environment(event, label)  # $RELMAN_DB and friends pass on to the hook
    payload = json.dumps(event_payload(event, label), ensure_ascii=False).encode("utf-8")
    started = time.monotonic()
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as output:
        stdin.write(payload + b"\n")
        stdin.seek(0)
        try:
            proc = subprocess.Popen(
                list(hook.run),
                stdin=stdin,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: a timeout stops its children too
                close_fds=True,
            )
        except OSError as exc:
            return HookOutcome(None, 0, "", f"cannot start {inert(hook.run[0])}: {exc.strerror}")
        problem = ""
        try:
            proc.wait(timeout=hook.timeout.total_seconds())
        except subprocess.TimeoutExpired:
            problem = f"timed out after {format_duration(hook.timeout)}"
            _stop(proc)
        except BaseException:  # the runner is being stopped: do not leave the hook behind
            _stop(proc)
            raise
        duration_ms = int((time.monotonic() - started) * 1000)
        tail = _tail(output)
    status = None if problem else proc.returncode
    if not problem and status != 0:
        problem = f"killed by signal {-status}" if status is not None and status < 0 else f"exit status {status}"
    return HookOutcome(status, duration_ms, tail, problem)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(output: IO[bytes]) -> str:
    size = output.seek(0, os.SEEK_END)
    output.seek(max(0, size - 4 * OUTPUT_CHARS))
    text = output.read().decode("utf-8", "replace")
    lines = [inert(line) for line in text.splitlines()[-OUTPUT_LINES:]]
    joined = "\n".join(lines)
    return joined[-OUTPUT_CHARS:]


@dataclass
class Runner:
    """Runs the board's hooks for the events after its recorded progress."""

    service: Service
    report: Callable[[str], None] = lambda line: None
    stop: threading.Event | None = None

    def run_pending(self) -> int:
        """Handle every event recorded so far; the number of hooks run."""
        ran = 0
        while True:
            count, more = self._batch()
            ran += count
            if not more or self._stopping():
                return ran

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _batch(self) -> tuple[int, bool]:
        store = self.service.store
        hooks = self.service.hooks()
        if not hooks:
            return 0, False
        seq, done = store.hook_cursor()
        start = max(seq, min(h.added_seq for h in hooks) + 1)
        events = store.events(after_seq=start - 1, limit=BATCH)
        ran = 0
        quiet_until: int | None = None  # every event before this one is handled
        for event in events:
            todo = [h for h in hooks if matches(h, event) and not (event.seq == seq and h.id in done)]
            if not todo:
                quiet_until = event.seq + 1
                continue
            finished = list(done) if event.seq == seq else []
            label = self._label(event)
            for hook in todo:
                if self._stopping():
                    return ran, False
                outcome = run_hook(hook, event, label)
                finished.append(hook.id)
                self.service.record_hook_outcome(event, hook, outcome, finished)
                ran += 1
                self.report(_said(event, hook, outcome, label))
            seq, done, quiet_until = event.seq, finished, None
        if quiet_until is not None and quiet_until > seq:
            self.service.advance_hook_cursor(quiet_until)
        return ran, len(events) == BATCH

    def _label(self, event: Event) -> tuple[str, str] | None:
        if event.release is None:
            return None
        release = self.service.store.release(event.release)
        return (release.name, release.version) if release else None


def _said(event: Event, hook: Hook, outcome: HookOutcome, label: tuple[str, str] | None) -> str:
    what = f"{label[0]} {label[1]}" if label else (f"release #{event.release}" if event.release else "")
    result = "ok" if outcome.ok else f"FAILED ({outcome.problem})"
    return inert(
        f"#{event.seq} {event.action} {what}: {' '.join(hook.run)} — {result} in {outcome.duration_ms / 1000:.1f}s"
    )
