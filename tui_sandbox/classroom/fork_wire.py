"""What the classroom and the fork server (tui_sandbox/forkserver/) say to each other.

One connection per app, on a Unix socket of kind SOCK_SEQPACKET (each message arrives
whole, and file descriptors travel with it as SCM_RIGHTS). The classroom sends one request;
the fork server answers with the app's pid and a pidfd for it, or an error; once the app
has ended and been reaped, the exit status follows on the same connection, which then
closes. Each message is a JSON object:

    request   {"argv": [...], "env": {...}, "cwd": "...", "terminal": true}, with the fds
              for stdin, stdout and stderr (terminal: the first is made the controlling
              terminal: a PTY's slave)
    started   {"pid": 1234}, with a pidfd of the app
    refused   {"error": "why"}
    ended     {"exit": 0}   (asyncio's returncode: negative for the signal that ended it)

Plain stdlib, on both sides: the classroom never loads Textual, and the fork server loads
nothing of the classroom's but this.
"""

from __future__ import annotations

import json
import os
import socket
import sys

MAX_MESSAGE_BYTES = 256 * 1024     # an environment and an argv: a few KiB in practice
MAX_FDS = 3
SOCKET_KIND = socket.SOCK_SEQPACKET
# What the fork server runs: `python -m tui_sandbox`, nothing else (see runs_in_fork_server).
APP_MODULE = "tui_sandbox"
# The fork server is started with this variable, ROOM_BYTES long, so each child has room
# to write its student's environment where /proc/PID/environ reads it (forkserver/child.py).
ROOM_VARIABLE = "TUI_SANDBOX_FORKSERVER_ROOM"
ROOM_BYTES = 32 * 1024


class WireError(Exception):
    """A message that is not one of ours: too long, too many fds, not JSON."""


def send(sock: socket.socket, message: dict, fds: list[int] | tuple[int, ...] = ()) -> None:
    data = json.dumps(message).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise WireError(f"a message of {len(data)} bytes (at most {MAX_MESSAGE_BYTES})")
    socket.send_fds(sock, [data], list(fds))


def receive(sock: socket.socket, max_fds: int = MAX_FDS) -> tuple[dict | None, list[int]]:
    """(message, fds); (None, []) when the other side has closed. The fds are the caller's
    to close, even when WireError is raised (they are closed then)."""
    data, fds, flags, _ = socket.recv_fds(sock, MAX_MESSAGE_BYTES + 1, max_fds)
    try:
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or len(data) > MAX_MESSAGE_BYTES:
            raise WireError("a message too long, or with too many file descriptors")
        if not data:
            if fds:
                raise WireError("file descriptors without a message")
            return None, []
        try:
            message = json.loads(data)
        except ValueError:
            raise WireError("a message that is not JSON") from None
        if not isinstance(message, dict):
            raise WireError("a message that is not a JSON object")
        return message, fds
    except WireError:
        close_all(fds)
        raise


def close_all(fds) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def runs_in_fork_server(argv: list[str], python: str = sys.executable) -> bool:
    """Whether argv is what the fork server runs: this Python's `-m tui_sandbox [ARGS]`. Any
    other command (a test's fake app) is started as a plain process."""
    return len(argv) >= 3 and argv[0] == python and argv[1:3] == ["-m", APP_MODULE]
