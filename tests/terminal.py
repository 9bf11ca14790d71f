"""The app in a real terminal: a pseudo-terminal of a given size, its screen read the way
a person sees it (pyte interprets what the app draws), keys typed as bytes."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parents[1]


class AppAtTerminal:
    """`python -m tui_sandbox ARGS` in a pseudo-terminal of rows x columns, with env added."""

    def __init__(self, *args: str, env: dict[str, str], rows: int = 30, columns: int = 100) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(ROOT)
            os.environ.update({"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows), **env})
            os.execv(sys.executable, [sys.executable, "-m", "tui_sandbox", *args])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
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
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)
