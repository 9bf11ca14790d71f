"""The seeds' web page in a real browser: Debian's Chromium, headless, driven by
Playwright against the real server (`tui-sandbox serve` in a process of its own). It
types code, presses Run and reads the output and the verdict as a student would, stops
a run mid-way, waits in the queue, and meets a refusal and a token prompt. The page
may load nothing from anywhere but its own server, and its CSP allows no other script.

Without Chromium or a Docker engine these tests fail; they never skip. Set
TUI_SANDBOX_WEB_SCREENSHOT=screenshots/web-page.png to refresh the README's picture.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from .conftest import Server, assert_nothing_left, container_gone, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
RUN_S = 30_000          # ms: long enough for a cold container, short of a hang

TICKS = "import time\nfor i in range(1000):\n    print('tick', i, flush=True)\n    time.sleep(0.2)\n"


# --- the server and the browser -------------------------------------------------------

@pytest.fixture(scope="module")
def server(sandbox, tmp_path_factory):
    """This module's own real server (in place of conftest's shared one): two containers
    at most, so a queue forms. At the end it is stopped with SIGTERM, must exit cleanly,
    and must leave none of its containers."""
    one = Server(tmp_path_factory.mktemp("web"), "--max-running", "2")
    yield one
    # uvicorn ends a graceful stop by raising the signal it caught again: -SIGTERM is clean too.
    assert one.stop() in (0, -signal.SIGTERM), one.stderr()
    assert_nothing_left(sandbox, one)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Debian's chromium is required for the page's tests ({CHROMIUM} is missing): "
                    "apt-get install -y chromium", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page in a fresh browser context, with what it asked for and what went wrong."""

    def __init__(self, browser, server: Server, color_scheme: str = "dark", path: str = "/ui") -> None:
        self.server = server
        self.context = browser.new_context(viewport=VIEWPORT, color_scheme=color_scheme)
        self.page: Page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        self.page.goto(f"{server.url}{path}")
        expect(self.page.locator("#example optgroup").first).to_be_attached()   # the script has run

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"the page's script failed: {self.errors}"
        violations = [line for line in self.console if "Content Security Policy" in line or "Refused to" in line]
        assert not violations, violations
        elsewhere = [url for url in self.requests if not url.startswith(self.server.url + "/")]
        assert not elsewhere, f"the page reached beyond its server: {elsewhere}"


@pytest.fixture
def visit(browser, server):
    opened: list[Visit] = []

    def open_page(on: Server = server, color_scheme: str = "dark", path: str = "/ui") -> Page:
        one = Visit(browser, on, color_scheme, path)
        opened.append(one)
        return one.page

    yield open_page
    for one in opened:
        one.close()


# --- helpers: as a student does it -----------------------------------------------------

def type_program(page: Page, code: str) -> None:
    """Select all in the code box and type over it, key by key."""
    page.click("#code")
    page.keyboard.press("Control+a")
    page.keyboard.type(code)


def set_program(page: Page, code: str) -> None:
    """Put a multi-line program in the code box whole (typing would auto-indent it twice)."""
    page.fill("#code", code)


def verdict_is(page: Page, verdict: str, timeout: float = RUN_S) -> None:
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", verdict, timeout=timeout)


# --- the tests ----------------------------------------------------------------------------

def test_the_page_is_served_with_a_strict_csp_and_nothing_from_elsewhere(server):
    for path in ("/ui", "/"):
        response = server.client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        # Relative links only: no other host, no protocol-relative URL, no inline script.
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", response.text)
        assert not re.search(r"<script(?![^>]*\ssrc=)", response.text)
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        response = server.client.get(f"/ui/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        assert "http://" not in response.text and "https://" not in response.text and "@import" not in response.text
    assert server.client.get("/ui/nothing.js").status_code == 404


def test_typed_code_runs_and_says_ok_with_its_output(visit):
    page = visit(path="/")                                 # the same page at the root
    expect(page.locator("#language option[value=javascript]")).to_be_attached()   # from GET /languages
    type_program(page, 'print("hello from the page")')
    page.click("#run")
    verdict_is(page, "ok")
    expect(page.locator("#verdict-word")).to_have_text("OK")
    expect(page.locator("#verdict-reason")).to_have_text("Finished normally")
    expect(page.locator("#verdict-figures")).to_contain_text(re.compile(r"\d\.\d\d s"))
    expect(page.locator("#output")).to_have_text("hello from the page\n")
    expect(page.locator("#output .stderr")).to_have_count(0)
    expect(page.locator("#run")).to_be_enabled()
    expect(page.locator("#stop")).to_be_disabled()


def test_the_code_box_indents_and_stdin_reaches_the_program(visit):
    page = visit()
    type_program(page, "name = input()\nfor i in range(2):\nprint(i, name)")
    expect(page.locator("#code")).to_have_value("name = input()\nfor i in range(2):\n    print(i, name)")
    page.click(".stdin summary")
    page.fill("#stdin", "Ada\n")
    page.click("#run")
    verdict_is(page, "ok")
    expect(page.locator("#output")).to_have_text("0 Ada\n1 Ada\n")


def test_an_infinite_loop_times_out_live_with_its_kill_reason(visit):
    page = visit()
    loop = page.locator('#example optgroup[label="python"] option', has_text="Infinite loop")
    page.select_option("#example", value=loop.get_attribute("value"))
    expect(page.locator("#code")).to_have_value(re.compile("while True"))
    page.fill("#timeout", "1")
    page.focus("#code")
    page.keyboard.press("Control+Enter")               # the keyboard runs it too
    verdict_is(page, "running")
    expect(page.locator("#stop")).to_be_enabled()
    verdict_is(page, "timeout")
    expect(page.locator("#verdict-word")).to_have_text("TIMEOUT")
    expect(page.locator("#verdict-reason")).to_have_text("Timed out after 1 s and was killed")
    # The stats came live: memory against its limit, CPU against its share, PIDs.
    expect(page.locator("#stat-memory")).to_have_text(re.compile(r"MiB / 128 MiB$"))
    expect(page.locator("#stat-cpu")).to_have_text(re.compile(r"^\d+% / 50%$"))
    expect(page.locator("#stat-pids")).to_have_text(re.compile(r"^\d+ / 64$"))


def test_an_exception_shows_stderr_apart_from_stdout(visit):
    page = visit()
    set_program(page, 'print("before the error")\nraise ValueError("boom")\n')
    page.click("#run")
    verdict_is(page, "error")
    expect(page.locator("#verdict-word")).to_have_text("ERROR (exit 1)")
    expect(page.locator("#verdict-reason")).to_have_text("Exited with status 1")
    # Each stream's chunks, in the order they came (the two may interleave either way).
    stdout, stderr = page.locator("#output .stdout"), page.locator("#output .stderr")
    assert "".join(stdout.all_text_contents()) == "before the error\n", page.inner_html("#output")
    assert "ValueError: boom" in "".join(stderr.all_text_contents()), page.inner_html("#output")
    color = "el => getComputedStyle(el).color"
    assert stdout.first.evaluate(color) != stderr.first.evaluate(color), "stderr must look different from stdout"


def test_stop_cancels_a_running_program_and_its_container_goes(visit, sandbox):
    page = visit()
    set_program(page, TICKS)
    page.fill("#timeout", "30")
    page.click("#run")
    # Output arrives while it runs, not at the end.
    expect(page.locator("#output")).to_contain_text("tick 2", timeout=RUN_S)
    verdict_is(page, "running", timeout=1000)
    container = page.locator("#verdict").get_attribute("data-container")
    assert container and not container_gone(sandbox, container)
    page.click("#stop")
    verdict_is(page, "cancelled", timeout=15_000)
    expect(page.locator("#verdict-word")).to_have_text("CANCELLED")
    expect(page.locator("#verdict-reason")).to_have_text("Stopped on request before it finished")
    assert wait_until(lambda: container_gone(sandbox, container), timeout=20), f"{container} outlived Stop"

    # esc stops too.
    page.click("#run")
    expect(page.locator("#output")).to_contain_text("tick 1", timeout=RUN_S)
    page.keyboard.press("Escape")
    verdict_is(page, "cancelled", timeout=15_000)
    expect(page.locator("#run")).to_be_enabled()


def test_a_queued_run_shows_its_place_in_line_then_runs(visit, server):
    """Both containers busy (users a and b) and c waiting first: the page's run is 2nd."""
    page = visit()
    sleeper = {"code": "import time; time.sleep(25)", "timeout": 30}
    streams, readers, ids = [], [], {}
    try:
        for user, until in (("a", "started"), ("b", "started"), ("c", "queued")):
            stream = server.client.stream("POST", "/runs", json=sleeper, headers={"X-Sandbox-User": user})
            response = stream.__enter__()
            streams.append(stream)
            assert response.status_code == 200
            ids[user] = response.headers["X-Run-Id"]
            # Kept: a reader let go closes its connection, and that cancels its run.
            readers.append(lines := (json.loads(line) for line in response.iter_lines() if line.strip()))
            while next(lines)["event"] != until:
                pass
        type_program(page, 'print("my turn")')
        page.click("#run")
        verdict_is(page, "queued")
        expect(page.locator("#verdict-word")).to_have_text("QUEUED")
        expect(page.locator("#verdict-reason")).to_have_text("queued: 2nd in line, 2/2 running")
        assert server.client.delete(f"/runs/{ids['c']}").status_code == 202
        expect(page.locator("#verdict-reason")).to_have_text("queued: 1st in line, 2/2 running")
        assert server.client.delete(f"/runs/{ids['a']}").status_code == 202
        verdict_is(page, "ok")
        expect(page.locator("#output")).to_have_text("my turn\n")
    finally:
        for user in ids:
            server.client.delete(f"/runs/{ids[user]}")
        for stream in streams:
            stream.__exit__(None, None, None)


def test_a_refusal_from_the_server_is_shown_as_a_message(visit):
    page = visit()
    type_program(page, "print(1)")
    page.fill("#memory", "4096")
    page.click("#run")
    verdict_is(page, "failed", timeout=10_000)
    expect(page.locator("#verdict-word")).to_have_text("REFUSED")
    message = page.locator("#message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("memory 4 GiB is over this server's ceiling of 1 GiB")
    expect(page.locator("#output")).to_have_text("")
    expect(page.locator("#run")).to_be_enabled()


def test_a_token_is_asked_for_only_when_the_server_wants_one(serve, visit):
    page = visit()
    expect(page.locator("#auth")).to_be_hidden()          # this server has no tokens

    guarded = serve("--token", "ada=s3cret-token")
    page = visit(guarded)
    expect(page.locator("#auth")).to_be_visible()
    type_program(page, 'print("with a token")')
    page.click("#run")
    expect(page.locator("#message")).to_contain_text("bearer token")
    page.fill("#token", "s3cret-token")
    page.press("#token", "Enter")                          # saved, and the run asked for goes
    verdict_is(page, "ok")
    expect(page.locator("#output")).to_have_text("with a token\n")
    expect(page.locator("#auth")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('tui-sandbox.token')") == "s3cret-token"
    assert [run["user"] for run in guarded.client.get(
        "/runs", headers={"Authorization": "Bearer s3cret-token"}).json()["runs"]] == ["ada"]


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_a_finished_run_fits_a_projector_screen(visit, scheme, tmp_path):
    """At 1280x800 the whole page is in view, the verdict is big, and the memory bomb's
    end reads at a glance. The picture is kept; the README's comes from here."""
    page = visit(color_scheme=scheme)
    bomb = page.locator('#example optgroup[label="python"] option', has_text="Memory bomb")
    page.select_option("#example", value=bomb.get_attribute("value"))
    page.click("#run")
    verdict_is(page, "oom")
    expect(page.locator("#verdict-word")).to_have_text("OOM")
    expect(page.locator("#verdict-reason")).to_have_text("Out of memory: killed at the 128 MiB limit")
    expect(page.locator("#verdict-figures")).to_contain_text("peak")
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight"), "the page scrolls at 1280x800"
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#verdict-word')).fontSize)") >= 40
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#code')).fontSize)") >= 18
    picture = tmp_path / f"web-page-{scheme}.png"
    page.screenshot(path=str(picture))
    assert picture.read_bytes().startswith(b"\x89PNG")
    wanted = os.environ.get("TUI_SANDBOX_WEB_SCREENSHOT")
    if wanted and scheme == "dark":
        Path(wanted).write_bytes(picture.read_bytes())


def test_a_wall_shows_in_the_output_with_its_count(visit):
    """A program that forks past the PID limit (64 by default): the page shows the wall
    among the output, in its own style, with the exact count the program saw."""
    page = visit()
    set_program(page, "import os, time\nrefused = 0\nfor _ in range(90):\n    try:\n"
                      "        if os.fork() == 0:\n            time.sleep(2)\n            os._exit(0)\n"
                      "    except OSError:\n        refused += 1\nprint('refused', refused)\n")
    page.click("#run")
    verdict_is(page, "ok")
    wall = page.locator("#output .wall")
    expect(wall).to_have_count(1)
    refused = int(page.locator("#output").inner_text().split("refused ")[1].split()[0])
    expect(wall).to_have_text(f"▌ process  fork  blocked (EAGAIN): the PID limit of 64  ×{refused}\n")
