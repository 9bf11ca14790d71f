"""The teacher's demo over HTTP, against the real server (`tui-sandbox serve` in a process
of its own): the teacher pushes a program and every caller reads it, a student reports
their editor's program, the teacher peeks at a student's program and last run; a student
can neither push nor peek. The teacher's Textual view pushes with `p` and peeks with
`enter`, driven with Pilot. Docker must be running: without it these tests fail, never skip."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Input, TextArea

from tui_sandbox.service.models import RunInfo
from tui_sandbox.teacher.app import ClassApp
from tui_sandbox.teacher.peek import PeekScreen
from tui_sandbox.teacher.push import PushScreen

from .test_teacher import bearer, wait_for

TOKENS = ("--token", "teacher=T-1", "--token", "ada=A-1", "--token", "bob=B-1")


def test_the_teacher_pushes_students_read_and_only_the_teacher_pushes_or_peeks(serve, sandbox):
    server = serve(*TOKENS)
    client = server.client
    program = {"code": "print('from the board')", "language": "py", "title": "Hello, class",
               "limits": {"memory": "64m", "timeout": 3, "network": False}}
    # Without a token: 401; a student's token: 403, in the server's words.
    assert client.post("/class/demo", json=program).status_code == 401
    for token in ("A-1", "B-1"):
        refused = client.post("/class/demo", json=program, headers=bearer(token))
        assert refused.status_code == 403 and "teacher" in refused.json()["error"], refused.text
        assert client.get("/class/students/ada", headers=bearer(token)).status_code == 403
    assert client.get("/class/demo", headers=bearer("A-1")).json() == {"pushes": []}

    pushed = client.post("/class/demo", json=program, headers=bearer("T-1"))
    assert pushed.status_code == 201, pushed.text
    push = pushed.json()
    assert (push["id"], push["title"], push["language"], push["code"]) == (1, "Hello, class", "python",
                                                                            program["code"])
    assert push["limits"]["memory_bytes"] == 64 << 20 and push["limits"]["timeout_s"] == 3
    assert push["limits"]["pids"] == 64          # what it left out: the defaults
    second = client.post("/class/demo", json={"code": "echo hi", "language": "bash"}, headers=bearer("T-1")).json()
    assert (second["id"], second["title"]) == (2, "a bash program")
    # Every student reads every push, oldest first.
    for token in ("A-1", "B-1", "T-1"):
        answer = client.get("/class/demo", headers=bearer(token))
        assert [p["id"] for p in answer.json()["pushes"]] == [1, 2], answer.text
    # What is wrong with a push is a 422, never stored.
    for bad in ({"code": "x", "language": "cobol"}, {"code": "x", "limits": {"memory": "lots"}},
                {"code": "x", "limits": {"swap": "1g"}}, {"code": ""},
                {"code": "x", "limits": {"memory": "8g"}}):         # over the server's ceiling
        refused = client.post("/class/demo", json=bad, headers=bearer("T-1"))
        assert refused.status_code == 422 and refused.json()["error"], (bad, refused.text)
    assert len(client.get("/class/demo", headers=bearer("A-1")).json()["pushes"]) == 2

    # Before ada does anything, the teacher's peek has nothing to show.
    empty = client.get("/class/students/ada", headers=bearer("T-1")).json()
    assert empty == {"user": "ada", "program": None, "last": None}
    # ada runs a program: her program is that run's source, her last result that run.
    ran = server.run({"code": "print(6 * 7)\nraise SystemExit(3)"}, headers=bearer("A-1"))
    peek = client.get("/class/students/ada", headers=bearer("T-1")).json()
    RunInfo.model_validate(peek["last"])
    assert peek["program"]["code"] == "print(6 * 7)\nraise SystemExit(3)" and peek["program"]["came_from"] == "run"
    assert (peek["last"]["id"], peek["last"]["verdict"], peek["last"]["exit_code"]) == (ran["id"], "error", 3)
    assert peek["last"]["output"] == "42\n" and peek["last"]["kill_reason"]
    # Her app reports what she types next: the peek shows it, her last run stays.
    typed = {"code": "print('not run yet')", "language": "python"}
    assert client.put("/class/students/ada/program", json=typed, headers=bearer("A-1")).status_code == 204
    peek = client.get("/class/students/ada", headers=bearer("T-1")).json()
    assert peek["program"]["code"] == typed["code"] and peek["program"]["came_from"] == "editor"
    assert peek["last"]["id"] == ran["id"]
    # bob may not report a program as ada's.
    assert client.put("/class/students/ada/program", json=typed, headers=bearer("B-1")).status_code == 403
    # All of it is in the OpenAPI schema.
    paths = client.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/class/demo"]) and "get" in paths["/class/students/{student}"]
    assert "put" in paths["/class/students/{student}/program"]


async def wait_until_screen(pilot, app, kind, timeout: float = 20):
    await wait_for(pilot, lambda: isinstance(app.screen, kind), timeout)
    await pilot.pause(0.1)          # its widgets composed
    return app.screen


async def test_the_teachers_view_pushes_with_p_and_peeks_with_enter(serve, sandbox, tmp_path):
    server = serve(*TOKENS)
    await asyncio.to_thread(server.run, {"code": "import sys\nprint('so far')\nsys.exit(7)"}, headers=bearer("B-1"))
    demo = tmp_path / "loop.js"
    demo.write_text("while (true) {}\n")

    app = ClassApp(server.url, token="T-1", poll_s=0.3)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_for(pilot, lambda: "bob" in app.students)
        # p: a path (its extension says the language), a title and a timeout, then enter.
        await pilot.press("p")
        push = await wait_until_screen(pilot, app, PushScreen)
        push.query_one("#push-path", Input).value = str(demo)
        push.query_one("#push-title", Input).value = "A loop for ever"
        push.query_one("#push-timeout", Input).value = "2"
        await pilot.pause(0.1)
        assert "javascript" in str(push.query_one("#push-language").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PushScreen))
        await wait_for(pilot, lambda: any("Shared" in n.message for n in app._notifications))
        [shared] = (await asyncio.to_thread(server.client.get, "/class/demo", headers=bearer("A-1"))).json()["pushes"]
        assert (shared["title"], shared["language"], shared["code"]) == ("A loop for ever", "javascript",
                                                                          "while (true) {}\n")
        assert shared["limits"]["timeout_s"] == 2
        # A path that is not there: said on the screen, nothing pushed.
        await pilot.press("p")
        push = await wait_until_screen(pilot, app, PushScreen)
        push.query_one("#push-path", Input).value = str(tmp_path / "missing.py")
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, PushScreen) and "missing.py" in str(push.query_one("#push-problem").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PushScreen))

        # enter on bob's row: his program and his last result, read only; escape goes back.
        table = app.query_one(DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("bob"))
        await pilot.press("enter")
        peek = await wait_until_screen(pilot, app, PeekScreen)
        await wait_for(pilot, lambda: peek.query_one("#peek-program", TextArea).text != "")
        code = peek.query_one("#peek-program", TextArea)
        assert code.text == "import sys\nprint('so far')\nsys.exit(7)" and code.read_only
        assert code.language == "python"
        verdict = str(peek.query_one("#peek-verdict").render())
        assert "ERROR" in verdict and "Exited with status 7" in str(peek.query_one("#peek-reason").render())
        assert "so far" in str(peek.query_one("#peek-output").render())
        await pilot.press("t")          # the projector theme, on the peek too
        assert app.theme == "projector"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PeekScreen))
        assert len(await asyncio.to_thread(lambda: server.client.get(
            "/class/demo", headers=bearer("T-1")).json()["pushes"])) == 1


async def test_a_students_token_in_the_teachers_view_cannot_push_or_peek(serve, sandbox, tmp_path):
    server = serve(*TOKENS)
    demo = tmp_path / "hello.py"
    demo.write_text("print(1)\n")
    app = ClassApp(server.url, token="A-1", poll_s=0.3)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("p")
        push = await wait_until_screen(pilot, app, PushScreen)
        push.query_one("#push-path", Input).value = str(demo)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "only the teacher" in str(push.query_one("#push-problem").render()))
        await pilot.press("escape")
        # Peeking at ada (from the API's side: her token has no class to pick her from).
        app.push_screen(PeekScreen(app.client, "ada"))
        peek = await wait_until_screen(pilot, app, PeekScreen)
        await wait_for(pilot, lambda: "only the teacher" in str(peek.query_one("#peek-title").render()))
        assert peek.peek is None
    assert (await asyncio.to_thread(server.client.get, "/class/demo", headers=bearer("A-1"))).json()["pushes"] == []
