"""The teacher's demo in a cluster: two fronts on one redis-server, the teacher pushing
through one, students on the other. Over HTTP with the clients the apps use (the
teacher's AsyncClassClient, the student's RemoteSandbox), and in a student's app over
real SSH (asyncssh, a PTY, pyte) on the other front: the push reaches the students of
every front, those who come after it too, and the teacher's peek crosses fronts. With
Redis stopped the demo's endpoints answer 503 naming it, never 500."""

from __future__ import annotations

import asyncio

import pytest

from runner import SandboxError
from tests.classroom.test_ssh import Student
from tests.classroom.test_web import start_server
from tui_sandbox.remote import RemoteSandbox
from tui_sandbox.teacher.client import AsyncClassClient, ClassError

TOKENS = ("--token", "teacher=T-1", "--token", "ada=A-1", "--token", "bob=B-1")
TEACHER = {"Authorization": "Bearer T-1"}
PUSHED = "print('from the board')\n"
BANNER = "The teacher shared: Hello from the board — press F9 to load it"


def url_of(client) -> str:
    return str(client.base_url).rstrip("/")


async def test_a_push_through_one_front_reaches_every_front_and_redis_away_is_a_503(cluster):
    _a, front_a = cluster.front(None, *TOKENS)
    _b, front_b = cluster.front(None, *TOKENS)
    teacher = AsyncClassClient(url_of(front_a), token="T-1")
    ada = RemoteSandbox(url_of(front_b), user="ada", token="A-1")
    try:
        assert ada.demos() == []
        first = await teacher.push(PUSHED, "py", title="Hello from the board", limits={"timeout": 4})
        assert (first["id"], first["language"], first["limits"]["timeout_s"]) == (1, "python", 4)
        # ada, already asking front B, gets it; bob, asking B for the first time after it, too.
        assert ada.demos() == [first]
        bob = RemoteSandbox(url_of(front_b), user="bob", token="B-1")
        assert bob.demos() == [first]
        # A push through B: one class, one count, oldest first, whichever front is asked.
        second = await AsyncClassClient(url_of(front_b), token="T-1").push("echo hi", "bash")
        assert second["id"] == 2
        assert [p["id"] for p in ada.demos()] == [p["id"] for p in RemoteSandbox(
            url_of(front_a), user="bob", token="B-1").demos()] == [1, 2]
        # What ada's app reports to B is what the teacher's peek at A shows.
        ada.report_program("print('mine')", "python")
        peek = await teacher.peek("ada")
        assert (peek["program"]["code"], peek["program"]["came_from"]) == ("print('mine')", "editor")

        cluster.redis.stop()
        for client, method, path, body in ((front_a, "POST", "/class/demo", {"code": "print(3)"}),
                                           (front_b, "GET", "/class/demo", None),
                                           (front_b, "PUT", "/class/students/teacher/program",
                                            {"code": "x", "language": "python"}),
                                           (front_a, "GET", "/class/students/ada", None)):
            answer = client.request(method, path, json=body, headers=TEACHER)
            assert answer.status_code == 503, (path, answer.text)
            said = answer.json()
            assert set(said) == {"error", "fix"} and "Redis" in said["error"], said
            assert cluster.redis.url.split("//")[1] in said["error"] and said["fix"], said
            assert int(answer.headers["Retry-After"]) > 0
        # The student's app hears the server's words, and asks again at its next tick.
        with pytest.raises(SandboxError, match="Redis"):
            ada.demos()
        with pytest.raises(ClassError, match="Redis"):
            await teacher.push(PUSHED, "python")
    finally:
        ada.close()
        await teacher.aclose()


async def test_a_students_app_on_another_front_shows_the_push(cluster, tmp_path):
    cluster.worker("w1", 1)
    _a, front_a = cluster.front(None, "--token", "teacher=T-1")
    served = start_server(tmp_path, "--broker", cluster.redis.url, "--ssh", "0", "--ssh-host", "127.0.0.1",
                          "--token", "teacher=T-1")
    students: list[Student] = []
    teacher = AsyncClassClient(url_of(front_a), token="T-1")
    try:
        ada = await Student.connect(served.ssh_port, "ada")
        students.append(ada)
        await ada.wait_for_app()
        await asyncio.sleep(2.5)                 # her app has asked for the pushes: there were none
        assert "The teacher shared" not in ada.text
        await teacher.push(PUSHED, "python", title="Hello from the board", limits={"timeout": 4})
        await ada.wait_for(BANNER, timeout=20)
        # bob comes after the push: his app offers it at once.
        bob = await Student.connect(served.ssh_port, "bob")
        students.append(bob)
        await bob.wait_for_app()
        await bob.wait_for(BANNER, timeout=20)
        # ada loads it (F9); her app tells front B, and the teacher's peek at front A shows it.
        ada.type(b"\x1b[20~")
        await ada.wait_for("from the board", "HELLO FROM THE BOARD")

        async def adas_program() -> dict | None:
            program = (await teacher.peek("ada"))["program"]
            return program if program and program["code"] == PUSHED else None
        for _ in range(80):
            if program := await adas_program():
                break
            await asyncio.sleep(0.25)
        assert program and program["came_from"] == "editor", program
    finally:
        for student in students:
            student.close()
        await teacher.aclose()
        served.stop()
