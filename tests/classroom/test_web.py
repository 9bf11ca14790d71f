"""The classroom in a browser: a real `tui-sandbox serve --web` in a process of its own, a
real headless Chromium (playwright) signing in and using the app. Needs Docker (the run) and
Debian's chromium: without either it fails, never skips."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import httpx
import pytest
from aiohttp import WSCloseCode
from playwright.async_api import async_playwright

from tui_sandbox.classroom.web_signin import sign, verify

ROOT = Path(__file__).resolve().parents[2]
CODE = "correct-horse-7"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_the_cookie_is_signed_and_names_a_valid_student():
    key, other = os.urandom(32), os.urandom(32)
    assert verify(key, sign(key, "ada")) == "ada"
    assert verify(other, sign(key, "ada")) is None
    assert verify(key, sign(key, "ada", issued=int(time.time()) - 13 * 3600)) is None
    forged = sign(key, "ada").replace("YWRh", "Ym9i")      # "bob" with ada's signature
    assert verify(key, forged) is None
    assert verify(key, sign(key, "../etc")) is None
    assert verify(key, "garbage") is None and verify(key, None) is None


@dataclass
class Served:
    """A `tui-sandbox serve --web` process and where it answers."""
    process: subprocess.Popen
    service: str                 # the HTTP API
    web: str                     # the browser front's page
    ssh_port: int | None         # with --ssh
    announced: str               # what it printed on starting

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> str:
        """SIGTERM, as the teacher's ctrl-c would; its stderr, once it has exited cleanly."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        log = self.process.stderr.read().decode(errors="replace")
        # uvicorn raises the SIGTERM again once it has shut down gracefully.
        assert self.process.returncode in (0, -signal.SIGTERM), log
        return log


def start_server(tmp_path: Path, *args: str) -> Served:
    """serve --web 0 (and args, e.g. --ssh 0) on loopback, with the class code CODE."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    server = subprocess.Popen([sys.executable, "-m", "tui_sandbox", "serve", "--port", "0", "--web", "0",
                               "--class-code", CODE, "--max-running", "1", "--max-timeout", "30", *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=ROOT,
                              env=env)
    lines: list[str] = []
    # The browser front comes last; its announcement ends with the cap ("at most N students at once").
    while not ("class in the browser on" in "".join(lines) and " at once" in lines[-1]):
        line = server.stdout.readline().decode()
        assert line, f"the server stopped: {lines} {server.stderr.read().decode(errors='replace')}"
        lines.append(line)
    text = "".join(lines)
    http = re.search(r"serving on http://127\.0\.0\.1:(\d+)", text)
    web = re.search(r"browser on (http://127\.0\.0\.1:\d+/)", text)
    ssh = re.search(r"over SSH on port (\d+)", text)
    if not (http and web):
        server.kill()
        server.wait()
        pytest.fail(f"the server did not say where it answers: {text}")
    return Served(server, f"http://127.0.0.1:{http.group(1)}", web.group(1), int(ssh.group(1)) if ssh else None,
                  text)


async def open_chromium(pw):
    assert Path(CHROMIUM).exists(), "Debian's chromium is required for this test (scripts/setup.sh installs it)"
    return await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


async def sign_in(page, web: str, name: str, code: str = CODE) -> None:
    """The sign-in page, the name and the class code: the app's page follows."""
    await page.goto(web)
    await page.fill("#name", name)
    await page.fill("#code", code)
    await page.click("button[type=submit]")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def apps_of(student: str, server: subprocess.Popen) -> list[int]:
    """The pids of this server's app processes running with TUI_SANDBOX_USER=student (not
    another class's on the same machine): each a fork of the server's fork server."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            parent = parent_of(int(entry.name))
            grandparent = parent_of(parent)
        except (OSError, ValueError, IndexError):
            continue
        if (grandparent == server.pid and f"TUI_SANDBOX_USER={student}".encode() in environ
                and cmdline[1:3] == [b"-m", b"tui_sandbox"]):
            pids.append(int(entry.name))
    return pids


async def eventually(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


async def test_a_student_signs_in_runs_a_program_and_closing_the_tab_ends_the_app(sandbox, tmp_path):
    served = start_server(tmp_path)
    server, service, web = served.process, served.service, served.web
    try:
        # Without the cookie, the websocket that would start an app is refused.
        async with aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(f"{web}ws")
            assert refused.value.status == 403
        assert apps_of("ada", server) == []

        async with async_playwright() as pw:
            browser = await open_chromium(pw)
            try:
                page = await browser.new_page(viewport={"width": 1000, "height": 640})
                # Every request the page makes, to see that none leaves this host.
                requests: list[str] = []
                page.on("request", lambda request: requests.append(request.url))
                page.on("websocket", lambda websocket: requests.append(websocket.url))
                await page.goto(web)
                # A wrong code is refused, and no app starts.
                await page.fill("#name", "ada")
                await page.fill("#code", "wrong")
                await page.click("button[type=submit]")
                await page.wait_for_selector("text=wrong class code")
                assert not [c for c in await page.context.cookies() if c["name"] == "tui_sandbox_student"]
                assert apps_of("ada", server) == []

                # The right one: the app's terminal, and an app process that is ada's.
                await page.fill("#name", "ada")
                await page.fill("#code", CODE)
                async with page.expect_websocket() as ws_info:
                    await page.click("button[type=submit]")
                await ws_info.value
                cookie = [c for c in await page.context.cookies() if c["name"] == "tui_sandbox_student"][0]
                assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
                await page.wait_for_selector("body.-first-byte", timeout=20000)
                pids = await eventually(lambda: apps_of("ada", server), 20, "ada's app")
                environ = Path(f"/proc/{pids[0]}/environ").read_bytes().split(b"\0")
                folder = (tmp_path / "data" / "tui-sandbox" / "students" / "ada").resolve()
                assert f"TUI_SANDBOX_FILES_DIR={folder}".encode() in environ
                assert f"TUI_SANDBOX_SERVER={service}".encode() in environ
                assert folder.stat().st_mode & 0o777 == 0o700

                await asyncio.sleep(1.5)          # the app draws its first screen

                # Nothing was asked of any other host (textual-serve's own page links Google
                # Fonts): the page, its scripts, styles, font and websocket all came from here.
                origin = urlsplit(web).netloc
                assert requests and all(urlsplit(url).netloc == origin for url in requests), requests
                assert any(urlsplit(url).path == "/ws" for url in requests), requests
                # The terminal's font (textual.js asks for Roboto Mono) is this server's copy.
                assert any("/static/fonts/RobotoMono" in url for url in requests), requests
                assert await page.evaluate("document.fonts.check('16px \"Roboto Mono\"')")
                # What the student sees: the app's screen (look at it when the page changes).
                await page.screenshot(path=tmp_path / "app-in-the-browser.png")
                print(f"the app in the browser: {tmp_path / 'app-in-the-browser.png'}")

                # A program and ctrl+r: the server's history has ada's run, ok.
                await page.click("#terminal")
                await page.keyboard.type("print(6 * 7)", delay=20)
                await asyncio.sleep(0.5)
                await page.keyboard.press("Control+r")

                def adas_run():
                    runs = httpx.get(f"{service}/runs").json()["runs"]
                    return [run for run in runs if run["user"] == "ada" and run["verdict"]]
                runs = await eventually(adas_run, 40, "ada's finished run in the server's history")
                assert runs[0]["verdict"] == "ok", runs[0]

                # A run that would go on for seconds, then the tab closes: ada's app ends, and
                # its run with it (cancelled, not left to its timeout).
                await page.keyboard.press("Enter")
                await page.keyboard.type("import time; time.sleep(8)", delay=20)
                await asyncio.sleep(0.5)
                await page.keyboard.press("Control+r")

                def adas_runs():
                    return [run for run in httpx.get(f"{service}/runs").json()["runs"] if run["user"] == "ada"]
                second = (await eventually(lambda: len(adas_runs()) == 2 and adas_runs(), 20, "ada's second run"))
                second_id = next(run["id"] for run in second if run["id"] != runs[0]["id"])
                await page.close()
                await eventually(lambda: not apps_of("ada", server), 20, "ada's app to end after the tab closed")

                def verdict_of_second():
                    return next(run["verdict"] for run in adas_runs() if run["id"] == second_id)
                assert await eventually(verdict_of_second, 10, "the second run to end") == "cancelled"
            finally:
                await browser.close()
    finally:
        log = served.stop()
    assert "did not quit" not in log            # the app quit on textual-serve's "quit", unforced


# --- the front itself, in the test's loop, with a stand-in app (no Docker, no browser) ------

# Speaks just enough of textual-serve's protocol: the prelude, then one data packet; quits on
# the "quit" packet unless told to be stubborn (then it ignores SIGTERM too).
FAKE_APP = r"""
import os, signal, sys, time
stubborn = os.environ.get("FAKE_STUBBORN") == "1"
if stubborn:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
out = sys.stdout.buffer
out.write(b"__GANGLION__\n")
hello = ("hello " + os.environ["TUI_SANDBOX_USER"]).encode()
out.write(b"D" + len(hello).to_bytes(4, "big") + hello)
out.flush()
while True:
    data = os.read(0, 65536)
    if not data:
        break
    if b'"quit"' in data and not stubborn:
        break
while stubborn:
    time.sleep(1)
"""


async def signed_in(web_server, name: str = "ada") -> aiohttp.ClientSession:
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.post(f"http://127.0.0.1:{web_server.port}/signin", data={"name": name, "code": CODE},
                           allow_redirects=False) as response:
        assert response.status == 303
    return client


async def first_bytes(ws) -> bytes:
    message = await asyncio.wait_for(ws.receive(), 10)
    return message.data if message.type == aiohttp.WSMsgType.BINARY else b""


async def test_the_class_is_full_a_foreign_origin_is_refused_and_sign_ins_are_limited(tmp_path):
    from tui_sandbox.classroom.web import start_web_server

    async with await start_web_server(host="127.0.0.1", port=0, class_code=CODE, data_dir=tmp_path,
                                      app_command=[sys.executable, "-c", FAKE_APP], max_sessions=1,
                                      attempts_per_minute=3) as web_server:
        base = f"http://127.0.0.1:{web_server.port}"
        client = await signed_in(web_server)
        try:
            first = await client.ws_connect(f"{base}/ws")
            assert await first_bytes(first) == b"hello ada"
            assert [info.student for info in web_server.sessions.values()] == ["ada"]
            assert [(seat.student, seat.front) for seat in web_server.roster.seated()] == [("ada", "web")]
            assert (tmp_path / "students" / "ada").stat().st_mode & 0o777 == 0o700
            second = await client.ws_connect(f"{base}/ws")
            assert b"the class is full (1 student)" in await first_bytes(second)
            # The reason is in the close frame too: the page shows it in place of "Session ended.".
            closed = await asyncio.wait_for(second.receive(), 10)
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == WSCloseCode.TRY_AGAIN_LATER
            assert closed.extra == "the class is full (1 student): try again later"
            assert web_server.roster.count == 1
            with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
                await client.ws_connect(f"{base}/ws", headers={"Origin": "http://evil.example"})
            assert foreign.value.status == 403
            await first.close()
            await eventually(lambda: not web_server.sessions, 10, "the session to end")
            assert web_server.ended[0].app.forced is False and web_server.roster.count == 0
        finally:
            await client.close()
        # Three sign-ins a minute from this address here: the fourth is refused, right code or not.
        async with aiohttp.ClientSession() as anyone:
            for _ in range(2):
                async with anyone.post(f"{base}/signin", data={"name": "bob", "code": "nope"}) as response:
                    assert response.status == 403
            async with anyone.post(f"{base}/signin", data={"name": "bob", "code": CODE}) as response:
                assert response.status == 429


async def test_an_app_that_does_not_quit_is_killed_when_its_tab_closes(tmp_path, monkeypatch):
    from tui_sandbox.classroom import web, web_app

    monkeypatch.setattr(web_app, "STOP_GRACE_S", 0.5)
    monkeypatch.setattr(web_app, "TERM_GRACE_S", 0.5)
    reaped = []
    async with await web.start_web_server(host="127.0.0.1", port=0, class_code=CODE, data_dir=tmp_path,
                                          app_command=[sys.executable, "-c", FAKE_APP],
                                          app_env={"FAKE_STUBBORN": "1"},
                                          reap=lambda: reaped.append(True)) as web_server:
        client = await signed_in(web_server, "bob")
        try:
            ws = await client.ws_connect(f"http://127.0.0.1:{web_server.port}/ws")
            assert await first_bytes(ws) == b"hello bob"
            pid = next(iter(web_server.sessions.values())).pid
            await ws.close()
            await eventually(lambda: not web_server.sessions, 10, "the session to end")
        finally:
            await client.close()
    assert web_server.ended[0].app.forced and reaped == [True]
    assert not Path(f"/proc/{pid}").exists()


async def test_closing_the_server_ends_every_app_and_tells_the_student(tmp_path):
    from tui_sandbox.classroom.web import start_web_server

    web_server = await start_web_server(host="127.0.0.1", port=0, class_code=CODE, data_dir=tmp_path,
                                        app_command=[sys.executable, "-c", FAKE_APP])
    client = await signed_in(web_server)
    try:
        ws = await client.ws_connect(f"http://127.0.0.1:{web_server.port}/ws")
        assert await first_bytes(ws) == b"hello ada"
        pid = next(iter(web_server.sessions.values())).pid
        web_server.close()
        assert b"the class is over" in await first_bytes(ws)
        await asyncio.wait_for(web_server.wait_closed(), 20)
        assert not web_server.sessions and web_server.ended[0].app.forced is False
        assert web_server.roster.count == 0
        assert not Path(f"/proc/{pid}").exists()
    finally:
        await client.close()


async def test_an_idle_tab_is_closed_told_why_and_leaves_the_class(tmp_path):
    from tui_sandbox.classroom.web import start_web_server

    async with await start_web_server(host="127.0.0.1", port=0, class_code=CODE, data_dir=tmp_path,
                                      app_command=[sys.executable, "-c", FAKE_APP], max_sessions=1,
                                      idle_timeout_s=1) as web_server:
        client = await signed_in(web_server)
        try:
            ws = await client.ws_connect(f"http://127.0.0.1:{web_server.port}/ws")
            assert await first_bytes(ws) == b"hello ada"
            assert web_server.roster.count == 1
            assert b"no key pressed for" in await first_bytes(ws)
            closed = await asyncio.wait_for(ws.receive(), 10)
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.extra.startswith("no key pressed for")
            await eventually(lambda: not web_server.sessions, 10, "the session to end")
            assert web_server.roster.count == 0
        finally:
            await client.close()
