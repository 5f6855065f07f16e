"""Drive a terminal program in a real pseudo-terminal: start it, read what it draws, type keys.

Only the standard library (pty, select, /proc), so the figures are what a person at a
120×36 terminal would see, start-up included.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping, Sequence

COLUMNS, LINES = 120, 36
_ESCAPE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def visible(data: bytes) -> str:
    """The text in terminal output, escape sequences removed (cursor moves joined up)."""
    return _ESCAPE.sub(b"", data).decode("utf-8", "replace")


class Terminal:
    """A process in a pty of fixed size; a thread drains its output and timestamps each read."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        columns: int = COLUMNS,
        lines: int = LINES,
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        full_env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "LANG": "C.UTF-8",
            "COLUMNS": str(columns),
            "LINES": str(lines),
            **(env or {}),
        }
        for key in ("TEXTUAL", "TEXTUAL_DEVTOOLS_PORT"):
            full_env.pop(key, None)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_controlling_tty,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self._data = bytearray()
        self._stamps: list[tuple[int, float]] = []  # (end offset of a read, when it was read)
        self._changed = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            now = time.perf_counter()
            with self._changed:
                if not chunk:
                    self._closed = True
                    self._changed.notify_all()
                    return
                self._data += chunk
                self._stamps.append((len(self._data), now))
                self._changed.notify_all()

    @property
    def offset(self) -> int:
        with self._changed:
            return len(self._data)

    def output(self, since: int = 0) -> bytes:
        with self._changed:
            return bytes(self._data[since:])

    def wait_for(self, pattern: str | re.Pattern[str], since: int = 0, timeout: float = 30.0) -> float:
        """The moment (perf_counter) the output after ``since`` first showed ``pattern`` as text.

        The text is the output with escape sequences stripped, so a string drawn in pieces
        of different styles still matches. Raises TimeoutError with the tail of the screen.
        """
        regex = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        checked = since
        with self._changed:
            while True:
                for end, when in self._stamps:
                    if end <= checked:
                        continue
                    if regex.search(visible(bytes(self._data[since:end]))):
                        return when
                    checked = end
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    tail = visible(bytes(self._data[-3000:]))
                    raise TimeoutError(f"{regex.pattern!r} not seen; the screen ended with: {tail[-600:]!r}")
                self._changed.wait(min(left, 0.5))

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until nothing has been written for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while time.monotonic() < deadline:
                last = self._stamps[-1][1] if self._stamps else self.started
                if time.perf_counter() - last >= quiet:
                    return
                self._changed.wait(quiet)

    def answered(self, since: int, quiet: float = 0.03, timeout: float = 10.0) -> float:
        """The moment the last byte of the answer that began after ``since`` was written: output must
        have started, then nothing more for ``quiet`` seconds (a frame is written in a burst)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while time.monotonic() < deadline:
                after = [when for end, when in self._stamps if end > since]
                if after and time.perf_counter() - after[-1] >= quiet:
                    return after[-1]
                self._changed.wait(quiet)
        raise TimeoutError("no answer")

    def type(self, keys: bytes) -> float:
        """Send bytes as if typed; the moment they were sent."""
        when = time.perf_counter()
        os.write(self.master, keys)
        return when

    def cpu_seconds(self) -> float:
        """User and system CPU of the process so far, all threads, from /proc."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def close(self, quit_keys: bytes | None = b"q", timeout: float = 5.0) -> None:
        if self.process.poll() is None and quit_keys:
            try:
                self.type(quit_keys)
                self.process.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._reader.join(2)
        os.close(self.master)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _controlling_tty() -> None:
    # after setsid (start_new_session): make the pty this session's terminal, as a shell would
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
