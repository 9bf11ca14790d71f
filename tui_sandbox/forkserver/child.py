"""A fork of the fork server becoming one student's app, as `python -m tui_sandbox` would.

In order: the fork server's signal handlers and sockets go (nothing of the server stays
reachable from the app); a session of its own (the classroom signals its group; a
terminal's hang-up reaches only it); the fds it was sent become 0, 1 and 2, and on a PTY
the slave its controlling terminal (TIOCSCTTY, so SIGWINCH and SIGHUP reach it); the
student's folder, the student's environment (replacing the fork server's), fresh
sys.stdin/stdout/stderr on the new fds; then the command line's entry, and the exit as the
interpreter's own would be: threads joined, atexit handlers run, streams flushed, and a
KeyboardInterrupt that ended it ends the process by SIGINT. Nothing of this returns: the
process ends with os._exit, so the fork server's frames below it never run again.
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import os
import signal
import sys
import termios
import threading
import traceback
from typing import Callable, Mapping, NoReturn

from ..classroom.fork_wire import APP_MODULE
from .preload import after_fork

# The fork server's own stdio objects: kept alive, never finalized in a child (their fds
# now belong to the app).
_SERVERS_STREAMS: list = []


def become_the_app(request: Mapping, fds: list[int], close_server: Callable[[], None],
                   handlers: Mapping[int, object]) -> NoReturn:
    """Never returns. request: the wire's (argv, env, cwd, terminal); fds: stdin, stdout,
    stderr; close_server closes the fork server's sockets; handlers: the signal handlers a
    fresh interpreter has (recorded at the fork server's start)."""
    try:
        signal.set_wakeup_fd(-1)
        for sig, handler in handlers.items():
            try:
                signal.signal(sig, handler)
            except (OSError, ValueError):
                pass                        # one the interpreter cannot set either
        close_server()
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in set(fds):
            if fd > 2:
                os.close(fd)
        if request.get("terminal"):
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _show_as_the_app(request["argv"], request["env"])
        _fresh_stdio()
        after_fork()
        main = sys.modules[APP_MODULE].__file__.replace("__init__.py", "__main__.py")
        sys.argv = [main, *request["argv"][3:]]
    except BaseException:  # noqa: BLE001 - said on the student's stderr, then the end
        _say_and_exit(traceback.format_exc(), 1)
    _exit_as_python_would(*_run_entry())


def _run_entry() -> tuple[int, bool]:
    """(status, interrupted): the command line's entry (tui_sandbox.cli.entry), and how it ended."""
    from ..cli import entry

    try:
        entry()
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return code or 0, False
        print(code, file=sys.stderr)
        return 1, False
    except KeyboardInterrupt:
        traceback.print_exc()
        return 1, True
    except BaseException:  # noqa: BLE001 - the traceback, as the interpreter prints it
        traceback.print_exc()
        return 1, False
    return 0, False


def _exit_as_python_would(status: int, interrupted: bool) -> NoReturn:
    try:
        threading._shutdown()           # noqa: SLF001 - what Py_Finalize does first: join threads
    except Exception:  # noqa: BLE001
        pass
    atexit._run_exitfuncs()             # noqa: SLF001
    _flush()
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(status & 0xFF)


def _fresh_stdio() -> None:
    """New text streams on 0, 1 and 2, as the interpreter makes them at start-up: stdout
    line-buffered on a terminal, stderr always."""
    _SERVERS_STREAMS.extend((sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__))
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)   # noqa: SIM115
    sys.stdout = sys.__stdout__ = open(1, "w", buffering=1 if os.isatty(1) else -1,   # noqa: SIM115
                                       encoding="utf-8", closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, encoding="utf-8",   # noqa: SIM115
                                       errors="backslashreplace", closefd=False)


def _show_as_the_app(argv: list[str], env: Mapping[str, str]) -> None:
    """/proc/PID/cmdline and /proc/PID/environ (what `ps` and a teacher looking at an app
    see) are the memory the arguments and the environment had at exec: the fork server's.
    They are written over with the app's, as setproctitle does: the environment in the room
    the fork server was started with (fork_wire.ROOM_VARIABLE), the command line in the
    fork server's own (cut short if it is longer). Too large an environment leaves its
    region blank rather than wrong."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = [int(x) for x in f.read().rsplit(b")", 1)[1].split()[45:49]]
    except (OSError, ValueError):
        return
    arg_start, arg_end, env_start, env_end = fields          # fields 48 to 51 of stat
    arguments = b"".join(os.fsencode(a) + b"\0" for a in argv)
    _write_over(arg_start, arg_end, arguments[:arg_end - arg_start - 1])
    environment = b"".join(os.fsencode(f"{name}={value}") + b"\0" for name, value in env.items())
    _write_over(env_start, env_end, environment if len(environment) <= env_end - env_start else b"")


def _write_over(start: int, end: int, data: bytes) -> None:
    if end > start:
        ctypes.memmove(start, data.ljust(end - start, b"\0"), end - start)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _say_and_exit(text: str, status: int) -> NoReturn:
    try:
        os.write(2, text.encode(errors="replace"))
    except OSError:
        pass
    os._exit(status)
