"""The classroom's admission, without SSH, a browser or Docker: who may sign in, the one
refusal a student turned away sees (the same on both fronts), and the seat a session takes."""

from __future__ import annotations

import asyncio
import stat
import time

import pytest

from tui_sandbox.classroom import admission as admission_module
from tui_sandbox.classroom.admission import (
    NAME_RULE,
    NO_FOLDER,
    SHUTTING_DOWN,
    WRONG_CODE,
    Admission,
    Admitted,
    Refusal,
)
from tui_sandbox.classroom.roster import ClassRoster

CODE = "abcd-efgh-jk"


def door(tmp_path, front="ssh", *, roster=None, attempts=60, app_env=None) -> Admission:
    return Admission(front=front, class_code=CODE, roster=roster, max_sessions=30, attempts_per_minute=attempts,
                     students_dir=tmp_path / "students", app_env=app_env or {})


@pytest.fixture(autouse=True)
def no_delay(monkeypatch):
    monkeypatch.setattr(admission_module, "WRONG_CODE_DELAY_S", 0.0)


def test_a_class_needs_a_code(tmp_path):
    with pytest.raises(ValueError):
        Admission(front="web", class_code="", roster=ClassRoster(1), max_sessions=1, attempts_per_minute=0,
                  students_dir=tmp_path, app_env={})


async def test_a_student_with_the_code_signs_in_on_either_front(tmp_path):
    for front in ("ssh", "web"):
        assert await door(tmp_path, front).sign_in("ada", CODE, "10.0.0.1") is None
        assert await door(tmp_path, front).check_code("ada", CODE, "10.0.0.1") is None


@pytest.mark.parametrize("name", ["", "teacher", "Teacher", "-rf", "a" * 33, "a b", "$(id)"])
async def test_a_name_that_is_not_a_students_is_refused_with_the_rule(tmp_path, name):
    web = await door(tmp_path, "web").sign_in(name, CODE, "10.0.0.1")
    assert web == Refusal("name", f"{name[:40]!r} is not a student name here: use {NAME_RULE}")
    # Over SSH the name is the user: the sentence says where it goes.
    ssh = door(tmp_path, "ssh").check_name(name)
    assert ssh == Refusal("name", f"{web.message} (ssh -p PORT NAME@HOST)")
    # The right code with a wrong name is not a sign-in either.
    assert await door(tmp_path).check_code(name, CODE, "10.0.0.1") == Refusal("code", WRONG_CODE)


@pytest.mark.parametrize("code", ["", "ABCD-EFGH-JK", CODE + " ", "abcd-efgh-j", "\udcff"])
async def test_a_wrong_code_is_refused_after_the_delay(tmp_path, monkeypatch, code):
    monkeypatch.setattr(admission_module, "WRONG_CODE_DELAY_S", 0.2)
    for front in ("ssh", "web"):
        started = time.monotonic()
        assert await door(tmp_path, front).sign_in("ada", code, "10.0.0.1") == \
            Refusal("code", "wrong class code: ask the teacher for it")
        assert time.monotonic() - started >= 0.2


async def test_a_closing_front_takes_no_one_and_says_why(tmp_path):
    front = door(tmp_path, "web")
    front.closing = True
    assert await front.sign_in("ada", CODE, "10.0.0.1") == Refusal("closing", SHUTTING_DOWN)
    assert front.check_open() == Refusal("closing", "the class is over: the server is shutting down")
    assert front.take_seat("ada", "10.0.0.1", None, {}) == Refusal("closing", SHUTTING_DOWN)
    # The name is still said first; a wrong code is not even tried.
    assert (await front.sign_in("teacher", "nope", "10.0.0.1")).reason == "name"
    assert await front.sign_in("ada", "nope", "10.0.0.1") == Refusal("closing", SHUTTING_DOWN)


async def test_a_full_class_is_said_at_sign_in_but_only_to_who_has_the_code(tmp_path):
    roster = ClassRoster(1)
    roster.take("bob", "ssh", "10.0.0.2")
    web = door(tmp_path, "web", roster=roster)
    full = Refusal("full", "the class is full (1 student): try again later")
    assert await web.sign_in("ada", CODE, "10.0.0.1") == full
    assert (await web.sign_in("ada", "nope", "10.0.0.1")).reason == "code"
    assert door(tmp_path, "ssh", roster=roster).check_full() == full


def test_attempts_per_address_are_counted_by_each_front_in_its_words(tmp_path):
    ssh, web = door(tmp_path, "ssh", attempts=2), door(tmp_path, "web", attempts=2)
    for front in (ssh, web):
        assert front.attempt("10.0.0.1") is None and front.attempt("10.0.0.1") is None
        assert front.attempt("10.0.0.2") is None               # another address: its own count
    assert ssh.attempt("10.0.0.1") == Refusal(
        "attempts", "too many connection attempts from 10.0.0.1: wait a minute and try again")
    assert web.attempt("10.0.0.1") == Refusal(
        "attempts", "too many sign-in attempts from 10.0.0.1: wait a minute and try again")
    unlimited = door(tmp_path, "web", attempts=0)
    assert all(unlimited.attempt("10.0.0.1") is None for _ in range(100))


def test_a_seat_comes_with_the_students_folder_and_environment(tmp_path):
    front = door(tmp_path, "ssh", app_env={"TUI_SANDBOX_SERVER": "http://127.0.0.1:8000",
                                           "TUI_SANDBOX_USER": "someone-else"})
    admitted = front.take_seat("ada", "10.0.0.1", "xterm-kitty", {"COLORTERM": "truecolor", "LD_PRELOAD": "x"})
    assert isinstance(admitted, Admitted)
    assert (admitted.seat.student, admitted.seat.front, admitted.seat.peer) == ("ada", "ssh", "10.0.0.1")
    assert admitted.folder == tmp_path / "students" / "ada"
    assert stat.S_IMODE(admitted.folder.stat().st_mode) == 0o700
    env = admitted.env
    assert env["TUI_SANDBOX_USER"] == "ada" and env["TUI_SANDBOX_FILES_DIR"] == str(admitted.folder.resolve())
    assert env["TUI_SANDBOX_SERVER"] == "http://127.0.0.1:8000"
    assert env["TERM"] == "xterm-kitty" and env["COLORTERM"] == "truecolor" and "LD_PRELOAD" not in env
    assert front.roster.seated() == [admitted.seat]


async def test_one_cap_for_both_fronts_and_leaving_gives_the_seat_back(tmp_path):
    roster = ClassRoster(1)
    ssh, web = door(tmp_path, "ssh", roster=roster), door(tmp_path, "web", roster=roster)
    admitted = ssh.take_seat("ada", "10.0.0.1", "xterm", {})
    assert isinstance(admitted, Admitted)
    assert web.take_seat("bob", "10.0.0.2", "xterm-256color", {}) == \
        Refusal("full", "the class is full (1 student): try again later")
    session = ssh.enter(admitted.seat, app=None)
    assert list(ssh.sessions.values()) == [session] and session.student == "ada"
    ssh.leave(session)
    assert ssh.sessions == {} and ssh.ended == [session] and roster.count == 0
    assert isinstance(web.take_seat("bob", "10.0.0.2", "xterm-256color", {}), Admitted)


def test_a_folder_that_cannot_be_made_is_said(tmp_path):
    (tmp_path / "students").write_text("not a folder")
    front = door(tmp_path, "web")
    assert front.take_seat("ada", "10.0.0.1", None, {}) == Refusal("folder", NO_FOLDER)
    assert front.roster.count == 0                             # no seat kept for an app that never starts


async def test_a_session_is_served_by_the_task_that_entered_it(tmp_path):
    front = door(tmp_path, "web")

    async def serve():
        admitted = front.take_seat("ada", "10.0.0.1", None, {})
        return front.enter(admitted.seat, app=None, websocket="ws")

    task = asyncio.ensure_future(serve())
    session = await task
    assert session.task is task and session.websocket == "ws" and front.tasks() == [task]
