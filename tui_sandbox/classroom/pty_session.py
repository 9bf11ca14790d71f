"""One program on a PTY of its own, as a terminal would start it.

The child gets the slave side as stdin, stdout and stderr (Textual reads stdin, writes
stderr and takes its size from stdout), a session of its own with the PTY as its
controlling terminal (so SIGWINCH and a hang-up reach it), and a slave already in raw mode
(keys typed before the app has set up its terminal are not echoed back as garbage). The
master stays here, non-blocking, for the caller to pump. The child is a fork of the class's
fork server (forks.py), sent the slave, or a plain process.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import re
import signal
import struct
import termios
import tty
from typing import TYPE_CHECKING, Awaitable, Mapping

if TYPE_CHECKING:
    from .forks import ForkedProcess, ForkServer

log = logging.getLogger("tui_sandbox.classroom")

DEFAULT_TERM = "xterm-256color"
_TERM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\Z")

# What the child keeps of the server's own environment: enough to find Python, the
# engine and its own files. Nothing of the client's but TERM (and COLORTERM, NO_COLOR):
# a client may send LD_PRELOAD or PYTHONSTARTUP. COLUMNS and LINES never: they would pin
# the size (shutil.get_terminal_size prefers them) and resizing would stop working.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH",
             "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
             "DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT", "DOCKER_CONFIG")
INHERITED_PREFIXES = ("TUI_SANDBOX_",)
NEVER = ("COLUMNS", "LINES", "TUI_SANDBOX_USER", "TUI_SANDBOX_CLASS_CODE", "TUI_SANDBOX_FILES_DIR")

# Leave the alternate screen, show the cursor, and turn off what Textual turns on: mouse
# modes, focus events, bracketed paste, the kitty keyboard protocol. For a child that
# died without restoring the terminal.
TERMINAL_RESET = (b"\x1b[<u\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1016l"
                  b"\x1b[?1004l\x1b[?2004l\x1b[?2048l\x1b[?7h\x1b[0m\x1b[?1049l\x1b[?25h\r\n")


def term_name(term_type: str | None) -> str:
    """The client's TERM if it is a plausible terminal name, else xterm-256color."""
    return term_type if term_type and _TERM_NAME.match(term_type) else DEFAULT_TERM


def child_environment(term_type: str | None, client_env: Mapping[str, str], extra: Mapping[str, str],
                      base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment: a few of the server's variables, TERM from the client,
    COLORTERM only if the client sent truecolor/24bit, NO_COLOR if it sent one, then extra."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items()
           if (k in INHERITED or k.startswith(INHERITED_PREFIXES)) and k not in NEVER}
    env.setdefault("LANG", "C.UTF-8")
    env["TERM"] = term_name(term_type)
    colorterm = str(client_env.get("COLORTERM", "")).lower()
    if colorterm in ("truecolor", "24bit"):
        env["COLORTERM"] = colorterm
    if "NO_COLOR" in client_env:
        env["NO_COLOR"] = "1"
    env.update(extra)
    for name in NEVER[:2]:
        env.pop(name, None)
    return env


def set_size(fd: int, cols: int, rows: int, px_width: int = 0, px_height: int = 0) -> None:
    cols, rows = (cols or 80), (rows or 24)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, px_width, px_height))


def _take_terminal() -> None:
    """In the child, after setsid (start_new_session): the PTY on fd 0 becomes its
    controlling terminal. Only async-signal-safe work here."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyChild:
    """A child process on a PTY. `master` is non-blocking; read it until OSError(EIO)."""

    def __init__(self, process: asyncio.subprocess.Process | ForkedProcess, master: int) -> None:
        self.process = process
        self.master = master

    @classmethod
    async def start(cls, argv: list[str], env: Mapping[str, str], cols: int, rows: int,
                    cwd: str | os.PathLike | None = None, forks: ForkServer | None = None) -> PtyChild:
        """forks: the class's fork server (the app a fork of it), else a plain process."""
        master, slave = os.openpty()
        try:
            set_size(slave, cols, rows)
            tty.setraw(slave)

            def plain() -> Awaitable[asyncio.subprocess.Process]:
                return asyncio.create_subprocess_exec(
                    *argv, stdin=slave, stdout=slave, stderr=slave, env=dict(env), cwd=cwd,
                    start_new_session=True, preexec_fn=_take_terminal)

            if forks is None:
                process = await plain()
            else:
                process = await forks.spawn_or(plain, argv, env, os.fspath(cwd or os.getcwd()), [slave] * 3,
                                               terminal=True)
        except BaseException:
            os.close(master)
            raise
        finally:
            # Only the child holds the slave now: once it (and anything it started) has
            # closed it, reading the master fails with EIO.
            os.close(slave)
        os.set_blocking(master, False)
        return cls(process, master)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def resize(self, cols: int, rows: int, px_width: int = 0, px_height: int = 0) -> None:
        """The new size on the PTY, and SIGWINCH to the child's group (the kernel sends one
        too when the size changed; a second is harmless: the app reads the size again)."""
        with contextlib.suppress(OSError):
            set_size(self.master, cols, rows, px_width, px_height)
        self.signal(signal.SIGWINCH)

    def signal(self, sig: int) -> None:
        """Signal the child's process group (its session: it leads both)."""
        if self.process.returncode is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, sig)

    async def stop(self, grace_s: float, hangup_grace_s: float, who: str = "the app") -> tuple[int | None, bool]:
        """SIGINT, then SIGHUP after grace_s, then SIGKILL after hangup_grace_s: (status,
        forced). The master stays open (and read by the caller) meanwhile: closing it would
        hang the child up, and a child that cannot write its last output blocks."""
        self.signal(signal.SIGINT)
        status = await self.wait(grace_s)
        if status is not None:
            return status, False
        log.warning("%s did not quit on SIGINT in %.0f s: hanging up", who, grace_s)
        self.signal(signal.SIGHUP)
        status = await self.wait(hangup_grace_s)
        if status is None:
            self.signal(signal.SIGKILL)
            status = await self.wait(5.0)
        return status, True

    async def wait(self, timeout: float | None = None) -> int | None:
        """The exit status, or None if it is still running after timeout."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.process.wait()), timeout)
        except asyncio.TimeoutError:
            return None

    def write(self, data: bytes) -> int:
        """Write what the master takes now; returns the count (0 when its buffer is full)."""
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.EBADF):
                return -1          # the child is gone
            raise

    def close(self) -> None:
        """Close the master. While the child lives, this hangs up its terminal (SIGHUP)."""
        if self.master >= 0:
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = -1
