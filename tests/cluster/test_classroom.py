"""The classroom through a front with a broker: `serve --broker ... --ssh 0 --web 0` and
one worker, a student over real SSH (asyncssh, a PTY, pyte) and one in a real headless
Chromium. Each student's app is a client of the front; their runs go through the
broker's queue to the worker, and each gets their run's output and verdict."""

from __future__ import annotations

import asyncio

import httpx
from playwright.async_api import async_playwright

from tests.classroom.test_ssh import Student
from tests.classroom.test_web import eventually, open_chromium, sign_in, start_server


async def test_one_ssh_and_one_browser_student_through_a_front_with_a_broker(cluster, tmp_path):
    cluster.worker("w1", 2)
    served = start_server(tmp_path, "--broker", cluster.redis.url, "--ssh", "0", "--ssh-host", "127.0.0.1")
    students: list[Student] = []
    try:
        ada = await Student.connect(served.ssh_port, "ada")
        students.append(ada)
        await ada.wait_for_app()
        await ada.type_slowly("print('ada', 6 * 7)")
        await ada.wait_for("ada', 6 * 7)")
        ada.type(b"\x12")                                   # ctrl+r
        await ada.wait_for("ada 42", " OK ", timeout=60)

        async with async_playwright() as pw:
            browser = await open_chromium(pw)
            try:
                page = await browser.new_page(viewport={"width": 1000, "height": 640})
                await sign_in(page, served.web, "bob")
                await page.wait_for_selector("body.-first-byte", timeout=20000)
                await asyncio.sleep(1.5)                    # the app draws its first screen
                await page.click("#terminal")
                await page.keyboard.type("print('bob', 7 * 6)", delay=20)
                await asyncio.sleep(0.5)
                await page.keyboard.press("Control+r")

                def bobs_run():
                    runs = httpx.get(f"{served.service}/runs", params={"user": "bob"}).json()["runs"]
                    return [run for run in runs if run["verdict"]]
                bobs = await eventually(bobs_run, 60, "bob's run ended")
            finally:
                await browser.close()
        bob = httpx.get(f"{served.service}/runs/{bobs[0]['id']}").json()
        assert (bob["verdict"], bob["output"], bob["worker"]) == ("ok", "bob 42\n", "w1"), bob
        adas = httpx.get(f"{served.service}/runs", params={"user": "ada"}).json()["runs"]
        assert [run["verdict"] for run in adas] == ["ok"], adas
        ada_run = httpx.get(f"{served.service}/runs/{adas[0]['id']}").json()
        assert (ada_run["output"], ada_run["worker"]) == ("ada 42\n", "w1"), ada_run
    finally:
        for student in students:
            student.close()
        served.stop()
