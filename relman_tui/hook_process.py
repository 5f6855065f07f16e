"""A hook's process group: started so it dies with the runner, stopped whole, found again if left behind."""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1
TOKEN_VARIABLE = "RELMAN_HOOK_TOKEN"  # marks every process of one hook run, children included
LOOK_EVERY_S = 0.02  # how often a stopping group is looked at (only while one is being stopped)
KILLED_WITHIN_S = 60.0  # SIGKILL is not refused, but a process in uninterruptible sleep dies late


@dataclass(frozen=True, slots=True)
class Running:
    """What identifies one hook run's processes, kept beside the runner's lock while it runs."""

    session: int  # the leader's pid: its session and process group
    started: int  # the leader's start time, in clock ticks since boot (/proc/PID/stat)
    boot: str  # the boot it started in: pids and start times mean nothing across a reboot
    token: str  # in every member's environment, unless a member cleared it

    def text(self) -> str:
        return f"{self.session} {self.started} {self.boot} {self.token}\n"

    @classmethod
    def parse(cls, text: str) -> Running | None:
        parts = text.split()
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        return cls(int(parts[0]), int(parts[1]), parts[2], parts[3])


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def new_token() -> str:
    return secrets.token_hex(16)


def _die_with_parent(parent: int) -> Callable[[], None]:
    """Run in the child between fork and exec: a SIGKILLed runner takes its hook's leader with it."""
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork, not in the child

    def setup() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the runner died before the line above: do not outlive it
            os._exit(1)

    return setup


def start(argv: Sequence[str], env: Mapping[str, str], stdin: IO[bytes], output: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start ``argv`` (no shell) as the leader of a session and process group of its own."""
    return subprocess.Popen(
        list(argv),
        stdin=stdin,
        stdout=output,
        stderr=subprocess.STDOUT,
        env=dict(env),
        start_new_session=True,  # its own group: a timeout or a stop reaches its children too
        close_fds=True,
        preexec_fn=_die_with_parent(os.getpid()) if Path("/proc/self").exists() else None,
    )


def identify(proc: subprocess.Popen[bytes], token: str) -> Running:
    stat = _stat(proc.pid)
    return Running(proc.pid, stat[2] if stat else 0, boot_id(), token)


def _stat(pid: int) -> tuple[int, int, int, str] | None:
    """``(pgrp, session, start time, state)`` of a live process, or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()  # after the command name, which may hold spaces and ')'
    try:
        return int(fields[2]), int(fields[3]), int(fields[19]), fields[0]
    except (IndexError, ValueError):
        return None


def members(session: int) -> list[int]:
    """The live (not zombie) processes of ``session``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is not None and stat[1] == session and stat[3] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _has_token(pid: int, token: str) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{TOKEN_VARIABLE}={token}".encode() in environ.split(b"\0")


def leftovers(running: Running) -> list[int]:
    """The processes still alive of a hook run a runner that died left behind (none if its session is gone).

    A session id is a pid, so it could name another program's session once every process of the
    hook's has gone; the session is the hook's only while its leader (same start time, same boot)
    or a process carrying the run's token is in it.
    """
    if running.boot != boot_id():
        return []
    alive = members(running.session)
    leader = _stat(running.session)
    ours = (leader is not None and leader[2] == running.started and leader[1] == running.session) or any(
        _has_token(pid, running.token) for pid in alive
    )
    return alive if ours else []


def _signal_all(session: int, pids: Sequence[int], sig: signal.Signals) -> None:
    groups = {stat[0] for pid in pids if (stat := _stat(pid)) is not None and stat[1] == session}
    for group in groups:  # a hook's child may have made a group of its own inside the session
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def exited(proc: subprocess.Popen[bytes]) -> bool:
    """Has the leader exited? Asked without reaping it: while it is a zombie its pid, the session's
    id, cannot be given to another program, so the session can still be stopped safely."""
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _wait_gone(session: int, until: float) -> bool:
    """Wait until no process of ``session`` is alive (an exited leader we have not reaped is a zombie)."""
    while members(session):
        if time.monotonic() >= until:
            return False
        time.sleep(LOOK_EVERY_S)
    return True


def stop_group(session: int, grace: float, leader: subprocess.Popen[bytes] | None = None) -> None:
    """TERM every process of the hook's session, then after ``grace`` seconds KILL whoever is left —
    not only the leader: a child that ignores TERM outlives a leader that obeys it.

    The leader (when it is our child) is reaped only at the end, so its pid, the session's id,
    cannot be given to another program while the session is being stopped.
    """
    if leader is not None and exited(leader):
        leader.wait()  # a clean exit: what usually follows is an empty group, seen without reading /proc
        try:
            os.killpg(session, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        leader = None  # its pid stays taken while the group it leads has members
    pids = members(session)
    if pids:
        _signal_all(session, pids, signal.SIGTERM)
    if pids and not _wait_gone(session, time.monotonic() + grace):
        _signal_all(session, members(session), signal.SIGKILL)
        _wait_gone(session, time.monotonic() + KILLED_WITHIN_S)
    if leader is not None:
        leader.wait()


def stop_leftovers(running: Running, grace: float) -> list[int]:
    """Stop what a dead runner's hook left running; the pids that were found."""
    found = leftovers(running)
    if found:
        _signal_all(running.session, found, signal.SIGTERM)
        until = time.monotonic() + grace
        while (left := leftovers(running)) and time.monotonic() < until:
            time.sleep(LOOK_EVERY_S)
        until = time.monotonic() + KILLED_WITHIN_S
        while (left := leftovers(running)) and time.monotonic() < until:
            _signal_all(running.session, left, signal.SIGKILL)
            time.sleep(LOOK_EVERY_S)
    return found
