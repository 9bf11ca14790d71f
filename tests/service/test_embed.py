"""Our embed (/embed.js) as a learning site uses it: on a page of another origin in headless
Chromium, marked blocks become runners that stream output, take typed input, stop, and show
the verdict and the walls; and the server's own /examples page of the seeds' experiments."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import Server, assert_nothing_left
from .test_codapi import site  # noqa: F401 - the fixture: a site's own origin, serving its pages
from .test_web_page import browser  # noqa: F401 - the fixture: Debian's chromium, headless

RUN_MS = 30_000

LESSON = """<!doctype html>
<html><head><meta charset="utf-8"><title>A lesson</title></head><body>
<h1>Input</h1>
<pre data-tui-sandbox="python" id="ask">name = input("Name? ")
print("Hello,", name)</pre>
<h1>The network</h1>
<pre data-tui-sandbox="python" data-timeout="5">import socket
socket.create_connection(("example.com", 80), timeout=2)</pre>
<h1>Forever</h1>
<pre data-tui-sandbox="bash">while true; do echo tick; sleep 0.2; done</pre>
<script src="{url}/embed.js" defer></script>
</body></html>
"""


@pytest.fixture(scope="module")
def server(sandbox, site, tmp_path_factory):  # noqa: F811
    one = Server(tmp_path_factory.mktemp("embed"), "--max-running", "3", "--cors-origin", site.origin)
    yield one
    one.stop()
    assert_nothing_left(sandbox, one)


@pytest.fixture
def lesson(server, site, browser):  # noqa: F811
    (site.folder / "lesson.html").write_text(LESSON.replace("{url}", server.url), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site.origin}/lesson.html")
    expect(page.locator(".tsb")).to_have_count(3)
    yield page
    context.close()
    assert not errors, errors


def test_a_runner_streams_output_and_takes_what_is_typed(lesson):
    ask = lesson.locator(".tsb").nth(0)
    expect(ask.locator(".tsb-code")).to_have_value('name = input("Name? ")\nprint("Hello,", name)\n')
    ask.locator(".tsb-run").click()
    expect(ask.locator(".tsb-out")).to_contain_text("Name?", timeout=RUN_MS)
    ask.locator(".tsb-input input").fill("Ada")
    ask.locator(".tsb-input input").press("Enter")
    expect(ask.locator(".tsb-out")).to_contain_text("Hello, Ada", timeout=RUN_MS)
    expect(ask.locator(".tsb-verdict")).to_contain_text("OK: Finished normally", timeout=RUN_MS)


def test_an_edit_runs_as_edited_and_the_walls_show(lesson):
    net = lesson.locator(".tsb").nth(1)
    net.locator(".tsb-run").click()
    expect(net.locator(".tsb-wall").first).to_contain_text("network  dns  example.com  blocked (EAI_AGAIN): "
                                                          "the network is off", timeout=RUN_MS)
    expect(net.locator(".tsb-verdict")).to_contain_text("ERROR", timeout=RUN_MS)
    net.locator(".tsb-code").fill("print('edited')\n")
    net.locator(".tsb-code").press("Control+Enter")
    expect(net.locator(".tsb-out")).to_have_text("edited\n", timeout=RUN_MS)


def test_stop_ends_a_run_that_would_go_on(lesson, server):
    forever = lesson.locator(".tsb").nth(2)
    forever.locator(".tsb-run").click()
    expect(forever.locator(".tsb-out")).to_contain_text("tick", timeout=RUN_MS)
    forever.locator(".tsb-stop").click()
    expect(forever.locator(".tsb-verdict")).to_contain_text("CANCELLED", timeout=RUN_MS)
    runs = server.client.get("/runs", params={"limit": 10}).json()["runs"]
    assert any(run["verdict"] == "cancelled" and run["language"] == "bash" for run in runs), runs


def test_output_is_shown_as_text_never_as_html(lesson):
    ask = lesson.locator(".tsb").nth(0)
    ask.locator(".tsb-code").fill("print('<img src=x onerror=alert(1)><b>bold</b>')\n")
    ask.locator(".tsb-run").click()
    expect(ask.locator(".tsb-out")).to_contain_text("<b>bold</b>", timeout=RUN_MS)
    assert ask.locator(".tsb-out img, .tsb-out b").count() == 0


def test_the_servers_own_page_of_examples(server, browser):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    try:
        page.goto(f"{server.url}/examples")
        expect(page.locator(".tsb")).to_have_count(6)
        hello = page.locator(".tsb").first
        hello.locator(".tsb-run").click()
        expect(hello.locator(".tsb-verdict")).to_contain_text("OK", timeout=RUN_MS)
        bomb = page.locator(".tsb[data-language=python]").nth(3)
        bomb.locator(".tsb-run").click()
        expect(bomb.locator(".tsb-wall").first).to_contain_text("process  fork", timeout=RUN_MS)
    finally:
        context.close()
    assert not violations, violations
