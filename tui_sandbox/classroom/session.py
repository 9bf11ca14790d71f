"""One student's session: the app on its PTY, pumped to and from the SSH channel.

It ends in one of four ways, and always leaves no app behind:
- the app quits (ctrl+q) or dies: the channel closes with its exit status; an app that
  died gets a terminal reset first, so the student's terminal is usable again;
- the client goes (the connection closes or drops): the app is stopped (`stop_child`);
- no key for `idle_timeout_s`: the app is stopped, the student told why;
- the server closes: the same, with a one-line message.

Stopping the app: the app has no SIGHUP handler (nor does Textual), so a hang-up kills it
on the spot, its run's container left to its own deadline. SIGINT makes it quit cleanly:
asyncio.run() cancels the app's main task, Textual shuts down, the app kills its run and
removes its containers before the process exits (measured: gone in about half a second).
So: SIGINT, a grace period, SIGHUP, a moment, SIGKILL; and after a forced end, the
containers of dead owners are removed at once (runner's reaper) instead of at their deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Callable

from .forks import ForkServer
from .idle import until_idle
from .pty_session import TERMINAL_RESET, PtyChild
from .sshlib import asyncssh

log = logging.getLogger("tui_sandbox.classroom")

READ_CHUNK = 65536
# Output waiting for a slow client: past this, reading the app's output pauses.
CHANNEL_HIGH_WATER = 256 * 1024
# Input waiting for a busy app: past this, reading the client's input pauses.
INPUT_HIGH_WATER = 64 * 1024
STOP_GRACE_S = 10.0      # SIGINT: the app kills its run and removes its containers
HANGUP_GRACE_S = 2.0     # then SIGHUP, then SIGKILL


@dataclass
class SessionEnd:
    reason: str                      # quit, died, disconnected, idle, shutdown, error
    exit_status: int | None = None   # the app's own; negative: the signal that ended it
    forced: bool = False             # it took SIGHUP or SIGKILL


@dataclass
class StudentSession:
    """The app for one student over one SSH channel."""

    process: asyncssh.SSHServerProcess
    student: str
    peer: str
    argv: list[str]
    env: dict[str, str]
    cwd: str | None = None
    idle_timeout_s: float | None = None
    reap: Callable[[], object] | None = None     # removes dead owners' containers (blocking)
    forks: ForkServer | None = None              # the class's fork server, else a plain process
    started_at: float = field(default_factory=time.monotonic)
    child: PtyChild | None = None
    end: SessionEnd | None = None

    def __post_init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()          # the session must end: self._end_reason says why
        self._end_reason: str | None = None
        self._notice = ""                     # a line for the student, once the app is gone
        self._client_gone = False
        self._to_child = bytearray()          # input the PTY could not take yet
        self._input_room = asyncio.Event()
        self._input_room.set()
        self._reading_child = False
        self._child_output_ended = asyncio.Event()
        self.last_input = time.monotonic()

    @property
    def pid(self) -> int | None:
        return self.child.pid if self.child else None

    # --- the life of the session ---------------------------------------------------------

    async def run(self) -> SessionEnd:
        cols, rows, px_w, px_h = self.process.term_size
        try:
            self.child = await PtyChild.start(self.argv, self.env, cols, rows, cwd=self.cwd, forks=self.forks)
        except OSError as exc:
            log.error("cannot start the app for %s: %s", self.student, exc)
            self._say(f"tui-sandbox: the app could not start ({exc.strerror or exc}): tell the teacher.")
            self.end = SessionEnd("error", None)
            self._exit(1)
            return self.end
        log.info("session of %s from %s: app pid %d", self.student, self.peer, self.child.pid)
        self._start_reading_child()
        tasks = [asyncio.create_task(self._pump_input(), name=f"input {self.student}"),
                 asyncio.create_task(self._watch_child(), name=f"child {self.student}")]
        if self.idle_timeout_s:
            tasks.append(asyncio.create_task(self._watch_idle(), name=f"idle {self.student}"))
        finishing: asyncio.Future | None = None
        try:
            await self._done.wait()
            finishing = asyncio.ensure_future(self._finish(self._end_reason or "error"))
            self.end = await asyncio.shield(finishing)
        except asyncio.CancelledError:
            # Cancelled under us (the loop is closing): the app must not outlive the
            # session, and is stopped once only (a second SIGINT would not be clean).
            if finishing is None:
                finishing = asyncio.ensure_future(self._finish("shutdown"))
            self.end = await asyncio.shield(finishing)
            raise
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._stop_reading_child()
            if self.child is not None:
                self.child.close()
        return self.end

    def request_end(self, reason: str, notice: str = "") -> None:
        """End the session (from the server: shutdown). Idempotent; the first reason wins."""
        if self._end_reason is None:
            self._end_reason = reason
            self._notice = notice
        self._done.set()

    async def _finish(self, reason: str) -> SessionEnd:
        child = self.child
        assert child is not None
        forced = False
        if reason == "disconnected":
            self._client_gone = True
        status = child.returncode
        if status is None:
            status, forced = await self.stop_child()
        else:
            # It ended by itself: what it wrote last (restoring the terminal) goes out first.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._child_output_ended.wait(), 1.0)
            if reason in ("idle", "shutdown"):
                reason = "quit" if status == 0 else "died"
        if reason == "child-exit":
            reason = "quit" if status == 0 else "died"
        if (forced or reason == "died") and self.reap is not None:
            # The app could not clean up (killed, or it crashed): its run's container would
            # live to its own deadline. Dead owners' containers go now.
            try:
                await asyncio.to_thread(self.reap)
            except Exception as exc:  # noqa: BLE001 - the next app's sweep takes them later
                log.warning("could not remove the containers of %s's app: %s", self.student, exc)
        log.info("session of %s ended: %s (status %s%s)", self.student, reason, status, ", forced" if forced else "")
        if not self._client_gone:
            if reason == "died" or forced:
                self._write_client(TERMINAL_RESET)
            if reason == "died":
                self._say(f"tui-sandbox: the app stopped unexpectedly (status {status}). "
                          "Connect again for a fresh one.")
            elif self._notice:
                self._say(self._notice)
            self._exit(_exit_code(status) if reason in ("quit", "died") else 1)
        return SessionEnd(reason, status, forced)

    async def stop_child(self) -> tuple[int | None, bool]:
        """Make the app quit cleanly (SIGINT: it kills its run and removes its containers),
        then hang it up, then kill it. (status, forced)."""
        assert self.child is not None
        return await self.child.stop(STOP_GRACE_S, HANGUP_GRACE_S, f"the app of {self.student}")

    # --- the three watchers ----------------------------------------------------------------

    async def _pump_input(self) -> None:
        """Client -> app. A resize arrives as an exception out of read()."""
        stdin = self.process.stdin
        while True:
            try:
                data = await stdin.read(READ_CHUNK)
            except asyncssh.TerminalSizeChanged as change:
                if self.child is not None:
                    self.child.resize(change.width, change.height, change.pixwidth, change.pixheight)
                continue
            except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue                 # the client's ctrl-c is a key, not a signal for the app
            except Exception:  # noqa: BLE001 - the connection is gone, however it went
                data = b""
            if not data:
                self.request_end("disconnected")
                return
            self.last_input = time.monotonic()
            self._send_to_child(data)
            await self._input_room.wait()

    async def _watch_child(self) -> None:
        assert self.child is not None
        await self.child.process.wait()
        # Give the last output a moment to be read before the session says it is over.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._child_output_ended.wait(), 1.0)
        self.request_end("child-exit")

    async def _watch_idle(self) -> None:
        assert self.idle_timeout_s
        await until_idle(lambda: self.last_input, self.idle_timeout_s)
        self.request_end("idle", f"tui-sandbox: no key pressed for {_span(self.idle_timeout_s)}: the session "
                         "is closed. Connect again to go on.")

    # --- the pumps -------------------------------------------------------------------------

    def _send_to_child(self, data: bytes) -> None:
        if self._to_child:
            self._to_child += data
        else:
            self._to_child = bytearray(data)
            self._flush_to_child()
        if len(self._to_child) > INPUT_HIGH_WATER:
            self._input_room.clear()

    def _flush_to_child(self) -> None:
        child = self.child
        if child is None or child.master < 0:
            self._to_child.clear()
            return
        while self._to_child:
            n = child.write(bytes(self._to_child[:READ_CHUNK]))
            if n < 0:                      # the app is gone: its input goes nowhere
                self._to_child.clear()
                break
            if n == 0:
                self._loop.add_writer(child.master, self._on_child_writable)
                return
            del self._to_child[:n]
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(child.master)
        self._input_room.set()

    def _on_child_writable(self) -> None:
        self._flush_to_child()

    def _start_reading_child(self) -> None:
        if not self._reading_child and self.child is not None and self.child.master >= 0:
            self._loop.add_reader(self.child.master, self._on_child_output)
            self._reading_child = True

    def _stop_reading_child(self) -> None:
        if self._reading_child and self.child is not None and self.child.master >= 0:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self.child.master)
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_writer(self.child.master)
        self._reading_child = False

    def _on_child_output(self) -> None:
        assert self.child is not None
        try:
            data = os.read(self.child.master, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:
                log.warning("reading the app of %s: %s", self.student, exc)
            data = b""
        if not data:                       # EIO: every holder of the slave has closed it
            self._stop_reading_child()
            self._child_output_ended.set()
            return
        if self._client_gone:
            return                         # still read, so the app never blocks on its output
        self._write_client(data)
        if self.process.channel.get_write_buffer_size() > CHANNEL_HIGH_WATER:
            self._stop_reading_child()
            asyncio.ensure_future(self._resume_after_drain())

    async def _resume_after_drain(self) -> None:
        try:
            await self.process.stdout.drain()
        except Exception:  # noqa: BLE001 - the client is gone: read and drop from now on
            self._client_gone = True
        if not self._child_output_ended.is_set():
            self._start_reading_child()

    def _write_client(self, data: bytes) -> None:
        if self._client_gone:
            return
        try:
            self.process.stdout.write(data)
        except Exception:  # noqa: BLE001 - the channel closed under us
            self._client_gone = True

    def _say(self, line: str) -> None:
        self._write_client(line.encode() + b"\r\n")

    def _exit(self, status: int) -> None:
        with contextlib.suppress(Exception):
            self.process.exit(status)


def _span(seconds: float) -> str:
    """'30 minutes', '1 minute', '5 s'."""
    minutes = seconds / 60
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}" if minutes >= 1 else f"{seconds:g} s"


def _exit_code(status: int | None) -> int:
    if status is None:
        return 1
    return 128 - status if status < 0 else status
