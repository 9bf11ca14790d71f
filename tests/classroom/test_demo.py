"""The teacher's demo in every student's app: a real `tui-sandbox serve --ssh --web` with the
teacher's token, two students over real SSH (asyncssh, a PTY, pyte) and one in a real headless
Chromium. The teacher pushes a program: every app shows the banner, F9 loads it (asking first
when the editor has unsaved changes, and keeping them on a no), F4 lists it; the teacher's
peek shows what a student's editor holds. The classroom's own token, naming a student or the
teacher, can neither push nor peek. Docker and Debian's chromium are required: without either
these tests fail, never skip."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pyte
from playwright.async_api import async_playwright

from .test_ssh import Student
from .test_web import apps_of, eventually, open_chromium, sign_in, start_server

F9 = b"\x1b[20~"
F4 = b"\x1bOS"
ESCAPE = b"\x1b"
TEACHER = {"Authorization": "Bearer T-1"}
PUSHED = "print('the teacher says hi')\n"
BANNER = "The teacher shared: Hello from the board — press F9 to load it"


class BrowserScreen:
    """What a tab's terminal shows, from the bytes its websocket brings (the page draws on a
    canvas: there is no text to read in the DOM)."""

    def __init__(self, page) -> None:
        self.screen = pyte.Screen(200, 60)
        self.stream = pyte.ByteStream(self.screen)
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if isinstance(payload, bytes):
            self.stream.feed(payload)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)


def peek(service: str, user: str, headers=TEACHER) -> httpx.Response:
    return httpx.get(f"{service}/class/students/{user}", headers=headers, timeout=10)


def classroom_token(student: str, server) -> str:
    """The token the server gave its class's apps (each app's TUI_SANDBOX_TOKEN)."""
    [pid, *_] = apps_of(student, server)
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if item.startswith(b"TUI_SANDBOX_TOKEN="):
            return item.split(b"=", 1)[1].decode()
    raise AssertionError("the app has no TUI_SANDBOX_TOKEN")


async def test_a_push_reaches_every_student_and_unsaved_work_is_kept(sandbox, tmp_path):
    served = start_server(tmp_path, "--ssh", "0", "--ssh-host", "127.0.0.1", "--token", "teacher=T-1")
    students: list[Student] = []
    try:
        ada = await Student.connect(served.ssh_port, "ada")
        bob = await Student.connect(served.ssh_port, "bob")
        students += [ada, bob]
        await asyncio.gather(ada.wait_for_app(), bob.wait_for_app())
        # ada has work of her own, not saved.
        await ada.type_slowly("print('my own work')")
        await ada.wait_for("my own work", "modified")

        async with async_playwright() as pw:
            browser = await open_chromium(pw)
            try:
                page = await browser.new_page(viewport={"width": 1000, "height": 640})
                dee = BrowserScreen(page)
                await sign_in(page, served.web, "dee")
                await page.wait_for_selector("body.-first-byte", timeout=20000)
                await eventually(lambda: "Limits" in dee.text, 60, "dee's app")

                # The classroom's token cannot push or peek, whichever student it names.
                token = classroom_token("ada", served.process)
                for name in ("ada", "teacher"):
                    as_app = {"Authorization": f"Bearer {token}", "X-Sandbox-User": name}
                    refused = httpx.post(f"{served.service}/class/demo", json={"code": "print(0)"}, headers=as_app)
                    assert refused.status_code == 403, refused.text
                    assert peek(served.service, "bob", as_app).status_code == 403
                # The teacher pushes.
                pushed = httpx.post(f"{served.service}/class/demo", headers=TEACHER, timeout=10,
                                    json={"code": PUSHED, "title": "Hello from the board", "limits": {"timeout": 4}})
                assert pushed.status_code == 201, pushed.text

                # Every student's app shows the banner.
                await asyncio.gather(ada.wait_for(BANNER, timeout=20), bob.wait_for(BANNER, timeout=20))
                await eventually(lambda: BANNER in dee.text, 20, "the banner in dee's tab")

                # bob has nothing unsaved: F9 loads it, its limits too.
                bob.type(F9)
                await bob.wait_for("the teacher says hi", "HELLO FROM THE BOARD")
                await bob.wait_for("Timeout")
                assert BANNER not in bob.text

                # ada is asked first, says no, and keeps her work.
                ada.type(F9)
                await ada.wait_for("Your changes are not saved. Replace them with the teac", "No (n)")
                ada.type(b"n")
                await ada.wait_for("my own work")
                await asyncio.sleep(1)
                assert "the teacher says hi" not in ada.text and "my own work" in ada.text
                # The push stays among her experiments (F4).
                ada.type(F4)
                await ada.wait_for("Shared by the teacher: Hello from the board (python)")
                ada.type(ESCAPE)
                await ada.wait_for(BANNER)

                # dee, in the browser: F9 loads it; her app tells the server, and the teacher's peek shows it.
                await page.click("#terminal")
                await page.keyboard.press("F9")
                await eventually(lambda: "the teacher says hi" in dee.text, 20, "the push in dee's editor")

                def dees_program():
                    program = peek(served.service, "dee").json()["program"]
                    return program if program and program["code"] == PUSHED else None
                program = await eventually(dees_program, 20, "dee's program in the teacher's peek")
                assert program["came_from"] == "editor" and program["language"] == "python"
                # And ada's, the work she kept.
                kept = peek(served.service, "ada").json()["program"]
                assert kept["code"].startswith("print('my own work')"), kept
                await page.close()
            finally:
                await browser.close()
    finally:
        for student in students:
            student.close()
        log = served.stop()
    assert "did not quit" not in log
