"""The classroom over real SSH: the server in this test's event loop, asyncssh as the
students' client, what each receives fed to a pyte screen, the real app in each session
running real containers. Docker must be running: without it these tests fail (the
sandbox fixture raises), they never skip."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import time

import asyncssh
import pyte
import pytest

from tui_sandbox.classroom.ssh import SSHClassServer, start_ssh_server

from ..conftest import containers_owned_by

CODE = "correct-horse-7"
SIZE = (100, 30)
APP = [sys.executable, "-m", "tui_sandbox", "--timeout", "60"]   # longer than any wait here
RESET = b"\x1b[?1049l\x1b[?25h"


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    # The apps inherit these: never the real user's settings or history.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
async def start_class(tmp_path):
    """start_class(**options) -> server; every server started is closed at the end."""
    servers: list[SSHClassServer] = []

    async def start(**options) -> SSHClassServer:
        settings = dict(host="127.0.0.1", port=0, class_code=CODE, data_dir=tmp_path / "data" / "tui-sandbox",
                        app_command=APP, app_env={},   # the local engine: serve --ssh is tested apart
                        max_sessions=3, idle_timeout_s=600, attempts_per_minute=100,
                        reap=reap_dead_owners)
        settings.update(options)
        server = await start_ssh_server(**settings)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
    for server in servers:
        await asyncio.wait_for(server.wait_closed(), 30)
        assert server.sessions == {} and server.roster.count == 0     # every session left the class


def reap_dead_owners() -> None:
    from tui_sandbox.classroom.cli import reap_dead_owners as reap

    reap()


class Student:
    """One student's ssh client with a screen: what the app draws, as a terminal shows it."""

    def __init__(self, name: str, conn: asyncssh.SSHClientConnection, process, cols: int, rows: int) -> None:
        self.name = name
        self.conn = conn
        self.process = process
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.errors = bytearray()
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, port: int, name: str, size=SIZE, env=None) -> Student:
        conn = await asyncssh.connect("127.0.0.1", port, username=name, password=CODE, known_hosts=None)
        process = await conn.create_process(term_type="xterm-256color", term_size=size, encoding=None,
                                            env=env or {})
        return cls(name, conn, process, *size)

    async def _read(self) -> None:
        async def pump(stream, sink, screen: bool):
            while True:
                data = await stream.read(65536)
                if not data:
                    return
                sink.extend(data)
                if screen:
                    self.stream.feed(data)

        await asyncio.gather(pump(self.process.stdout, self.raw, True),
                             pump(self.process.stderr, self.errors, False), return_exceptions=True)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, *words: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not all(word in self.text for word in words):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}'s screen never showed {words}:\n{self.text}")
            await asyncio.sleep(0.1)

    async def wait_for_app(self) -> None:
        await self.wait_for("tui-sandbox", "Run", "Limits", timeout=90)

    def type(self, data: bytes) -> None:
        self.process.stdin.write(data)

    async def type_slowly(self, text: str) -> None:
        """Like a person (a bit faster): the editor sees keys, not one big paste."""
        for start in range(0, len(text), 8):
            self.type(text[start:start + 8].encode())
            await asyncio.sleep(0.01)

    async def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(rows, cols)
        self.process.change_terminal_size(cols, rows)

    async def exit_status(self, timeout: float = 30) -> int | None:
        await asyncio.wait_for(self.process.wait_closed(), timeout)
        await asyncio.wait_for(self.reader, 5)
        return self.process.exit_status

    def close(self) -> None:
        self.conn.close()


def session_of(server: SSHClassServer, name: str):
    [info] = [info for info in server.sessions.values() if info.student == name]
    return info


def environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}


def session_and_terminal(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[3]), int(fields[4])        # session id, controlling tty (0: none)


async def wait_until(condition, timeout: float, what: str) -> float:
    """Seconds it took; AssertionError after timeout."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


def running(sandbox, pid: int) -> list[dict]:
    return [c for c in containers_owned_by(sandbox, pid) if c["State"] == "running"]


LONG_PROGRAM = "import time\rwhile True: print('tick', flush=True); time.sleep(0.2)"


async def start_long_run(student) -> None:
    """The student types a program that prints for ever, runs it, and sees it print."""
    await student.type_slowly("\r" + LONG_PROGRAM)
    await student.wait_for(LONG_PROGRAM[-16:])
    student.type(b"\x12")
    await student.wait_for("│tick")          # in the output box, not the editor


async def test_a_class_of_three(start_class, sandbox):
    """Three students at once, each with their own app, output and verdict; a resize; a
    fourth told the class is full; ctrl-c is a key; a crashed app touches no one else; a
    dropped connection stops its app and removes its container; ctrl+q ends a session."""
    server = await start_class(max_sessions=3)
    names = ["ada", "bob", "cyd"]
    students = await asyncio.gather(*[
        Student.connect(server.port, name, env={"COLORTERM": "truecolor"} if name == "cyd" else None)
        for name in names])
    ada, bob, cyd = students
    try:
        await asyncio.gather(*[s.wait_for_app() for s in students])
        assert len(server.sessions) == 3

        # Each app: its own process, session leader on its own PTY, the student's name,
        # the client's TERM, truecolor only where the client asked for it, no fixed size.
        pids = {s.name: session_of(server, s.name).pid for s in students}
        assert len(set(pids.values())) == 3
        for s in students:
            pid = pids[s.name]
            env = environ(pid)
            assert env["TUI_SANDBOX_USER"] == s.name
            assert env["TERM"] == "xterm-256color"
            assert env["TUI_SANDBOX_FILES_DIR"].endswith(f"/students/{s.name}")   # their own folder only
            assert "COLUMNS" not in env and "LINES" not in env
            assert env.get("COLORTERM") == ("truecolor" if s.name == "cyd" else None)
            sid, tty = session_and_terminal(pid)
            assert sid == pid and tty != 0

        # A fourth student: refused before the password, with the reason.
        with pytest.raises(asyncssh.DisconnectError) as refused:
            await Student.connect(server.port, "dan")
        assert "the class is full (3 students): try again later" in refused.value.reason

        # Each types a program and runs it: each sees their own output and OK.
        # (ctrl+r once the editor shows the program: the app takes ctrl+r as soon as it
        # arrives, even before the editor has handled the keys typed just before it.)
        for s in students:
            await s.type_slowly(f"print('hello from {s.name}', 6 * 7)")
        for s in students:
            await s.wait_for(f"print('hello from {s.name}', 6 * 7)")
            s.type(b"\x12")                               # ctrl+r
        for s in students:
            await s.wait_for(f"hello from {s.name} 42", "OK", "Finished normally")
            assert not any(f"hello from {other}" in s.text for other in names if other != s.name)

        # ctrl-c is a key for the app, never a signal that kills it.
        ada.type(b"\x03")
        await asyncio.sleep(1)
        assert session_of(server, "ada").app.child.returncode is None
        assert "hello from ada 42" in ada.text

        # bob resizes his terminal: the app redraws at 80x24.
        await bob.resize(80, 24)
        await bob.wait_for("hello from bob 42", "Run")

        def redrawn() -> bool:
            rows = bob.screen.display
            # The top bar, the limits panel's right edge on the last column, the footer
            # on the last row.
            return ("tui-sandbox" in rows[0] and len(rows[1].rstrip()) == 80 and rows[1].rstrip().endswith("╮")
                    and "Run" in rows[23])

        await wait_until(redrawn, 10, "bob's app redrawn at 80x24")

        # cyd's app crashes in the middle of a run: cyd is told, the terminal is reset,
        # the run's container is removed; ada and bob never notice.
        await start_long_run(cyd)
        cyd_pid = pids["cyd"]
        assert running(sandbox, cyd_pid)
        os.kill(cyd_pid, signal.SIGKILL)
        assert await cyd.exit_status() == 128 + signal.SIGKILL
        assert b"the app stopped unexpectedly" in cyd.raw and RESET in cyd.raw
        took = await wait_until(lambda: containers_owned_by(sandbox, cyd_pid) == [], 10,
                                "the crashed app's containers removed")
        print(f"the crashed app's containers were removed {took:.1f} s after it died")
        ada.type(b"\x12")
        await ada.wait_for("OK")
        assert session_of(server, "ada").app.child.returncode is None

        # bob's connection drops in the middle of a long run: his app quits cleanly
        # (no forced kill), and his run's container is gone within a few seconds.
        await start_long_run(bob)
        bob_pid = pids["bob"]
        assert running(sandbox, bob_pid)
        bob_info = session_of(server, "bob")
        bob.close()
        dropped = time.monotonic()
        await wait_until(lambda: bob_info.app.end is not None, 15, "bob's session ended")
        took = await wait_until(lambda: containers_owned_by(sandbox, bob_pid) == [], 5,
                                "bob's containers removed")
        print(f"bob's app stopped and its containers removed {time.monotonic() - dropped:.1f} s after the "
              f"connection closed (containers {took:.1f} s after the app)")
        assert bob_info.app.end.reason == "disconnected"
        assert not bob_info.app.end.forced, "the app had to be killed: it did not quit on SIGINT"
        assert bob_info.app.child.returncode is not None

        # ada quits: ctrl+q, then y (the editor is modified): the session ends, status 0.
        ada.type(b"\x11")
        await ada.wait_for("Quit anyway?")
        ada.type(b"y")
        assert await ada.exit_status() == 0
        await wait_until(lambda: not server.sessions, 10, "no session left")
    finally:
        for s in students:
            s.close()


async def test_the_class_is_full_when_the_session_starts(start_class, sandbox):
    """Two students signed in before either opened a session: the second session is
    turned away with the one-line message and status 1."""
    server = await start_class(max_sessions=1)
    first = await asyncssh.connect("127.0.0.1", server.port, username="ada", password=CODE, known_hosts=None)
    second = await asyncssh.connect("127.0.0.1", server.port, username="bob", password=CODE, known_hosts=None)
    try:
        p1 = await first.create_process(term_type="xterm-256color", term_size=SIZE, encoding=None)
        await wait_until(lambda: len(server.sessions) == 1, 10, "ada's session")
        result = await second.run(term_type="xterm-256color", term_size=SIZE, encoding=None, timeout=10)
        assert result.exit_status == 1
        assert result.stderr.strip() == b"the class is full (1 student): try again later"
        # Quit once the app is up: a key that arrives while it is still starting can be
        # lost (a forked app starts in a fraction of a second, so this is now the case).
        drawn = b""
        while b"Limits" not in drawn:
            drawn += await asyncio.wait_for(p1.stdout.read(65536), 30)
        p1.stdin.write(b"\x11")
        await asyncio.wait_for(p1.wait_closed(), 30)
        assert p1.exit_status == 0
    finally:
        first.close()
        second.close()


async def test_an_idle_session_ends(start_class, sandbox):
    server = await start_class(idle_timeout_s=8)
    ada = await Student.connect(server.port, "ada")
    try:
        await ada.wait_for_app()
        info = session_of(server, "ada")
        assert await ada.exit_status(30) == 1
        assert b"no key pressed for 8 s: the session is closed" in ada.raw
        assert info.app.end.reason == "idle" and not info.app.end.forced
        await wait_until(lambda: server.roster.count == 0, 10, "the idle session to leave the class")
        assert info.app.child.returncode is not None
    finally:
        ada.close()


async def test_only_the_app_and_only_with_the_class_code(start_class):
    server = await start_class()
    port = server.port

    async def connect(name="ada", **options):
        return await asyncssh.connect("127.0.0.1", port, username=name, known_hosts=None, **options)

    # The class code, as a password and keyboard-interactive; a wrong one refused.
    for method in ("password", "keyboard-interactive"):
        async with await connect(password=CODE, preferred_auth=method):
            pass
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(password="wrong", preferred_auth=method)
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(client_keys=[asyncssh.generate_private_key("ssh-ed25519")], preferred_auth="publickey")

    # A name must be a student's name.
    for name in ("../etc", "-rf", "a" * 33, "root ", "ünïcode"):
        with pytest.raises(asyncssh.DisconnectError) as bad:
            await connect(name, password=CODE)
        assert "is not a student name here" in bad.value.reason

    async with await connect(password=CODE) as conn:
        # No terminal, a command, a subsystem: one line, status 1, no app started.
        no_pty = await conn.run(encoding=None, timeout=10)
        assert (no_pty.exit_status, no_pty.stderr) == (
            1, f"the tui-sandbox app needs a terminal: no -T, no -N (connect with: ssh -p {port} NAME@HOST)\n".encode())
        for pty in ({}, {"term_type": "xterm-256color"}):
            command = await conn.run("cat /etc/passwd", encoding=None, timeout=10, **pty)
            assert command.exit_status == 1 and command.stdout == b""
            assert command.stderr.startswith(b"this server runs only the tui-sandbox app: no commands")
        sub = await conn.run(subsystem="netconf", encoding=None, timeout=10)
        assert sub.exit_status == 1 and b"runs only the tui-sandbox app" in sub.stderr
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.start_sftp_client()
        # No forwarding of any kind.
        with pytest.raises(asyncssh.ChannelOpenError) as forward:
            await conn.open_connection("127.0.0.1", port)
        assert "no port forwarding" in forward.value.reason
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", port)
    assert server.sessions == {} and server.ended == []


async def test_connection_attempts_per_address_are_limited(start_class):
    server = await start_class(attempts_per_minute=3)
    for _ in range(3):
        async with asyncssh.connect("127.0.0.1", server.port, username="ada", password=CODE, known_hosts=None):
            pass
    with pytest.raises(asyncssh.DisconnectError) as refused:
        await asyncssh.connect("127.0.0.1", server.port, username="ada", password=CODE, known_hosts=None)
    assert "too many connection attempts from 127.0.0.1" in refused.value.reason


async def test_the_host_key_is_made_once_and_kept(start_class, tmp_path):
    data = tmp_path / "data" / "tui-sandbox"
    first = await start_class(data_dir=data)
    key_file = data / "ssh_host_ed25519_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.fingerprint.startswith("SHA256:")
    first.close()
    await first.wait_closed()
    second = await start_class(data_dir=data)
    assert second.fingerprint == first.fingerprint
    # A client that pinned the key on the first day connects to the restarted server.
    pinned = asyncssh.read_private_key(key_file).convert_to_public()
    async with asyncssh.connect("127.0.0.1", second.port, username="ada", password=CODE,
                                known_hosts=([pinned], [], [])):
        pass
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        other = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
        await asyncssh.connect("127.0.0.1", second.port, username="ada", password=CODE, known_hosts=([other], [], []))


async def test_a_connection_without_a_session_is_closed(start_class):
    """ssh -N, or a master connection left open: closed once it has had no session for
    a while (OpenSSH prints the reason; asyncssh takes DISC_BY_APPLICATION as a clean close)."""
    server = await start_class()
    server.no_session_timeout_s = 1.0
    conn = await asyncssh.connect("127.0.0.1", server.port, username="ada", password=CODE, known_hosts=None)
    start = time.monotonic()
    await asyncio.wait_for(conn.wait_closed(), 10)
    assert 0.9 < time.monotonic() - start < 5
