"""The whole classroom: `tui-sandbox serve --ssh` in a process of its own, students over
real SSH, each app a client of the server (no Docker of its own): their runs share the
server's queue and cap, land in its history under each student's name, and a student's
app opens and saves files only in their own folder."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from .test_ssh import CODE, Student

ROOT = Path(__file__).resolve().parents[2]


def start_server(tmp_path: Path) -> tuple[subprocess.Popen, int, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "TUI_SANDBOX_CLASS_CODE": CODE}
    server = subprocess.Popen([sys.executable, "-m", "tui_sandbox", "serve", "--port", "0", "--ssh", "0",
                               "--ssh-host", "127.0.0.1", "--max-running", "1", "--max-timeout", "30"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=ROOT,
                              env=env)
    lines = [server.stdout.readline().decode() for _ in range(2)]
    http = re.search(r"http://127\.0\.0\.1:(\d+)", lines[0])
    ssh = re.search(r"on port (\d+)", lines[1])
    assert http and ssh, lines
    return server, int(ssh.group(1)), f"http://127.0.0.1:{http.group(1)}"


async def test_students_run_through_the_servers_queue_in_their_own_folders(sandbox, tmp_path):
    server, ssh_port, url = start_server(tmp_path)
    students = []
    try:
        ada = await Student.connect(ssh_port, "ada")
        bob = await Student.connect(ssh_port, "bob")
        students = [ada, bob]
        await asyncio.gather(ada.wait_for_app(), bob.wait_for_app())
        # Ada's run holds the server's only slot; Bob's waits in line, and says so.
        await ada.type_slowly("import time; time.sleep(4); print('ada done')")
        await ada.wait_for("ada done')")
        ada.type(b"\x12")
        await ada.wait_for("RUNNING")
        await bob.type_slowly("print('bob', 6 * 7)")
        await bob.wait_for("bob', 6 * 7)")
        bob.type(b"\x12")
        await bob.wait_for("QUEUED", "1st in line, 1/1 running", timeout=30)
        await bob.wait_for("bob 42", " OK ", timeout=60)
        await ada.wait_for("ada done", " OK ", timeout=60)
        # The server kept both runs, under each student's name.
        runs = httpx.get(f"{url}/runs").json()["runs"]
        assert {(run["user"], run["verdict"]) for run in runs} >= {("ada", "ok"), ("bob", "ok")}
        # ctrl+o cannot reach the server's files: only the student's own folder.
        bob.type(b"\x0f")
        await bob.wait_for("Open", "bob")   # the tree shows Bob's own folder
        bob.type(b"\x1b[Z")                # shift+tab: from the tree to the path line
        await asyncio.sleep(0.3)
        await bob.type_slowly("/etc/passwd\r")
        await bob.wait_for("outside your folder")
    finally:
        for student in students:
            student.close()
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    # Nothing of the server's, nor of the students' apps, is left running.
    assert not [c for c in sandbox.backend.api.containers(all=True, filters={"label": "tui-sandbox"})
                if f":{server.pid}:" in (c.get("Labels") or {}).get("tui-sandbox.owner", "")]
