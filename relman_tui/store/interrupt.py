"""What ends a wait for a change without one: a flag a signal handler may set, readable as a pipe."""

from __future__ import annotations

import contextlib
import math
import os
import select
import weakref
from collections.abc import Sequence


class Interrupt:
    """What ends a wait for a change without one: a flag and a pipe, so that a wait in ``poll`` (a
    PostgreSQL store listening on its socket) ends as soon as it is set, and so does :meth:`wait`.

    No lock is taken, so a signal handler may set it (a :class:`threading.Event` set there can
    deadlock on its own lock); clear it only from the thread that waits on it.
    """

    def __init__(self) -> None:
        self._set = False
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        weakref.finalize(self, _close, self._read, self._write)  # when nothing can set it any more

    def set(self) -> None:
        # the byte before the flag, and clear() the other way round: the pipe is never left readable
        # while the flag is down, or a waiter would find it readable again and again
        with contextlib.suppress(OSError):  # the pipe is full: it is readable already
            os.write(self._write, b"!")
        self._set = True

    def clear(self) -> None:
        self._set = False
        with contextlib.suppress(OSError):  # empty
            while os.read(self._read, 512):
                pass

    def is_set(self) -> bool:
        return self._set

    def take(self) -> bool:
        """Whether it was set, clearing it, so that a :meth:`set` made meanwhile is not lost: the flag goes
        down first and the pipe is read after, and ``set`` writes its byte before raising the flag — a set
        in between is either read here (and counted) or left standing for the next look."""
        self._set = False
        taken = False
        with contextlib.suppress(OSError):  # empty
            while os.read(self._read, 512):
                taken = True
        return taken

    def wait(self, timeout: float) -> bool:
        """Until it is set, at most ``timeout`` seconds; whether it is set."""
        if not self._set:
            readable([self._read], timeout)
        return self._set

    def fileno(self) -> int:
        """Readable from the moment it is set until it is cleared."""
        return self._read


def readable(fds: Sequence[int], timeout: float) -> None:
    """Until one of ``fds`` can be read, at most ``timeout`` seconds (``poll``: any descriptor, even past 1024)."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    poller.poll(max(0, math.ceil(timeout * 1000)))


def _close(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
