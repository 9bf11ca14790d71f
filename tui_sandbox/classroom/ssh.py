"""The SSH server of a class: `ssh -p PORT NAME@HOST` and the class code open a fresh app.

No account on the host and no shell: a connection can open sessions that run the app, and
nothing else. A command (`ssh host ls`), a subsystem (sftp), a session without a terminal,
port forwarding, agent and X11 forwarding are all refused. Each session is the real app in a
process of its own on a real PTY (session.py). Students are admitted by the class's rules
(admission.py: the name, the class code, attempts per address, the one cap), asked over SSH:

- the name is the SSH user; it is checked, and a full class said, before the code is asked;
- the class code, by password or keyboard-interactive; three wrong codes end the connection;
- a connection attempt is counted when it is made, and refused at its first auth request;
- the seat is taken when a session opens, and given back when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path
from typing import Callable, Mapping

from .admission import SHUTTING_DOWN, STUDENTS_DIR, Admission, ClassFront, Refusal
from .forks import ForkServer, front_fork_server
from .hostkey import fingerprint, load_or_create_host_key
from .roster import ClassRoster
from .session import StudentSession
from .sshlib import asyncssh

log = logging.getLogger("tui_sandbox.classroom")

MAX_CODE_TRIES = 3
LOGIN_TIMEOUT_S = 60
# A signed-in connection with no session (ssh -N, a leftover master connection) is closed.
NO_SESSION_TIMEOUT_S = 60.0
KEEPALIVE_S = 30
# "password" in it: clients that fill in a password (sshpass, asyncssh) look for the word.
CODE_PROMPT = "Class code (password): "


class Refused(asyncssh.DisconnectError):
    """The connection ends with this one line, which OpenSSH prints as
    `Received disconnect from HOST port PORT:CODE: <line>`."""

    @classmethod
    def of(cls, refusal: Refusal) -> Refused:
        return cls(_DISCONNECT[refusal.reason], refusal.message)


# How each refusal at sign-in ends the connection.
_DISCONNECT = {"attempts": asyncssh.DISC_TOO_MANY_CONNECTIONS, "name": asyncssh.DISC_ILLEGAL_USER_NAME,
               "full": asyncssh.DISC_TOO_MANY_CONNECTIONS, "code": asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE}


class SSHClassServer(ClassFront):
    """A listening class. `port`, `fingerprint`; `close()`, then `await wait_closed()`:
    the listener stops, every session's app is stopped (its run cancelled, its containers
    removed) and the session told why."""

    def __init__(self, *, class_code: str, app_command: list[str], app_env: Mapping[str, str],
                 max_sessions: int, idle_timeout_s: float | None, attempts_per_minute: int,
                 students_dir: Path, reap: Callable[[], object] | None,
                 roster: ClassRoster | None = None, forks: ForkServer | None = None,
                 owns_forks: bool = False) -> None:
        # The class's cap: shared with the browser front when both run (serve.py).
        self.admission = Admission(front="ssh", class_code=class_code, roster=roster, max_sessions=max_sessions,
                                   attempts_per_minute=attempts_per_minute, students_dir=students_dir, app_env=app_env)
        self.app_command = list(app_command)
        self.idle_timeout_s = idle_timeout_s
        self.reap = reap
        self.forks = forks
        self.owns_forks = owns_forks
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self.no_session_timeout_s = NO_SESSION_TIMEOUT_S
        self.port = 0
        self.fingerprint = ""
        self.host_key_path: Path | None = None

    # --- sessions ----------------------------------------------------------------------------

    async def handle(self, process: asyncssh.SSHServerProcess) -> None:
        """asyncssh's process_factory: one call per session channel."""
        gate = process.channel.get_connection().get_owner()
        if isinstance(gate, _Gatekeeper):
            gate.session_opened()
        try:
            await self._session(process)
        finally:
            if isinstance(gate, _Gatekeeper):
                gate.session_closed()

    async def _session(self, process: asyncssh.SSHServerProcess) -> None:
        student = process.get_extra_info("username") or "?"
        peer = _address(process.get_extra_info("peername"))
        refusal = self._refusal(process)
        if refusal:
            log.info("refused a session of %s from %s: %s", student, peer, refusal)
            _refuse(process, refusal)
            return
        # A seat in the class, given back in the `finally` below however the session ends.
        admitted = self.admission.take_seat(student, peer, process.term_type, process.env)
        if isinstance(admitted, Refusal):
            _refuse(process, admitted.message)
            return
        session = StudentSession(process=process, student=student, peer=peer, argv=self.app_command,
                                 env=admitted.env, cwd=str(admitted.folder), idle_timeout_s=self.idle_timeout_s,
                                 reap=self.reap, forks=self.forks)
        info = self.admission.enter(admitted.seat, session)
        try:
            await session.run()
        except Exception:  # noqa: BLE001 - one session's failure is never the server's
            log.exception("the session of %s failed", student)
            if session.child is not None and session.child.returncode is None:
                await session.stop_child()
            _refuse(process, "tui-sandbox: the session failed: connect again")
        finally:
            self.admission.leave(info)

    def _refusal(self, process: asyncssh.SSHServerProcess) -> str | None:
        if closed := self.admission.check_open():
            return closed.message
        if process.subsystem is not None:
            return f"this server runs only the tui-sandbox app: no {process.subsystem} here"
        how = f"connect with: ssh -p {self.port} NAME@HOST"
        if process.command is not None:
            return f"this server runs only the tui-sandbox app: no commands ({how})"
        if process.term_type is None:
            return f"the tui-sandbox app needs a terminal: no -T, no -N ({how})"
        return None

    # --- the listener ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening, and end every session (its app stopped, the student told)."""
        if self.admission.closing:
            return
        self.admission.closing = True
        if self._acceptor is not None:
            self._acceptor.close()
        for info in list(self.sessions.values()):
            info.app.request_end("shutdown", f"tui-sandbox: {SHUTTING_DOWN}.")

    async def wait_closed(self) -> None:
        if self._acceptor is not None:
            await self._acceptor.wait_closed()
        if tasks := self.admission.tasks():
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.owns_forks and self.forks is not None:
            await self.forks.close()

    async def __aenter__(self) -> SSHClassServer:
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()
        await self.wait_closed()


class _Gatekeeper(asyncssh.SSHServer):
    """One per connection: who may in, and what they may ask for."""

    def __init__(self, server: SSHClassServer) -> None:
        self.server = server
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = "?"
        self.refusal: Refusal | None = None
        self.wrong_codes = 0
        self.open_sessions = 0
        self._no_session_since = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.peer = _address(conn.get_extra_info("peername"))
        # Refused at the first auth request: before the version exchange, a disconnect
        # reads as garbage to the client.
        self.refusal = self.server.admission.attempt(self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def auth_completed(self) -> None:
        self._no_session_since = time.monotonic()
        self._watch_sessions()

    def session_opened(self) -> None:
        self.open_sessions += 1

    def session_closed(self) -> None:
        self.open_sessions -= 1
        if self.open_sessions == 0:
            self._no_session_since = time.monotonic()

    def _watch_sessions(self) -> None:
        self._timer = None
        if self.conn is None:
            return
        timeout = self.server.no_session_timeout_s
        quiet = time.monotonic() - self._no_session_since
        if self.open_sessions == 0 and quiet >= timeout:
            log.info("closing a connection from %s: no session for %.0f s", self.peer, quiet)
            self.conn.disconnect(asyncssh.DISC_BY_APPLICATION,
                                 "no session opened: this server runs only the tui-sandbox app")
            return
        delay = timeout - quiet if self.open_sessions == 0 else timeout
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.1), self._watch_sessions)

    def begin_auth(self, username: str) -> bool:
        admission = self.server.admission
        # Said before the code is asked: a student in a full class does not type it for nothing.
        refusal = self.refusal or admission.check_name(username) or admission.check_full()
        if refusal:
            raise Refused.of(refusal)
        return True

    # The class code, as a password or keyboard-interactive; no keys, no host-based auth.
    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        return await self._check(username, password)

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str):
        return "", "", "", [(CODE_PROMPT, False)]

    async def validate_kbdint_response(self, username: str, responses) -> bool:
        return await self._check(username, responses[0] if len(responses) == 1 else "")

    def public_key_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    async def _check(self, username: str, code: str) -> bool:
        refusal = await self.server.admission.check_code(username, code, self.peer, tries=self.wrong_codes + 1)
        if refusal is None:
            log.info("%s signed in from %s", username, self.peer)
            return True
        self.wrong_codes += 1
        if self.wrong_codes >= MAX_CODE_TRIES:
            raise Refused.of(refusal)
        return False

    # Forwarding of any kind: refused, with the reason where SSH carries one.
    def connection_requested(self, dest_host, dest_port, orig_host, orig_port):
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                        "no port forwarding: this server runs only the tui-sandbox app")

    def server_requested(self, listen_host, listen_port):
        return False

    def unix_connection_requested(self, dest_path):
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                        "no forwarding: this server runs only the tui-sandbox app")

    def unix_server_requested(self, listen_path):
        return False


async def start_ssh_server(*, host: str, port: int, class_code: str, data_dir: Path | str,
                           app_command: list[str], app_env: Mapping[str, str] | None = None,
                           max_sessions: int = 30, idle_timeout_s: float | None = 30 * 60,
                           attempts_per_minute: int = 60,
                           reap: Callable[[], object] | None = None,
                           roster: ClassRoster | None = None, forks: ForkServer | bool = True) -> SSHClassServer:
    """Listen for students on host:port (port 0: a free one, see `.port`).

    data_dir keeps the host key (made once) and a working directory per student (where
    the app's ctrl+s saves a relative name). app_command starts the app, e.g.
    [sys.executable, "-m", "tui_sandbox"]; its environment is a clean one (see
    pty_session.child_environment) plus app_env and TUI_SANDBOX_USER=<student name>.
    reap, if given, is called (in a thread) after an app had to be killed: it should
    remove the containers of dead owners (runner.docker.cleanup.reap_stale_containers).
    roster: the class's, when another front shares its cap; else one of max_sessions.
    forks: the class's fork server (forks.ForkServer, shared), True for one of this front's
    own, False for plain processes (forks.front_fork_server)."""
    data_dir = Path(data_dir)
    key, key_path = load_or_create_host_key(data_dir)
    server = SSHClassServer(class_code=class_code, app_command=app_command, app_env=app_env or {},
                            max_sessions=max_sessions, idle_timeout_s=idle_timeout_s,
                            attempts_per_minute=attempts_per_minute, students_dir=data_dir / STUDENTS_DIR,
                            reap=reap, roster=roster)
    server.fingerprint = fingerprint(key)
    server.host_key_path = key_path
    if port == 0 and not host:
        # Every interface means one listener per address family, each of which would pick
        # a port of its own: pick one first, for all of them.
        with socket.socket() as probe:
            probe.bind(("", 0))
            port = probe.getsockname()[1]
    acceptor = await asyncssh.listen(
        host, port, server_factory=lambda: _Gatekeeper(server), server_host_keys=[key],
        process_factory=server.handle, encoding=None, line_editor=False,
        allow_pty=True, agent_forwarding=False, x11_forwarding=False, allow_scp=False,
        public_key_auth=False, host_based_auth=False, gss_host=None,
        login_timeout=LOGIN_TIMEOUT_S, keepalive_interval=KEEPALIVE_S, keepalive_count_max=4)
    server._acceptor = acceptor
    server.port = acceptor.get_port()
    server.forks, server.owns_forks = await front_fork_server(forks)
    return server


def _address(peername) -> str:
    if isinstance(peername, (tuple, list)) and peername:
        return str(peername[0])
    return str(peername or "?")


def _refuse(process: asyncssh.SSHServerProcess, line: str) -> None:
    """One line on the client's stderr, then exit status 1."""
    end = "\r\n" if process.term_type else "\n"
    try:
        process.stderr.write((line + end).encode())
        process.exit(1)
    except Exception:  # noqa: BLE001 - the client left first
        pass
