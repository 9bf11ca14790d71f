"""Each student's app a fork of the class's fork server (classroom/forks.py,
tui_sandbox/forkserver/), over real SSH with the real app: still each student's own
process, folder and environment; one app killed touches no other; the fork server killed
is started again for the next student; nothing is left once the class is over."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tui_sandbox.classroom.forks import ForkServer

from .test_ssh import Student, environ, private_dirs, session_and_terminal, session_of, start_class, wait_until

__all__ = ["private_dirs", "start_class"]     # the fixtures, shared with test_ssh


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


async def test_apps_are_forks_each_its_own_and_the_fork_server_comes_back(start_class, sandbox, tmp_path):
    server = await start_class(max_sessions=3)
    forks = server.forks
    assert isinstance(forks, ForkServer) and forks.alive and server.owns_forks
    first_forks = forks.pid
    folder = forks.folder
    assert os.stat(folder).st_mode & 0o777 == 0o700
    assert os.stat(forks.socket_path).st_mode & 0o777 == 0o600
    ada, bob = await asyncio.gather(Student.connect(server.port, "ada"), Student.connect(server.port, "bob"))
    students = [ada, bob]
    try:
        await asyncio.gather(ada.wait_for_app(), bob.wait_for_app())
        pids = {s.name: session_of(server, s.name).pid for s in students}
        for name, pid in pids.items():
            # A fork of the fork server, in a session of its own on its PTY, in the
            # student's folder, with the student's environment, shown as the app.
            assert parent_of(pid) == first_forks
            assert session_and_terminal(pid)[0] == pid and session_and_terminal(pid)[1] != 0
            assert os.readlink(f"/proc/{pid}/cwd").endswith(f"/students/{name}")
            env = environ(pid)
            assert env["TUI_SANDBOX_USER"] == name and env["TUI_SANDBOX_FILES_DIR"].endswith(f"/students/{name}")
            assert "TUI_SANDBOX_FORKSERVER_ROOM" not in env
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            assert cmdline[:3] == [sys.executable.encode(), b"-m", b"tui_sandbox"]

        # Ada's app is killed: she is told; Bob's app, and the fork server, go on.
        os.kill(pids["ada"], signal.SIGKILL)
        assert await ada.exit_status() == 128 + signal.SIGKILL
        assert b"the app stopped unexpectedly" in ada.raw
        await bob.type_slowly("print('bob', 6 * 7)")
        await bob.wait_for("print('bob', 6 * 7)")
        bob.type(b"\x12")
        await bob.wait_for("bob 42", " OK ")
        assert forks.alive and forks.pid == first_forks
        assert session_of(server, "bob").app.child.returncode is None

        # The fork server is killed: Bob's app lives on (its own session), and the next
        # student's app is a fork of a fork server started again.
        os.kill(first_forks, signal.SIGKILL)
        await wait_until(lambda: gone(first_forks), 10, "the fork server gone")
        cyd = await Student.connect(server.port, "cyd")
        students.append(cyd)
        await cyd.wait_for_app()
        cyd_pid = session_of(server, "cyd").pid
        assert forks.pid != first_forks and forks.starts == 2 and parent_of(cyd_pid) == forks.pid
        assert not os.path.exists(folder)                      # the dead one's socket folder went
        bob.type(b"\x12")
        await bob.wait_for("bob 42", " OK ")
        # Bob quits; his app's end is still seen (its pidfd), though its fork server is gone.
        bob.type(b"\x11")
        await bob.wait_for("Quit anyway?")
        bob.type(b"y")
        assert await bob.exit_status() is not None
        await wait_until(lambda: gone(pids["bob"]), 10, "bob's app gone")
        last_forks, last_folder = forks.pid, forks.folder
    finally:
        for s in students:
            s.close()
    # The class is over: no app, no fork server, no socket left.
    server.close()
    await asyncio.wait_for(server.wait_closed(), 30)
    assert gone(cyd_pid) and gone(last_forks) and not os.path.exists(last_folder)


async def test_a_command_that_is_not_the_app_starts_as_a_plain_process(start_class, tmp_path):
    """The fork server runs only `python -m tui_sandbox`: anything else (here a shell
    script standing for the app) is a plain child of the server, as without it."""
    script = "import os, sys; print('plain', os.getppid(), flush=True); sys.stdin.read(1)"
    server = await start_class(app_command=[sys.executable, "-c", script])
    student = await Student.connect(server.port, "ada")
    try:
        await student.wait_for("plain", timeout=30)
        pid = session_of(server, "ada").pid
        assert parent_of(pid) == os.getpid() and f"plain {os.getpid()}" in student.text
    finally:
        student.close()


TOUCH_WHAT_WAS_PRELOADED = """
import os, sys, time
from tui_sandbox.forkserver.preload import freeze, immortalize, preload
preload()
import tui_sandbox.app.app
freeze()
print(immortalize(), flush=True)        # a second time: what freeze left mortal
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    # What running code does to what it uses: every module's classes and their members,
    # each referred to (a reference count written, unless immortal).
    for module in list(sys.modules.values()):
        for value in list(vars(module).values()):
            if isinstance(value, type):
                for _ in list(vars(value).values()):
                    pass
    os.write(w, b"x")
    time.sleep(60)
    os._exit(0)
os.read(r, 1)
with open(f"/proc/{pid}/smaps_rollup") as rollup:
    print(next(int(line.split()[1]) for line in rollup if line.startswith("Private_Dirty:")), flush=True)
os.kill(pid, 9)
os.waitpid(pid, 0)
"""


def test_a_child_that_touches_what_was_preloaded_copies_little_of_it_where_objects_are_immortal():
    # forkserver/preload.py: on CPython 3.12+ the preloaded objects are made immortal, so
    # touching them writes nothing, and the child's pages stay the fork server's. On 3.11
    # there is no such thing: it is left alone (and a touching child copies ~20 MiB).
    import subprocess

    done = subprocess.run([sys.executable, "-c", TOUCH_WHAT_WAS_PRELOADED], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    left_mortal, private_kib = (int(line) for line in done.stdout.split())
    if sys.version_info >= (3, 12):
        assert left_mortal < 100                    # freeze() made them immortal already (but a few new)
        assert private_kib < 6 * 1024, f"the child copied {private_kib} KiB"
    else:
        assert left_mortal == 0 and private_kib > 6 * 1024      # nothing to do: nothing done
