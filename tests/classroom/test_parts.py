"""The classroom's small parts, without SSH or Docker: names, the child's environment,
the class code, the flags."""

from __future__ import annotations

import argparse
import re
import time

import pytest

from tui_sandbox.classroom.admission import generate_class_code, valid_student_name
from tui_sandbox.classroom.options import add_ssh_flags, class_options_from_args
from tui_sandbox.classroom.pty_session import child_environment, term_name
from tui_sandbox.classroom.roster import ClassRoster


@pytest.mark.parametrize("name", ["ada", "Ada.Lovelace", "bob_2", "c-3po", "x", "a" * 32, "7of9"])
def test_student_names(name):
    assert valid_student_name(name)


@pytest.mark.parametrize("name", ["", "a" * 33, "..", ".hidden", "-rf", "_x", "a b", "a/b", "ünï", "root\n",
                                  "a;b", "$(id)", "teacher", "Teacher"])
def test_not_student_names(name):
    assert not valid_student_name(name)


def test_the_child_environment_is_clean():
    server = {"PATH": "/usr/bin", "HOME": "/root", "DOCKER_HOST": "unix:///x.sock", "LD_PRELOAD": "/evil.so",
              "COLUMNS": "80", "LINES": "24", "TUI_SANDBOX_SECCOMP": "docker-default", "TUI_SANDBOX_USER": "teacher",
              "TUI_SANDBOX_CLASS_CODE": "the-code",
              "SSH_AUTH_SOCK": "/tmp/agent", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    client = {"LD_PRELOAD": "/evil.so", "PYTHONSTARTUP": "/evil.py", "COLORTERM": "truecolor", "COLUMNS": "10"}
    env = child_environment("xterm-kitty", client, {"TUI_SANDBOX_USER": "ada"}, base=server)
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "DOCKER_HOST": "unix:///x.sock",
                   "TUI_SANDBOX_SECCOMP": "docker-default", "LANG": "C.UTF-8", "TERM": "xterm-kitty",
                   "COLORTERM": "truecolor", "TUI_SANDBOX_USER": "ada"}
    plain = child_environment(None, {"COLORTERM": "yes please"}, {}, base={})
    assert plain == {"LANG": "C.UTF-8", "TERM": "xterm-256color"}
    assert child_environment("dumb", {"NO_COLOR": ""}, {}, base={})["NO_COLOR"] == "1"


@pytest.mark.parametrize("term, expected", [("xterm-256color", "xterm-256color"), ("screen.xterm-256color",
                         "screen.xterm-256color"), ("", "xterm-256color"), (None, "xterm-256color"),
                         ("xterm;rm -rf", "xterm-256color"), ("../../etc/x", "xterm-256color")])
def test_term_names(term, expected):
    assert term_name(term) == expected


def test_generated_class_codes():
    codes = {generate_class_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(re.fullmatch(r"[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{2}", code) for code in codes)


def test_the_flags():
    parser = argparse.ArgumentParser()
    add_ssh_flags(parser)
    assert class_options_from_args(parser.parse_args([])) is None
    options = class_options_from_args(parser.parse_args(["--ssh", "2222", "--class-code", "abc", "--max-sessions",
                                                         "12", "--idle-timeout", "0"]),
                                      server_url="http://127.0.0.1:8000", app_args=["--timeout", "5"])
    assert (options.port, options.class_code, options.max_sessions, options.idle_timeout_s) == (2222, "abc", 12, None)
    assert options.app_env == {"TUI_SANDBOX_SERVER": "http://127.0.0.1:8000"}
    assert options.app_command[1:] == ["-m", "tui_sandbox", "--timeout", "5"]
    with pytest.raises(ValueError):
        class_options_from_args(parser.parse_args(["--ssh", "2222", "--max-sessions", "0"]))


def test_one_roster_caps_the_class_whatever_the_front():
    roster = ClassRoster(2)
    ada = roster.take("ada", "ssh", "10.0.0.1")
    bob = roster.take("bob", "web", "10.0.0.2")
    assert ada and bob and roster.full and roster.count == 2
    assert roster.take("cyd", "ssh", "10.0.0.3") is None and roster.take("cyd", "web", "10.0.0.3") is None
    assert roster.full_message() == "the class is full (2 students): try again later"
    assert [(seat.student, seat.front, seat.peer) for seat in roster.seated()] == [
        ("ada", "ssh", "10.0.0.1"), ("bob", "web", "10.0.0.2")]
    assert abs(ada.since - time.time()) < 5
    roster.leave(ada)
    roster.leave(ada)                      # twice: harmless, bob keeps his seat
    assert roster.count == 1 and not roster.full
    assert roster.take("cyd", "web", "10.0.0.3").front == "web"
    assert ClassRoster(1).full_message() == "the class is full (1 student): try again later"
    with pytest.raises(ValueError):
        ClassRoster(0)
