"""The teacher's view against the real server (`tui-sandbox serve` in a process of its own):
GET /class while a run goes, the teacher cancelling any run, the token rule, `tui-sandbox
class --once --json`, the Textual app driven with Pilot, and a student over real SSH and one
in a real browser (headless Chromium) in `connected`, each with their front. Docker must be
running: without it these tests fail, never skip."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time

import asyncssh
import httpx
import pytest
from playwright.async_api import async_playwright
from textual.widgets import DataTable

from tui_sandbox.service.models import ClassView
from tui_sandbox.teacher.app import ClassApp, ConfirmCancel

from ..classroom.test_web import open_chromium, sign_in
from .conftest import ROOT, Server, container_gone, wait_until

# Prints once it holds its memory, then sleeps well past any wait here.
SLEEPER = {"code": "import time\nx = bytearray(40 << 20)\nprint('up', flush=True)\ntime.sleep(60)", "timeout": 30}
CLASS_CODE = "teach-me-7"


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))     # the app's remembered theme


def user(name: str) -> dict:
    return {"X-Sandbox-User": name}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class Streaming:
    """A run streamed (POST /runs) in a thread of its own: its events as they come."""

    def __init__(self, server: Server, body: dict, headers: dict) -> None:
        self.events: list[dict] = []
        self.thread = threading.Thread(target=self._read, args=(server.url, body, headers), daemon=True)
        self.thread.start()

    def _read(self, url: str, body: dict, headers: dict) -> None:
        with httpx.stream("POST", f"{url}/runs", json=body, headers=headers, timeout=60) as answer:
            assert answer.status_code == 200, answer.read()
            for line in answer.iter_lines():
                if line.strip():
                    self.events.append(json.loads(line))

    def first(self, kind: str, timeout: float = 30) -> dict:
        found = wait_until(lambda: next((e for e in self.events if e["event"] == kind), None), timeout)
        assert found, f"no {kind} event: {self.events}"
        return found

    def up(self) -> dict:
        """Once it printed (its memory is held): its started event."""
        self.first("output")
        return self.first("started")

    def end(self, timeout: float = 30) -> dict:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the run did not end"
        return self.events[-1]


def the_class(server: Server, headers: dict | None = None) -> dict:
    answer = server.client.get("/class", headers=headers)
    assert answer.status_code == 200, answer.text
    return ClassView.model_validate(answer.json()).model_dump()


def student(view: dict, name: str) -> dict:
    [found] = [s for s in view["students"] if s["user"] == name]
    return found


def class_command(server: Server, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TUI_SANDBOX_TOKEN", "TUI_SANDBOX_SERVER")}
    return subprocess.run([sys.executable, "-m", "tui_sandbox", "class", "--server", server.url, *args],
                          capture_output=True, text=True, timeout=30, cwd=ROOT, env=env)


def test_the_class_live_its_totals_and_the_teacher_cancels_any_run(serve, sandbox):
    server = serve("--max-running", "4")
    # ada: ok, then a timeout; bob, meanwhile: an OOM kill.
    ada = threading.Thread(target=lambda: [server.run({"code": "print(1)"}, headers=user("ada")),
                                           server.run({"code": "while True: pass", "timeout": 1},
                                                      headers=user("ada"))])
    ada.start()
    oom = server.run({"code": "x = 'a' * 10**9", "memory": "32m"}, headers=user("bob"))
    ada.join(30)
    assert oom["verdict"] == "oom"
    # bob's next run goes on, holding 40 MiB, while the teacher looks.
    sleeper = Streaming(server, SLEEPER, user("bob"))
    started = sleeper.up()

    def holding_its_memory() -> dict | None:
        view = the_class(server)
        running = student(view, "bob")["running"] or {}
        return view if (running.get("memory_bytes") or 0) > 30 << 20 else None

    view = wait_until(holding_its_memory, timeout=15)       # a sample comes about every second
    assert view, f"bob's run never showed its 40 MiB: {the_class(server)}"

    bob, ada_now = student(view, "bob"), student(view, "ada")
    running = bob["running"]
    assert running["id"] == started["id"] and running["language"] == "python"
    assert 0 < running["elapsed_s"] < 30
    assert bob["running_count"] == 1 and bob["queued"] == 0
    assert (bob["last_verdict"], bob["runs"], bob["oom_kills"], bob["timeouts"]) == ("oom", 2, 1, 0)
    assert "memory" in bob["last_kill_reason"]
    assert (ada_now["last_verdict"], ada_now["runs"], ada_now["timeouts"], ada_now["running"]) == (
        "timeout", 2, 1, None)
    assert "Timed out after 1 s" in ada_now["last_kill_reason"]
    assert view["totals"] == {"runs": 4, "timeouts": 1, "oom_kills": 1,
                              "by_verdict": {"ok": 1, "timeout": 1, "oom": 1}, "walls": {}}
    assert view["queue"] == {"running": 1, "queued": 0, "cap": 4}
    assert view["connected"] == [] and view["ssh"] is False and view["web"] is False
    assert not bob["connected"] and bob["fronts"] == []
    # Ended runs count from `since` (default: the server's start); the live one always counts.
    later = server.client.get("/class", params={"since": time.time() + 3600}).json()
    assert later["totals"] == {"runs": 1, "timeouts": 0, "oom_kills": 0, "by_verdict": {},
                                "walls": {}}
    assert student(later, "bob")["running"]["id"] == started["id"] and student(later, "bob")["last_verdict"] is None

    # The same facts from the command line, for scripts; and in words.
    once = class_command(server, "--once", "--json")
    assert once.returncode == 0, once.stderr
    printed = json.loads(once.stdout)
    assert printed["totals"] == view["totals"] and student(printed, "bob")["running"]["id"] == started["id"]
    assert [(s["user"], s["last_verdict"]) for s in printed["students"]] == [("ada", "timeout"), ("bob", "oom")]
    words = class_command(server, "--once")
    assert words.returncode == 0, words.stderr
    assert "1/4 running" in words.stdout and "timeouts 1 · OOM kills 1" in words.stdout
    [bob_line] = [line for line in words.stdout.splitlines() if line.startswith("bob ")]
    assert "python" in bob_line and "OOM: Out of memory" in bob_line

    # The teacher cancels it (no tokens: the teacher is whoever is on this machine).
    cancelled = server.client.delete(f"/runs/{started['id']}", headers=user("the-teacher"))
    assert cancelled.status_code == 202, cancelled.text
    end = sleeper.end()
    assert end["event"] == "finished" and end["verdict"] == "cancelled"
    assert wait_until(lambda: container_gone(sandbox, started["container_id"]))
    after = the_class(server)
    assert student(after, "bob")["running"] is None and student(after, "bob")["last_verdict"] == "cancelled"
    assert after["totals"]["by_verdict"]["cancelled"] == 1 and after["totals"]["runs"] == 4
    # Documented in the OpenAPI schema, with its model.
    schema = server.client.get("/openapi.json").json()
    assert "ClassView" in json.dumps(schema["paths"]["/class"]["get"]["responses"]["200"])
    assert set(schema["components"]["schemas"]["ClassView"]["properties"]) >= {
        "connected", "students", "queue", "totals"}


def test_with_tokens_only_the_teacher_sees_the_class_and_cancels_others_runs(serve, sandbox):
    server = serve("--token", "teacher=T-1", "--token", "ada=A-1", "--token", "bob=B-1")
    assert server.client.get("/class").status_code == 401
    refused = server.client.get("/class", headers=bearer("A-1"))
    assert refused.status_code == 403 and "teacher" in refused.json()["error"], refused.text
    assert refused.json()["fix"]

    sleeper = Streaming(server, SLEEPER, bearer("B-1"))
    started = sleeper.up()
    view = the_class(server, bearer("T-1"))
    assert student(view, "bob")["running"]["id"] == started["id"]
    # ada may neither see nor cancel bob's run; the teacher may read it and cancel it.
    assert server.client.get(f"/runs/{started['id']}", headers=bearer("A-1")).status_code == 404
    assert server.client.delete(f"/runs/{started['id']}", headers=bearer("A-1")).status_code == 404
    assert server.client.get(f"/runs/{started['id']}", headers=bearer("T-1")).json()["user"] == "bob"
    assert [r["id"] for r in server.client.get("/runs", headers=bearer("T-1")).json()["runs"]] == [started["id"]]
    assert server.client.get("/runs", headers=bearer("A-1")).json()["runs"] == []
    # Typing into a student's program stays theirs alone.
    assert server.post(f"/runs/{started['id']}/input", {"text": "x"}, headers=bearer("T-1")).status_code == 404
    assert server.client.delete(f"/runs/{started['id']}", headers=bearer("T-1")).status_code == 202
    assert sleeper.end()["verdict"] == "cancelled"
    assert wait_until(lambda: container_gone(sandbox, started["container_id"]))

    # The command line says the same, and says why when the token is not the teacher's.
    good = class_command(server, "--json", "--token", "T-1")
    assert good.returncode == 0 and student(json.loads(good.stdout), "bob")["last_verdict"] == "cancelled"
    bad = class_command(server, "--json", "--token", "A-1")
    assert bad.returncode == 1, (bad.stdout, bad.stderr)
    assert json.loads(bad.stdout)["status"] == 403
    assert "only the teacher" in bad.stderr and "Traceback" not in bad.stderr


async def wait_for(pilot, condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


async def test_the_teachers_app_shows_the_rows_and_cancels_with_c(serve, sandbox):
    server = serve("--token", "teacher=T-1", "--token", "ada=A-1", "--token", "bob=B-1")
    await asyncio.to_thread(server.run, {"code": "print(1)"}, headers=bearer("B-1"))
    sleeper = Streaming(server, SLEEPER, bearer("A-1"))
    started = await asyncio.to_thread(sleeper.up)

    app = ClassApp(server.url, token="T-1", poll_s=0.3)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_for(pilot, lambda: (app.students.get("ada") or {}).get("running"))
        table = app.query_one(DataTable)
        rows = {str(key.value): [str(cell) for cell in table.get_row(key)] for key in table.rows}
        assert list(rows) == ["ada", "bob"]
        assert rows["ada"][2].startswith("python ") and rows["ada"][4] == "-"
        assert rows["bob"][2] == "-" and rows["bob"][4] == "OK" and rows["bob"][5] == "1"
        summary = str(app.query_one("#summary").render())
        assert "1/" in summary and "running" in summary
        # ada is the first row: c asks, y cancels.
        table.move_cursor(row=table.get_row_index("ada"))
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCancel))
        assert "Cancel ada's run" in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: (app.students.get("ada") or {}).get("last_verdict") == "cancelled")
        assert app.students["ada"]["running"] is None and app.selected_user() == "ada"
        assert "Cancelled ada's run" in [n.message for n in app._notifications]
    assert (await asyncio.to_thread(sleeper.end))["verdict"] == "cancelled"
    assert await asyncio.to_thread(wait_until, lambda: container_gone(sandbox, started["container_id"]))

    # A token that is not the teacher's, and a server that is not there: a line, never a traceback.
    for url, token, words in ((server.url, "A-1", "only the teacher"), ("http://127.0.0.1:9", None,
                                                                          "does not answer")):
        app = ClassApp(url, token=token, poll_s=0.3)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda app=app: app.error is not None)
            assert words in str(app.query_one("#message").render())
            assert app.query_one(DataTable).row_count == 0


def class_fronts(server: Server, timeout: float = 20) -> tuple[int, str]:
    """serve --ssh --web announces, after its first line, the SSH port, then the page's URL."""
    found: list[str] = []

    def read() -> None:
        for raw in iter(server.process.stdout.readline, b""):
            found.append(raw.decode())
            if "class in the browser on" in found[-1]:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    text = "".join(found)
    ssh, web = re.search(r"over SSH on port (\d+)", text), re.search(r"browser on (http://\S+/)", text)
    assert ssh and web, f"the class's fronts were not announced: {text} {server.stderr()}"
    return int(ssh.group(1)), web.group(1)


async def test_students_over_ssh_and_in_a_browser_are_connected_each_with_their_front(serve, sandbox):
    server = serve("--ssh", "0", "--ssh-host", "127.0.0.1", "--web", "0", "--class-code", CLASS_CODE)
    port, page_url = await asyncio.to_thread(class_fronts, server)
    conn = await asyncssh.connect("127.0.0.1", port, username="cyd", password=CLASS_CODE, known_hosts=None)
    try:
        process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
        async with async_playwright() as pw:
            browser = await open_chromium(pw)
            try:
                page = await browser.new_page()
                await sign_in(page, page_url, "dee", CLASS_CODE)
                await page.wait_for_selector("body.-first-byte", timeout=20000)

                def both_connected():
                    view = the_class(server)
                    fronts = sorted((c["user"], c["front"]) for c in view["connected"])
                    return view if fronts == [("cyd", "ssh"), ("dee", "web")] else None

                view = await asyncio.to_thread(wait_until, both_connected, 20)
                assert view, f"cyd (ssh) and dee (web) never both showed as connected: {the_class(server)}"
                for entry in view["connected"]:
                    assert entry["address"] == "127.0.0.1" and abs(entry["since"] - time.time()) < 60
                assert view["ssh"] is True and view["web"] is True
                cyd, dee = student(view, "cyd"), student(view, "dee")
                assert (cyd["connected"], cyd["fronts"], cyd["runs"], cyd["last_verdict"]) == (True, ["ssh"], 0, None)
                assert (dee["connected"], dee["fronts"]) == (True, ["web"])

                # The teacher's app: a Via column, and the sessions by front in the summary.
                app = ClassApp(server.url, poll_s=0.3)
                async with app.run_test(size=(80, 24)) as pilot:
                    await wait_for(pilot, lambda: {"cyd", "dee"} <= set(app.students))
                    table = app.query_one(DataTable)
                    assert [str(column.label) for column in table.columns.values()][1] == "Via"
                    via = {str(key.value): str(table.get_cell(key, "via")) for key in table.rows}
                    assert via == {"cyd": "ssh", "dee": "web"}
                    summary = str(app.query_one("#summary").render())
                    assert "Connected 2 (1 over SSH, 1 in a browser): cyd, dee" in summary
                # And in words, for `tui-sandbox class --once`.
                words = await asyncio.to_thread(class_command, server, "--once")
                assert words.returncode == 0, words.stderr
                assert "connected: 2 (1 over SSH, 1 in a browser): cyd (ssh, 127.0.0.1" in words.stdout
                assert "dee (web, 127.0.0.1" in words.stdout
                rows = {line.split()[0]: line.split()[1] for line in words.stdout.splitlines()
                        if line.startswith(("cyd ", "dee "))}
                assert rows == {"cyd": "ssh", "dee": "web"}
                await page.close()
            finally:
                await browser.close()
        process.close()
    finally:
        conn.close()
    gone = await asyncio.to_thread(wait_until, lambda: the_class(server)["connected"] == [], 30)
    assert gone, "a student still shows as connected after leaving"


def test_the_teachers_view_loads_no_docker_and_says_when_the_server_is_not_there():
    loaded = subprocess.run([sys.executable, "-c", (
        "import sys; from tui_sandbox import cli; cli.build_parser(); "
        "import tui_sandbox.teacher.app, tui_sandbox.teacher.client; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'fastapi', 'uvicorn', 'asyncssh') "
        "or m.startswith(('runner.docker', 'tui_sandbox.service', 'tui_sandbox.app'))))")],
        capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("TUI_SANDBOX_TOKEN", "TUI_SANDBOX_SERVER")}
    gone = subprocess.run([sys.executable, "-m", "tui_sandbox", "class", "--once", "--server", "http://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=30, cwd=ROOT, env=env)
    assert gone.returncode == 1 and gone.stdout == ""
    assert gone.stderr.startswith("tui-sandbox: the server at http://127.0.0.1:9 does not answer")
    assert "fix: check --server" in gone.stderr and "Traceback" not in gone.stderr


def test_the_walls_each_student_hit_and_the_class_in_all(serve, sandbox):
    """GET /class and class --once count the walls by kind, per student and for the class;
    the peek (GET /class/students/{user}) lists the last run's walls."""
    from ..engine.test_walls import FORKS

    server = serve()
    forks = server.run({"code": FORKS, "pids": 16}, headers=user("ada"))
    refused = int(forks["output"].split()[1])
    server.run({"code": "print(1)"}, headers=user("bob"))
    view = the_class(server)
    assert student(view, "ada")["walls"] == {"process": refused}
    assert student(view, "bob")["walls"] == {}
    assert view["totals"]["walls"] == {"process": refused}
    words = class_command(server, "--once").stdout
    assert f"walls process ×{refused}" in words
    assert f"walls hit: process ×{refused}" in next(line for line in words.splitlines() if line.startswith("ada"))
    peek = server.client.get("/class/students/ada").json()
    assert [wall["count"] for wall in peek["last"]["blocked"]] == [refused]
