"""No library's warning reaches a user. Each entry point (the app, run, serve, class --once,
worker, mcp) starts, does its work and stops with DeprecationWarning and UserWarning made
errors, in every process it starts (PYTHONWARNINGS is inherited): an upstream deprecation
then fails CI, not a user's session, and a warning can never print before our own message."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..classroom.test_ssh import CODE, Student
from ..service.conftest import Server, assert_nothing_left
from ..service.test_mcp import mcp_session, run_code
from ..terminal import AppAtTerminal
from .conftest import Cluster, free_port, run, wait_for

ROOT = Path(__file__).resolve().parents[2]
WARNINGS_ARE_ERRORS = {"PYTHONWARNINGS": "error::DeprecationWarning,error::UserWarning"}
HELLO = {"code": "print('hello')", "language": "python"}


def assert_quiet(text: str, who: str) -> None:
    assert "Warning" not in text and "Traceback" not in text, f"{who} said:\n{text}"


def tui_sandbox(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), **WARNINGS_ARE_ERRORS}
    return subprocess.run([sys.executable, "-m", "tui_sandbox", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)


def test_run(sandbox, tmp_path):
    program = tmp_path / "hello.py"
    program.write_text("print('hello')\n")
    done = tui_sandbox("run", str(program), "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == "hello\n"
    assert done.stderr == ""


def test_serve_and_the_teachers_view(sandbox, tmp_path):
    server = Server(tmp_path / "server", env=WARNINGS_ARE_ERRORS)
    try:
        assert server.run(HELLO)["output"] == "hello\n"
        for path in ("/docs", "/openapi.json", "/runs", "/"):
            assert server.client.get(path).status_code == 200, path
        view = tui_sandbox("class", "--server", server.url, "--once", "--json", tmp_path=tmp_path)
        assert view.returncode == 0, view.stderr
        assert "students" in json.loads(view.stdout)
        assert_quiet(view.stderr, "class --once")
    finally:
        status = server.stop()
    assert status in (0, -15), server.stderr()
    assert_quiet(server.stderr(), "serve")
    assert_nothing_left(sandbox, server)


async def test_a_class_over_ssh(sandbox, tmp_path):
    """serve --ssh: the class's server starts, a student's app comes up and quits."""
    port = free_port()
    server = Server(tmp_path / "server", "--ssh", str(port), "--class-code", CODE, env=WARNINGS_ARE_ERRORS)
    try:
        wait_for(lambda: answers(port), 30, f"the class's SSH port never answered: {server.stderr()}")
        student = await Student.connect(port, "ada")
        await student.wait_for_app()
        student.type(b"\x11")                      # ctrl+q
        assert await student.exit_status() == 0
        student.close()
        assert_quiet(student.errors.decode(errors="replace"), "the student's app")
    finally:
        server.stop()
    assert_quiet(server.stderr(), "serve --ssh")


def answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_worker_and_its_front(sandbox, redis_server, tmp_path):
    cluster = Cluster(redis_server, tmp_path)
    cluster.env.update(WARNINGS_ARE_ERRORS)
    try:
        cluster.worker("w1", 1)
        _front, client = cluster.front()
        answer = run(client, HELLO["code"])
        assert answer.status_code == 200 and answer.json()["output"] == "hello\n", answer.text
        client.close()
    finally:
        cluster.close()
    for process in cluster.processes:
        assert process.proc.returncode in (0, -15), process.output()
        assert_quiet(process.output(), process.args[0])


async def test_mcp(sandbox, tmp_path):
    async with mcp_session(tmp_path, env=WARNINGS_ARE_ERRORS) as session:
        answer = await run_code(session, language="python", code=HELLO["code"])
        assert answer.structured_content["output"] == "hello\n"
    assert_quiet((tmp_path / "mcp.stderr").read_text(), "mcp")


def test_the_app_at_a_terminal(sandbox, tmp_path):
    """The app starts in a real terminal, draws, and quits on ctrl+q, with nothing else said."""
    app = AppAtTerminal(env={"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
                             **WARNINGS_ARE_ERRORS})
    drawn = app.wait_for(lambda text: "Limits" in text)
    if drawn:
        time.sleep(0.5)           # let it settle, so a late warning would be seen
    code = app.quit()
    text = app.seen.decode(errors="replace")
    assert drawn, app.text
    assert code == 0, text
    assert_quiet(text, "the app")
