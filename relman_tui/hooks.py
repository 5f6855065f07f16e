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
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from relman_tui import hook_process
from relman_tui.actions import HOOK_OUTCOMES
from relman_tui.details import EventRecord
from relman_tui.model import Event, Hook
from relman_tui.service import HookOutcome, Service, event_record
from relman_tui.text import inert
from relman_tui.timeutil import format_duration

OUTPUT_LINES = 20  # the last lines of a hook's output kept in its outcome event
OUTPUT_CHARS = 2_000
BATCH = 500  # events read at a time
KILL_GRACE_S = 5.0  # between SIGTERM and SIGKILL for a hook past its timeout
WAIT_SLICE_S = 0.05  # at most this long between looks at a running hook (has it exited, timed out, been cut?)


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


@dataclass(frozen=True, slots=True)
class RecordedRelease:
    """The release an event is about, as the event recorded it (``details["release"]``)."""

    id: int
    name: str | None  # None: an event from before events recorded their release; only its id is known
    version: str | None
    components: tuple[str, ...]

    @property
    def recorded(self) -> bool:
        return self.name is not None

    def describe(self) -> str:
        if self.recorded:
            return f"{self.name} {self.version}"
        return f"release #{self.id} (name and version not recorded in this event)"


def recorded_release(event: Event) -> RecordedRelease | None:
    """The release as ``event`` recorded it — never the row as it is now, which may have been edited
    since (a hook must deploy the version that passed the gates)."""
    if event.release is None:
        return None
    record = event.details.get("release")
    if record is not None:
        return RecordedRelease(event.release, record["name"], record["version"], tuple(record["components"]))
    return RecordedRelease(event.release, None, None, ())


class HookPayload(EventRecord):
    """What a hook reads on stdin: the event as `relman log --json` prints it, and its release as recorded."""

    release_name: str | None
    release_version: str | None
    release_components: list[str] | None
    release_recorded: bool


def event_payload(event: Event, release: RecordedRelease | None) -> HookPayload:
    """The event as the hook reads it on stdin (the `relman log --json` shape, plus the release as recorded)."""
    recorded = release is not None and release.recorded
    return {
        **event_record(event),
        "release_name": release.name if release else None,
        "release_version": release.version if release else None,
        "release_components": list(release.components) if recorded and release else None,
        "release_recorded": recorded,
    }


def hook_environment(event: Event, release: RecordedRelease | None) -> dict[str, str]:
    """``RELMAN_*`` variables a hook gets, beside the runner's own environment."""
    return {
        "RELMAN_EVENT_SEQ": str(event.seq),  # the hook's idempotency key: at-least-once delivery
        "RELMAN_ACTION": event.action,
        "RELMAN_RELEASE_ID": "" if event.release is None else str(event.release),
        "RELMAN_RELEASE": (release.name or "") if release else "",
        "RELMAN_VERSION": (release.version or "") if release else "",
        "RELMAN_COMPONENTS": ",".join(release.components) if release else "",
        # "no": an old event that did not record its release; the hook gets its id only
        "RELMAN_RELEASE_RECORDED": "" if release is None else ("yes" if release.recorded else "no"),
        "RELMAN_FROM": event.from_ or "",
        "RELMAN_TO": event.to or "",
        "RELMAN_ACTOR": event.actor,
    }


@dataclass
class Stops:
    """How a runner is being told to stop: ``stopping`` lets the running hook finish, ``cut`` does not."""

    stopping: threading.Event = field(default_factory=threading.Event)
    cut: threading.Event = field(default_factory=threading.Event)


def run_hook(
    hook: Hook,
    event: Event,
    release: RecordedRelease | None,
    stops: Stops | None = None,
    running: RunningFile | None = None,
) -> HookOutcome | None:
    """Start ``hook`` for ``event`` (argv, no shell), wait up to its timeout, keep the tail of its output.

    None when the hook was cut off because the runner is stopping (it did not succeed after the
    stop came, or was cut on a second signal): that is no outcome, and it runs again next time.
    """
    stops = stops or Stops()
    token = hook_process.new_token()
    env = dict(os.environ) | hook_environment(event, release) | {hook_process.TOKEN_VARIABLE: token}
    payload = json.dumps(event_payload(event, release), ensure_ascii=False).encode("utf-8")
    started = time.monotonic()
    deadline = started + hook.timeout.total_seconds()
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as output:
        stdin.write(payload + b"\n")
        stdin.seek(0)
        try:
            proc = hook_process.start(hook.run, env, stdin, output)
        except OSError as exc:
            return HookOutcome(None, 0, "", f"cannot start {inert(hook.run[0])}: {exc.strerror}")
        if running is not None:
            running.save(hook_process.identify(proc, token))
        problem = ""
        try:
            pause = 0.001
            while not hook_process.exited(proc):
                if stops.cut.is_set():
                    hook_process.stop_group(proc.pid, KILL_GRACE_S, proc)
                    return None
                if time.monotonic() >= deadline:
                    problem = f"timed out after {format_duration(hook.timeout)}"
                    break
                time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                pause = min(pause * 2, WAIT_SLICE_S)
            # at its timeout, or what its leader left running when it exited: none is left behind
            hook_process.stop_group(proc.pid, KILL_GRACE_S, proc)
        except BaseException:  # the runner is failing: do not leave the hook behind
            hook_process.stop_group(proc.pid, KILL_GRACE_S, proc)
            raise
        finally:
            if running is not None:
                running.clear()
        duration_ms = int((time.monotonic() - started) * 1000)
        tail = _tail(output)
    status = None if problem else proc.returncode
    if not problem and status != 0:
        if stops.stopping.is_set():
            return None  # ended while the runner was being stopped (a supervisor TERMed it too): not its outcome
        problem = f"killed by signal {-status}" if status is not None and status < 0 else f"exit status {status}"
    return HookOutcome(status, duration_ms, tail, problem)


@dataclass(frozen=True, slots=True)
class RunningFile:
    """Where the runner notes the hook run in flight, so that a runner started after it died can stop
    what it left behind before it runs that delivery again."""

    path: Path

    def save(self, running: hook_process.Running) -> None:
        temp = self.path.with_name(self.path.name + ".tmp")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temp.write_text(running.text())
            os.replace(temp, self.path)

    def load(self) -> hook_process.Running | None:
        try:
            return hook_process.Running.parse(self.path.read_text())
        except OSError:
            return None

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()

    def stop_leftovers(self) -> list[int]:
        """Stop a hook run a dead runner left behind (its whole session); the pids found."""
        found = self.load()
        stopped = hook_process.stop_leftovers(found, KILL_GRACE_S) if found else []
        self.clear()
        return stopped


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
    stops: Stops = field(default_factory=Stops)
    running: RunningFile | None = None

    def run_pending(self) -> int:
        """Handle every event recorded so far; the number of hooks run."""
        ran = 0
        while True:
            count, more = self._batch()
            ran += count
            if not more or self._stopping():
                return ran

    def _stopping(self) -> bool:
        return self.stops.stopping.is_set()

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
            release = recorded_release(event)
            for hook in todo:
                if self._stopping():
                    return ran, False
                outcome = run_hook(hook, event, release, self.stops, self.running)
                if outcome is None:
                    self.report(inert(f"#{event.seq} {event.action}: {' '.join(hook.run)} — cut off, runs again"))
                    return ran, False
                finished.append(hook.id)
                self.service.record_hook_outcome(event, hook, outcome, finished)
                ran += 1
                self.report(_said(event, hook, outcome, release))
            seq, done, quiet_until = event.seq, finished, None
        if quiet_until is not None and quiet_until > seq:
            self.service.advance_hook_cursor(quiet_until)
        return ran, len(events) == BATCH


def _said(event: Event, hook: Hook, outcome: HookOutcome, release: RecordedRelease | None) -> str:
    what = release.describe() if release else ""
    result = "ok" if outcome.ok else f"FAILED ({outcome.problem})"
    return inert(
        f"#{event.seq} {event.action} {what}: {' '.join(hook.run)} — {result} in {outcome.duration_ms / 1000:.1f}s"
    )
