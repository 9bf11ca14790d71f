"""codapi's API (POST /v1/exec, HEAD /v1/health) as its clients use it: over real HTTP,
and with codapi's own widget (codapi-js 0.19.10, unmodified, tests/fixtures/codapi-js) in
headless Chromium on a page of another origin, which the server lets in with --cors-origin."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import Server, assert_nothing_left
from .test_web_page import browser  # noqa: F401 - the fixture: Debian's chromium, headless

WIDGET = Path(__file__).resolve().parents[1] / "fixtures" / "codapi-js"
EXEC = "/v1/exec"


def execute(server: Server, code: str, sandbox: str = "python", **fields):
    return server.client.post(EXEC, json={"sandbox": sandbox, "version": "", "command": "run",
                                          "files": {"": code}, **fields})


@pytest.fixture(scope="module")
def site():
    """A learning site's origin: a static server of its own on 127.0.0.1 (another port is
    another origin), serving the page and the widget's files; stopped at the end."""
    folder = Path(__import__("tempfile").mkdtemp(prefix="tui-sandbox-site-"))
    for name in ("snippet.js", "snippet.css"):
        (folder / name).write_bytes((WIDGET / name).read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=static.serve_forever, daemon=True)
    thread.start()
    static.folder = folder
    static.origin = f"http://127.0.0.1:{static.server_address[1]}"
    yield static
    static.shutdown()
    static.server_close()


@pytest.fixture(scope="module")
def server(sandbox, site, tmp_path_factory):
    one = Server(tmp_path_factory.mktemp("codapi"), "--max-running", "2", "--max-timeout", "2",
                 "--cors-origin", site.origin)
    yield one
    one.stop()
    assert_nothing_left(sandbox, one)


def test_a_run_answers_in_codapis_shape_and_is_kept_in_the_history(server):
    answer = execute(server, "import sys\nprint('hello')\nprint('note', file=sys.stderr)")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body) == ["id", "ok", "duration", "stdout", "stderr"]
    assert (body["ok"], body["stdout"], body["stderr"]) == (True, "hello\n", "note\n")
    assert isinstance(body["duration"], int) and 0 <= body["duration"] < 10_000
    kept = server.client.get(f"/runs/{body['id']}").json()
    assert kept["origin"] == "codapi" and kept["output"] == "hello\n", kept


@pytest.mark.parametrize("name, code, said", [
    ("javascript", "console.log(6 * 7)", "42\n"), ("sh", "echo $((6 * 7))", "42\n"),
    ("c", '#include <stdio.h>\nint main(void) { printf("%d\\n", 6 * 7); return 0; }', "42\n")])
def test_each_language_under_codapis_names(server, name, code, said):
    body = execute(server, code, name).json()
    assert (body["ok"], body["stdout"]) == (True, said), body


def test_a_run_that_ends_badly_is_ok_false_with_all_it_said_and_why(server):
    failed = execute(server, "print('partial')\nraise SystemExit(3)").json()
    assert failed["ok"] is False and failed["stdout"] == ""
    assert failed["stderr"] == "partial\n(Exited with status 3)", failed
    slow = execute(server, "while True: pass").json()      # the server's ceiling: 2 s
    assert slow["ok"] is False and "Timed out after 2 s" in slow["stderr"], slow
    big = execute(server, "x = bytearray(10**9)").json()
    assert big["ok"] is False and "Out of memory" in big["stderr"], big


@pytest.mark.parametrize("body, status, stderr", [
    ({"sandbox": "cobol", "command": "run", "files": {"": "x"}}, 404, "unknown sandbox"),
    ({"sandbox": "python", "command": "test", "files": {"": "x"}}, 404, "unknown command"),
    ({"sandbox": "python", "command": "run", "files": {"": "  \n"}}, 400, "empty request"),
    ({"sandbox": "python", "command": "run", "files": {"": "x", "lib.py": "y"}}, 400, "one file only"),
    ({"sandbox": "python", "command": "run"}, 400, "bad request: files"),
])
def test_refusals_take_codapis_statuses_and_body(server, body, status, stderr):
    answer = server.client.post(EXEC, json=body)
    assert answer.status_code == status, answer.text
    refusal = answer.json()
    assert refusal["ok"] is False and refusal["id"] == "-" and refusal["stderr"].startswith(stderr), refusal


def test_a_body_that_is_not_json_or_too_large_is_refused_the_same_way(server):
    broken = server.client.post(EXEC, content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["ok"] is False
    huge = execute(server, "#" * (2 * 1024 * 1024))
    assert huge.status_code == 413 and huge.json()["ok"] is False, huge.text


def test_health_answers_head_and_get(server):
    assert server.client.head("/v1/health").status_code == 200
    assert server.client.get("/v1/health").json() == {"ok": True}


def test_a_page_of_the_allowed_origin_may_call_it_and_another_may_not(server, site):
    allowed = {"Origin": site.origin, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    preflight = server.client.options(EXEC, headers=allowed)
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == site.origin
    head = server.client.head("/v1/health", headers={"Origin": site.origin})
    assert head.headers.get("access-control-allow-origin") == site.origin
    stranger = server.client.options(EXEC, headers={**allowed, "Origin": "http://elsewhere.example"})
    assert "access-control-allow-origin" not in stranger.headers


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="snippet.css"></head>
<body>
<codapi-settings url="{url}/v1"></codapi-settings>
<pre><code>print("hello from the widget", 6 * 7)</code></pre>
<codapi-snippet sandbox="python" editor="basic"></codapi-snippet>
<script src="snippet.js"></script>
</body></html>
"""


def test_codapis_own_widget_runs_code_from_another_origin(server, site, browser):  # noqa: F811
    (site.folder / "lesson.html").write_text(PAGE.format(url=server.url), encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{site.origin}/lesson.html")
        page.locator("codapi-toolbar button", has_text="Run").click()
        expect(page.locator("codapi-output")).to_contain_text("hello from the widget 42", timeout=30_000)
        expect(page.locator("codapi-status")).to_contain_text("Done")
    finally:
        context.close()
    assert not errors, errors
    runs = server.client.get("/runs", params={"limit": 5}).json()["runs"]
    assert any(run["origin"] == "codapi" and run["verdict"] == "ok" for run in runs), runs
