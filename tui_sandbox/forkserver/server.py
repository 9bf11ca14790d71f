"""The fork server's loop: a Unix socket, one fork per request, every child reaped.

Single-threaded and without asyncio on purpose: a fork of a process with other threads (or
a running event loop) would inherit their locks mid-use; each child starts its own loop
(Textual's asyncio.run) in a clean process. One selector watches the listening socket, the
connections (one per app: a request, then its exit status), a self-pipe for SIGCHLD, and
stdin, the classroom's lifeline: at its end (the classroom is gone, or closes it to stop
us) the fork server exits. Its children live on, each in a session of its own, and the
classroom stops them by pid. Only a peer of our own uid is served (SO_PEERCRED), and the
socket is made 0600 in the folder the classroom made private.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import socket
import struct
import sys
import threading

from ..classroom.fork_wire import SOCKET_KIND, WireError, close_all, receive, runs_in_fork_server, send
from .child import become_the_app
from .preload import freeze, preload

log = logging.getLogger("tui_sandbox.forkserver")

READY = "ready"                # the line on stdout once preloaded and listening


def serve(path: str) -> int:
    """Preload, listen on path, fork until stdin ends or SIGTERM. Blocks; the exit status."""
    handlers = _fresh_handlers()
    _log_to_stderr()
    missing = preload()
    if missing:
        log.info("fork server: not preloaded (the apps import them if they need them): %s", ", ".join(missing))
    server = Forker(path, handlers)
    try:
        server.listen()
        freeze()
        print(READY, flush=True)
        server.run()
    finally:
        server.close()
    return 0


class Forker:
    """The socket, the connections and the children."""

    def __init__(self, path: str, handlers: dict) -> None:
        self.path = path
        self.handlers = handlers
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.wakeup_r, self.wakeup_w = os.pipe()
        self.connections: set[socket.socket] = set()
        self.children: dict[int, socket.socket] = {}     # pid -> the connection that asked for it
        self.stopping = False

    def listen(self) -> None:
        listener = socket.socket(socket.AF_UNIX, SOCKET_KIND)
        umask = os.umask(0o177)
        try:
            listener.bind(self.path)
        finally:
            os.umask(umask)
        listener.listen(64)
        listener.setblocking(False)
        self.listener = listener
        for fd in (self.wakeup_r, self.wakeup_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wakeup_w)
        signal.signal(signal.SIGCHLD, _noop)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)       # a terminal's ctrl-c is the classroom's
        self.selector.register(listener, selectors.EVENT_READ, self._accept)
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, self._reap)
        self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, self._lifeline)

    def run(self) -> None:
        while not self.stopping:
            try:
                events = self.selector.select()
            except InterruptedError:
                continue
            for key, _ in events:
                key.data(key.fileobj)
            self._reap(None)

    # --- the handlers --------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        try:
            connection, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        uid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                        struct.calcsize("3i")))[1]
        if uid != os.getuid():
            log.warning("fork server: refused a peer of uid %d", uid)
            connection.close()
            return
        connection.setblocking(False)
        self.connections.add(connection)
        self.selector.register(connection, selectors.EVENT_READ, self._request)

    def _request(self, connection: socket.socket) -> None:
        try:
            request, fds = receive(connection)
        except (BlockingIOError, InterruptedError):
            return
        except (OSError, WireError) as exc:
            log.warning("fork server: a bad request: %s", exc)
            self._drop(connection)
            return
        if request is None:                 # the classroom closed it: its app, if any, lives on
            self._drop(connection)
            return
        try:
            problem = _problem(request, fds)
            if problem:
                send(connection, {"error": problem})
                return
            self._fork(connection, request, fds)
        except OSError as exc:
            log.warning("fork server: cannot start an app: %s", exc)
            try:
                send(connection, {"error": f"cannot fork: {exc}"})
            except OSError:
                self._drop(connection)
        finally:
            close_all(fds)

    def _fork(self, connection: socket.socket, request: dict, fds: list[int]) -> None:
        if threading.active_count() > 1:    # never fork another thread's half-held locks
            raise OSError("the fork server has a thread of its own")
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        pid = os.fork()
        if pid == 0:
            become_the_app(request, fds, self._close_in_child, self.handlers)
        # Opened before any wait: the pid cannot have been reaped (and reused) yet.
        pidfd = os.pidfd_open(pid)
        self.children[pid] = connection
        # One app per connection: nothing more is read from it, only its exit status written.
        self.selector.unregister(connection)
        try:
            send(connection, {"pid": pid}, [pidfd])
        except OSError:
            pass                            # the classroom left: the app is still reaped here
        finally:
            os.close(pidfd)

    def _reap(self, _fd) -> None:
        try:
            while os.read(self.wakeup_r, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            connection = self.children.pop(pid, None)
            if connection is None:
                continue
            try:
                send(connection, {"exit": os.waitstatus_to_exitcode(status)})
            except OSError:
                pass
            self._drop(connection)

    def _lifeline(self, fd: int) -> None:
        try:
            data = os.read(fd, 512)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            self.stopping = True

    def _stop(self, *_args) -> None:
        self.stopping = True

    # --- closing -------------------------------------------------------------------------------

    def _drop(self, connection: socket.socket) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            try:
                self.selector.unregister(connection)
            except KeyError:
                pass                        # no longer read: it had its app
        connection.close()

    def _close_in_child(self) -> None:
        """In a child: none of the server's sockets or pipes stays open in the app."""
        self.selector.close()
        for connection in self.connections:
            connection.close()
        if self.listener is not None:
            self.listener.close()
        for fd in (self.wakeup_r, self.wakeup_w):
            os.close(fd)

    def close(self) -> None:
        signal.set_wakeup_fd(-1)
        for connection in list(self.connections):
            self._drop(connection)
        self.selector.close()
        if self.listener is not None:
            self.listener.close()
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _problem(request: dict, fds: list[int]) -> str | None:
    argv, env, cwd = request.get("argv"), request.get("env"), request.get("cwd")
    if len(fds) != 3:
        return "three file descriptors (stdin, stdout, stderr) are needed"
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv) and runs_in_fork_server(argv)):
        return f"the fork server runs only {sys.executable} -m tui_sandbox"
    if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        return "env must map names to strings"
    if not isinstance(cwd, str) or not os.path.isdir(cwd):
        return f"no such folder: {cwd}"
    return None


def _fresh_handlers() -> dict:
    """The signal handlers as the interpreter set them at start-up (SIGINT raises
    KeyboardInterrupt, SIGPIPE and SIGXFSZ ignored), for each child to have again."""
    handlers = {}
    for sig in signal.valid_signals():
        try:
            handler = signal.getsignal(sig)
        except (OSError, ValueError):
            continue
        if handler is not None and sig not in (signal.SIGKILL, signal.SIGSTOP):
            handlers[sig] = handler
    return handlers


def _noop(*_args) -> None:
    """SIGCHLD's Python handler: the wake-up fd does the work."""


def _log_to_stderr() -> None:
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
