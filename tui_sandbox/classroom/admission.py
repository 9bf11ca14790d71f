"""Who may come into a class, on either front, and the sentence a student turned away sees.

The SSH front (ssh.py) and the browser front (web.py) admit students by the same rules and
say the same thing when they do not:

- the name: 1-32 letters, digits, '.', '_' or '-', starting with a letter or a digit, and
  not "teacher"; it is the student's user for the queue, the rate limits and the history
  (TUI_SANDBOX_USER);
- the class code, compared in constant time; a wrong one answered after a delay;
- attempts per address in a moving window (the `limits` library), each front counting its
  own (--ssh-attempts, --web-attempts);
- the class's one cap (roster.py), both fronts together; no one new once the front closes.

Admission comes in two steps, because neither front starts the app when the code is given:
signing in (`sign_in(name, code, peer)` for the browser's form; SSH asks the name before
the code, so it makes the same checks one at a time: `attempt`, `check_name`, `check_full`,
`check_code`), then `take_seat(...)` when the app is about to start: an Admitted (the seat,
the student's folder, the app's environment) or a Refusal. A front turns a Refusal into its
own protocol (an SSH disconnect, an HTTP status, a WebSocket close) by its `reason`; the
message is the same. `enter` and `leave` keep the front's running sessions, and give the
seat back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from .pty_session import child_environment
from .roster import ClassRoster, Front, Seat

log = logging.getLogger("tui_sandbox.classroom")

NAME_RULE = ("1-32 letters, digits, '.', '_' or '-', starting with a letter or a digit, and not "
             "'teacher'")
# The service's teacher (service/access.TEACHER) reads the whole class: no student takes
# that name, nor shares the teacher's runs in the history by it.
RESERVED_NAMES = ("teacher",)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}\Z")
WRONG_CODE_DELAY_S = 1.0
STUDENTS_DIR = "students"

WRONG_CODE = "wrong class code: ask the teacher for it"
NO_FOLDER = "the server cannot make your folder: tell the teacher"
SHUTTING_DOWN = "the class is over: the server is shutting down"
# Where the fronts' words differ: what one try is, and how a name is given over SSH.
_ATTEMPTS = {"ssh": "connection attempts", "web": "sign-in attempts"}
_NAME_HINT = {"ssh": " (ssh -p PORT NAME@HOST)", "web": ""}
_LOG_TAG = {"ssh": "", "web": " (web)"}

Reason = Literal["attempts", "name", "code", "full", "closing", "folder"]


def valid_student_name(name: str) -> bool:
    return bool(_NAME.match(name)) and name.lower() not in RESERVED_NAMES


def generate_class_code() -> str:
    """Ten characters no one misreads on a projector (no 0/o, 1/l/i), in three groups:
    about 50 bits, with the per-address limit and three tries a connection."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def student_folder(students_dir: Path, student: str) -> Path | None:
    """The student's own folder (made 0700), or None, logged, when it cannot be made. The app
    opens and saves files only inside it (TUI_SANDBOX_FILES_DIR), never the server's own
    (its host key, its ~/.ssh)."""
    folder = students_dir / student
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        log.error("no folder for %s at %s: %s", student, folder, exc)
        return None
    return folder


@dataclass(frozen=True)
class Refusal:
    """A student turned away: why (for the front's protocol) and the sentence they see."""
    reason: Reason
    message: str


@dataclass(frozen=True)
class Admitted:
    """All a front needs to start a student's app: a seat taken in the roster, the
    student's folder (the app's working directory) and the app's environment."""
    seat: Seat
    folder: Path
    env: dict[str, str]


@dataclass(eq=False)
class ClassSession:
    """One running session of a front, for tests and the log: its seat, its app (over SSH a
    StudentSession, in the browser a StudentApp; both have `pid`), the task serving it and,
    in the browser, its websocket."""
    seat: Seat
    app: Any
    task: asyncio.Task | None = None
    websocket: Any = None

    @property
    def student(self) -> str:
        return self.seat.student

    @property
    def pid(self) -> int | None:
        return self.app.pid


class Admission:
    """One front's door to the class: its code, its attempt limit, the class's roster;
    who is in through it now (`sessions`) and who has left (`ended`)."""

    def __init__(self, *, front: Front, class_code: str, roster: ClassRoster | None, max_sessions: int,
                 attempts_per_minute: int, students_dir: Path, app_env: Mapping[str, str]) -> None:
        """roster: the class's, when another front shares its cap; else one of max_sessions."""
        if not class_code:
            raise ValueError("the class code must not be empty")
        self.front = front
        self.class_code = class_code
        self.roster = roster if roster is not None else ClassRoster(max_sessions)
        self.students_dir = students_dir
        self.app_env = dict(app_env)
        self.closing = False
        self.sessions: dict[int, ClassSession] = {}
        self.ended: list[ClassSession] = []
        self._attempts = RateLimitItemPerMinute(attempts_per_minute) if attempts_per_minute > 0 else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._tag = _LOG_TAG[front]

    # --- signing in --------------------------------------------------------------------------

    def attempt(self, peer: str) -> Refusal | None:
        """Count a try from this address: the refusal past the limit."""
        if self._attempts is None or self._limiter.hit(self._attempts, peer):
            return None
        log.warning("too many %s from %s", _ATTEMPTS[self.front], peer)
        return Refusal("attempts", f"too many {_ATTEMPTS[self.front]} from {peer}: wait a minute and try again")

    def check_name(self, name: str) -> Refusal | None:
        if valid_student_name(name):
            return None
        return Refusal("name", f"{name[:40]!r} is not a student name here: use {NAME_RULE}{_NAME_HINT[self.front]}")

    def check_open(self) -> Refusal | None:
        return Refusal("closing", SHUTTING_DOWN) if self.closing else None

    def check_full(self) -> Refusal | None:
        return Refusal("full", self.roster.full_message()) if self.roster.full else None

    async def check_code(self, name: str, code: str, peer: str, tries: int | None = None) -> Refusal | None:
        """None for the class's code (and a student's name); else the refusal, after a delay
        that makes guessing slow. tries: this connection's count so far (SSH), for the log."""
        if valid_student_name(name) and secrets.compare_digest(
                code.encode("utf-8", "surrogateescape"), self.class_code.encode("utf-8", "surrogateescape")):
            return None
        log.info("wrong class code for %s from %s%s", name, peer, f" ({tries})" if tries else self._tag)
        await asyncio.sleep(WRONG_CODE_DELAY_S)
        return Refusal("code", WRONG_CODE)

    async def sign_in(self, name: str, code: str, peer: str) -> Refusal | None:
        """A name and a code, once the address's try is counted (`attempt`): None when the
        student is in, else the one refusal, in this order: the name, a closing front, the
        code, a full class (said now, rather than on a page that would only be closed)."""
        refusal = self.check_name(name) or self.check_open() or await self.check_code(name, code, peer)
        if refusal is None and (refusal := self.check_full()) is not None:
            log.info("refused %s from %s%s: the class is full", name, peer, self._tag)
        elif refusal is None:
            log.info("%s signed in from %s%s", name, peer, self._tag)
        return refusal

    # --- taking a seat -----------------------------------------------------------------------

    def take_seat(self, student: str, peer: str, term_type: str | None,
                  client_env: Mapping[str, str]) -> Admitted | Refusal:
        """When the student's app is about to start: a seat (given back by `leave`, however
        the session ends), the student's folder and the app's environment (a clean one,
        see pty_session.child_environment, plus app_env, TUI_SANDBOX_USER and
        TUI_SANDBOX_FILES_DIR); else the refusal. No await: two fronts never both get the
        last seat."""
        if refusal := self.check_open():
            return refusal
        folder = student_folder(self.students_dir, student)
        if folder is None:
            return Refusal("folder", NO_FOLDER)
        env = child_environment(term_type, client_env, {**self.app_env, "TUI_SANDBOX_USER": student,
                                                        "TUI_SANDBOX_FILES_DIR": str(folder.resolve())})
        seat = self.roster.take(student, self.front, peer)
        if seat is None:
            log.info("refused a session of %s from %s%s: the class is full", student, peer, self._tag)
            return Refusal("full", self.roster.full_message())
        return Admitted(seat, folder, env)

    def enter(self, seat: Seat, app: Any, websocket: Any = None) -> ClassSession:
        """The session's app has its seat: it is running, served by the current task."""
        session = ClassSession(seat, app, asyncio.current_task(), websocket)
        self.sessions[id(session)] = session
        return session

    def leave(self, session: ClassSession) -> None:
        """The session has ended, however it ended: its seat goes back to the class."""
        self.sessions.pop(id(session), None)
        self.roster.leave(session.seat)
        self.ended.append(session)

    def tasks(self) -> list[asyncio.Task]:
        """The tasks serving the sessions now (to wait for them when the front closes)."""
        return [session.task for session in list(self.sessions.values()) if session.task is not None]


class ClassFront:
    """What a front's server shows of its admission (for serve.py, GET /class and tests):
    the class code, the roster, the sessions running through it now, and those that have ended."""
    admission: Admission

    @property
    def class_code(self) -> str:
        return self.admission.class_code

    @property
    def roster(self) -> ClassRoster:
        return self.admission.roster

    @property
    def sessions(self) -> dict[int, ClassSession]:
        return self.admission.sessions

    @property
    def ended(self) -> list[ClassSession]:
        return self.admission.ended
