"""One class, two ways in: `tui-sandbox serve --ssh --web --max-sessions 1` in a process of its
own, a student over real SSH (asyncssh, a PTY) and one in a real headless Chromium. The cap is
the class's, not each front's: whoever comes second, by either front, is told the class is
full (in the browser when signing in, or in a tab already signed in), and gets in once the
first has gone. Docker and Debian's chromium are required: without
either these tests fail, never skip."""

from __future__ import annotations

import asyncssh
import httpx
import pytest
from playwright.async_api import async_playwright

from .test_ssh import Student
from .test_web import eventually, open_chromium, sign_in, start_server

FULL = "the class is full (1 student): try again later"


def connected(service: str) -> list[tuple[str, str]]:
    """(student, front) of each session in the class, as the teacher's GET /class has them."""
    answer = httpx.get(f"{service}/class", timeout=10)
    assert answer.status_code == 200, answer.text
    return [(entry["user"], entry["front"]) for entry in answer.json()["connected"]]


async def test_max_sessions_caps_the_class_over_ssh_and_in_the_browser_together(sandbox, tmp_path):
    served = start_server(tmp_path, "--ssh", "0", "--ssh-host", "127.0.0.1", "--max-sessions", "1")
    students: list[Student] = []
    try:
        assert "at most 1 student at once, over SSH and in the browser together" in served.announced
        # ada takes the only seat, over SSH.
        ada = await Student.connect(served.ssh_port, "ada")
        students.append(ada)
        await ada.wait_for_app()
        assert connected(served.service) == [("ada", "ssh")]

        async with async_playwright() as pw:
            browser = await open_chromium(pw)
            try:
                # bob, in a browser, is told the class is full when he signs in.
                tabs = await browser.new_context(viewport={"width": 1000, "height": 640})   # one person's
                page = await tabs.new_page()
                await sign_in(page, served.web, "bob")
                await page.wait_for_selector(f"text={FULL}", timeout=20000)
                assert connected(served.service) == [("ada", "ssh")]

                # ada's connection drops: her seat is free, and bob gets in.
                ada.close()
                await eventually(lambda: connected(served.service) == [], 20, "ada to leave the class")
                await sign_in(page, served.web, "bob")
                await page.wait_for_selector("body.-first-byte", timeout=20000)
                await eventually(lambda: connected(served.service) == [("bob", "web")], 20, "bob in the class")

                # Now the class is full for SSH: cyd is refused before the class code, with the same words.
                with pytest.raises(asyncssh.DisconnectError) as refused:
                    await Student.connect(served.ssh_port, "cyd")
                assert FULL in refused.value.reason

                # A second tab of bob's (signed in already) is told too, in place of "Session ended.".
                second = await tabs.new_page()
                await second.goto(served.web)
                await second.wait_for_selector("body.-closed", timeout=20000)
                assert (await second.inner_text(".closed-dialog .message")).strip() == FULL
                assert await second.is_visible(".closed-dialog .message")
                await second.close()

                # bob closes his tab: his seat is free, and cyd gets in over SSH.
                await page.close()
                await eventually(lambda: connected(served.service) == [], 30, "bob to leave the class")
            finally:
                await browser.close()
        cyd = await Student.connect(served.ssh_port, "cyd")
        students.append(cyd)
        await cyd.wait_for_app()
        assert connected(served.service) == [("cyd", "ssh")]
    finally:
        for student in students:
            student.close()
        log = served.stop()
    assert "did not quit" not in log
