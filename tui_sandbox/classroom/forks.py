"""The classroom's side of the fork server (tui_sandbox/forkserver/): start it, ask it for
apps, restart it when it has died, and fall back to a plain process when it cannot help.

Each student's app started as a process of its own imports all of Textual, Rich, the
grammars and the app again: 40 MiB PSS each. A fork of one process that has imported it
all shares those pages (see the fork server's package). The classroom never imports the
fork server (it never loads Textual): it starts `python -m tui_sandbox.forkserver` as a
child, in a session of its own, with a private folder for its socket and stdin as its
lifeline (when this process ends, however it ends, the fork server ends too), and speaks
fork_wire's messages to it.

A student is never left without an app: a fork server that has died is started again for
the next student, and one that cannot start or answer is logged and the app started as
today, a plain process (`spawn_or`). `--no-fork-server` (ClassOptions.fork_server) starts
every app as a plain process: for an app that must not share a parent with the others (a
debugger, a profiler, a changed app tried without restarting the class), or to compare.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from typing import Awaitable, Callable, Mapping, Sequence, TypeVar

from .fork_wire import (
    ROOM_BYTES,
    ROOM_VARIABLE,
    SOCKET_KIND,
    WireError,
    close_all,
    receive,
    runs_in_fork_server,
    send,
)
from .pty_session import child_environment

log = logging.getLogger("tui_sandbox.classroom")

START_TIMEOUT_S = 60.0     # its imports take a second or two; a loaded machine, more
ANSWER_TIMEOUT_S = 10.0    # a fork takes milliseconds
STOP_GRACE_S = 5.0
# An app's exit status when the fork server that reaped it is gone: it ended, how is unknown.
UNKNOWN_STATUS = 255


class ForkServerUnavailable(Exception):
    """The fork server cannot start an app now (it would not start, or refused): why."""


class ForkedProcess:
    """An app the fork server started: what the fronts use of asyncio's Process (pid,
    returncode, wait(); stdin/stdout/stderr when on pipes). Its end comes from the fork
    server (the exit status), or, if the fork server died first, from its pidfd."""

    def __init__(self, pid: int, pidfd: int, connection: socket.socket) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin: asyncio.StreamWriter | None = None
        self.stdout: asyncio.StreamReader | None = None
        self.stderr: asyncio.StreamReader | None = None
        self._pidfd = pidfd
        self._connection: socket.socket | None = connection
        self._loop = asyncio.get_running_loop()
        self._ended = self._loop.create_future()
        self._loop.add_reader(connection, self._on_message)

    async def wait(self) -> int:
        return await asyncio.shield(self._ended)

    async def take_pipes(self, stdin: int, stdout: int, stderr: int) -> None:
        """Our ends of its pipes, as asyncio's streams (as a Process started with PIPE has)."""
        loop = self._loop
        self.stdout, self.stderr = asyncio.StreamReader(), asyncio.StreamReader()
        for reader, fd in ((self.stdout, stdout), (self.stderr, stderr)):
            await loop.connect_read_pipe(lambda r=reader: asyncio.StreamReaderProtocol(r), open(fd, "rb", 0))
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, open(stdin, "wb", 0))
        self.stdin = asyncio.StreamWriter(transport, protocol, None, loop)

    def _on_message(self) -> None:
        assert self._connection is not None
        try:
            message, fds = receive(self._connection, max_fds=0)
        except (BlockingIOError, InterruptedError):
            return
        except (OSError, WireError):
            message = None
        if message is not None and isinstance(message.get("exit"), int):
            self._end(message["exit"])
            return
        # The fork server is gone before the app: its pidfd says when the app ends.
        self._close_connection()
        self._loop.add_reader(self._pidfd, self._on_pidfd)

    def _on_pidfd(self) -> None:
        log.warning("the app (pid %d) ended after its fork server: its exit status is unknown", self.pid)
        self._end(UNKNOWN_STATUS)

    def _end(self, status: int) -> None:
        self._close_connection()
        if self._pidfd >= 0:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        self.returncode = status
        if self.stdin is not None:
            self.stdin.close()
        if not self._ended.done():
            self._ended.set_result(status)

    def _close_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self._connection)
            self._connection.close()
            self._connection = None


Started = TypeVar("Started")


class ForkServer:
    """One per `serve` (both fronts share it), or one per front started alone.
    `await start()` (also done by the first spawn), `spawn_or(...)`, `await close()`."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self.process: asyncio.subprocess.Process | None = None
        self.folder: str | None = None
        self.starts = 0
        self.closed = False
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def runs(self, argv: Sequence[str]) -> bool:
        return runs_in_fork_server(list(argv), self.python)

    async def start(self) -> None:
        """Start it (again, if it has died) and wait until it has preloaded the app.
        ForkServerUnavailable if it will not."""
        async with self._lock:
            if self.closed:
                raise ForkServerUnavailable("the class is closing")
            if self.alive:
                return
            if self.process is not None:
                log.warning("the fork server (pid %d) had ended (status %s): starting it again",
                            self.process.pid, self.process.returncode)
            self._forget()
            self.folder = tempfile.mkdtemp(prefix="tui-sandbox-forks-")     # mode 0700
            try:
                self.process = await asyncio.create_subprocess_exec(
                    self.python, "-m", "tui_sandbox.forkserver", "--socket", self.socket_path,
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True,
                    env=fork_server_environment())
                assert self.process.stdout is not None
                line = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT_S)
            except (OSError, asyncio.TimeoutError) as exc:
                await self._kill()
                raise ForkServerUnavailable(f"it did not start: {exc or 'no answer'}") from None
            if line.strip() != b"ready":
                await self._kill()
                raise ForkServerUnavailable(f"it did not start (status {self.process.returncode})")
            self.starts += 1
            log.info("fork server ready (pid %d): every app is a fork of it", self.process.pid)

    @property
    def socket_path(self) -> str:
        assert self.folder is not None
        return os.path.join(self.folder, "socket")

    async def spawn(self, argv: Sequence[str], env: Mapping[str, str], cwd: str, fds: Sequence[int],
                    terminal: bool) -> ForkedProcess:
        """An app on these fds (stdin, stdout, stderr), forked; started again once if the
        fork server had died. ForkServerUnavailable when it cannot be had."""
        if not self.runs(argv):
            raise ForkServerUnavailable(f"it runs only {self.python} -m tui_sandbox")
        request = {"argv": list(argv), "env": dict(env), "cwd": cwd, "terminal": terminal}
        for attempt in (1, 2):
            await self.start()
            try:
                return await asyncio.wait_for(self._ask(request, fds), ANSWER_TIMEOUT_S)
            except (OSError, WireError, asyncio.TimeoutError) as exc:
                if attempt == 2:
                    raise ForkServerUnavailable(f"no answer: {exc or 'timed out'}") from None
                # Dead (its end not seen yet) or stuck: either way, a new one for this app.
                log.warning("the fork server did not answer (%s): starting it again", exc or "timed out")
                async with self._lock:
                    await self._kill()
        raise AssertionError("unreachable")

    async def spawn_or(self, plain: Callable[[], Awaitable[Started]], argv: Sequence[str], env: Mapping[str, str],
                       cwd: str, fds: Sequence[int], terminal: bool) -> ForkedProcess | Started:
        """spawn(...), or plain() (the app as a plain process) when it cannot, logged."""
        try:
            return await self.spawn(argv, env, cwd, fds, terminal)
        except ForkServerUnavailable as exc:
            if self.runs(argv):
                log.warning("the fork server cannot start this app (%s): a plain process instead", exc)
            return await plain()

    async def spawn_on_pipes_or(self, plain: Callable[[], Awaitable[Started]], argv: Sequence[str],
                                env: Mapping[str, str], cwd: str) -> ForkedProcess | Started:
        """spawn_or(...) with the app on pipes (a browser tab's: textual-serve's protocol)."""
        pipes = [os.pipe() for _ in range(3)]
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
        ours = [pipes[0][1], pipes[1][0], pipes[2][0]]
        try:
            process = await self.spawn_or(plain, argv, env, cwd, theirs, terminal=False)
        except BaseException:
            close_all(ours)
            raise
        finally:
            close_all(theirs)
        if not isinstance(process, ForkedProcess):
            close_all(ours)
            return process
        await process.take_pipes(*ours)
        return process

    async def _ask(self, request: dict, fds: Sequence[int]) -> ForkedProcess:
        loop = asyncio.get_running_loop()
        connection = socket.socket(socket.AF_UNIX, SOCKET_KIND)
        try:
            connection.setblocking(False)
            await loop.sock_connect(connection, self.socket_path)
            send(connection, request, fds)
            while True:
                ready = loop.create_future()
                loop.add_reader(connection, ready.set_result, None)
                try:
                    await ready
                finally:
                    loop.remove_reader(connection)
                try:
                    answer, got = receive(connection, max_fds=1)
                    break
                except BlockingIOError:
                    continue
            if answer is None:
                raise OSError("the fork server closed the connection")
            if "error" in answer or not isinstance(answer.get("pid"), int) or len(got) != 1:
                close_all(got)
                raise ForkServerUnavailable(str(answer.get("error") or "a strange answer"))
        except BaseException:
            connection.close()
            raise
        return ForkedProcess(answer["pid"], got[0], connection)

    async def close(self) -> None:
        """Stop it (its lifeline closed, then SIGTERM, then SIGKILL). Apps still running
        are not its to stop: each front stops its own before this."""
        self.closed = True
        async with self._lock:
            if self.alive:
                assert self.process is not None and self.process.stdin is not None
                self.process.stdin.close()
                try:
                    await asyncio.wait_for(self.process.wait(), STOP_GRACE_S)
                except asyncio.TimeoutError:
                    await self._kill()
            self._forget()

    async def _kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    def _forget(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def fork_server_environment() -> dict[str, str]:
    """What an app would keep of this process's environment (pty_session.child_environment:
    never the class code, never a client's variables), and the room each child writes its
    student's environment in (fork_wire.ROOM_VARIABLE)."""
    return child_environment(None, {}, {ROOM_VARIABLE: "." * ROOM_BYTES})


async def front_fork_server(forks: ForkServer | bool) -> tuple[ForkServer | None, bool]:
    """What a front starts its apps with, and whether it is the front's own (to close with
    it): a ForkServer given (serve's, shared by both fronts), one of its own (True: the
    default; started now, so the first student does not wait for its imports), or none
    (False: plain processes). One that will not start is logged: plain processes then,
    and each spawn tries again."""
    if forks is False:
        return None, False
    if forks is True:
        forks, owned = ForkServer(), True
    else:
        owned = False
    try:
        await forks.start()
    except ForkServerUnavailable as exc:
        log.warning("the fork server did not start (%s): apps start as plain processes until it does", exc)
    return forks, owned
