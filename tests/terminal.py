"""The app in a real terminal: a pseudo-terminal of a given size, its screen read the way
a person sees it (pyte interprets what the app draws), keys typed as bytes."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parents[1]


def at_terminal(argv: Sequence[str], *, env: dict[str, str] | None = None, rows: int = 24,
                columns: int = 80) -> tuple[subprocess.Popen[bytes], int]:
    """argv started in the project's folder on a new pseudo-terminal of rows x columns, as
    its session's controlling terminal (util-linux's `setsid --ctty`); the terminal's side
    to read and type on. Not pty.fork(): forking a test process that runs threads may
    deadlock its child before the exec (Python warns of it), and subprocess never does."""
    ours, theirs = os.openpty()
    fcntl.ioctl(theirs, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    try:
        process = subprocess.Popen(["setsid", "--ctty", *argv], stdin=theirs, stdout=theirs, stderr=theirs,
                                   cwd=ROOT, env={**os.environ, **(env or {})})
    finally:
        os.close(theirs)
    return process, ours


class AppAtTerminal:
    """`python -m tui_sandbox ARGS` in a pseudo-terminal of rows x columns, with env added."""

    def __init__(self, *args: str, env: dict[str, str], rows: int = 30, columns: int = 100) -> None:
        self.process, self.fd = at_terminal(
            [sys.executable, "-m", "tui_sandbox", *args], rows=rows, columns=columns,
            env={"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows), **env})
        self.pid = self.process.pid
        self.screen = pyte.Screen(columns, rows)
        self._stream = pyte.ByteStream(self.screen)
        self.seen = b""
        self.ended = False

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    def read(self, seconds: float = 0.2) -> None:
        """Takes in what the app drew within `seconds`."""
        if self.ended or not select.select([self.fd], [], [], seconds)[0]:
            return
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.ended = True
            return
        self.seen += chunk
        self._stream.feed(chunk)

    def wait_for(self, shown: Callable[[str], bool], timeout: float = 60) -> bool:
        """Whether the screen came to show it within the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.ended:
            self.read()
            if shown(self.text):
                return True
        return shown(self.text)

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def quit(self, timeout: float = 30) -> int:
        """ctrl+q, then the app's exit code once it has drawn its last."""
        self.type(b"\x11")
        deadline = time.monotonic() + timeout
        while not self.ended and time.monotonic() < deadline:
            self.read()
        code = self.process.wait()
        os.close(self.fd)
        return code
