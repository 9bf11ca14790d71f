"""Who is in the class now, over either front, and one cap for all of them.

`serve --ssh P --web Q --max-sessions N` holds at most N students in all, not N per front:
both fronts take a seat from the same ClassRoster before a student's app starts, and give
it back when the session ends, however it ends (the app quits or dies, the tab closes, the
connection drops, the idle timeout, the server stopping). server.py makes one roster for
both fronts; a front started alone (`python -m tui_sandbox.classroom`) makes its own.

The roster is also what GET /class lists as connected: who, over which front, from where,
since when. Light on purpose (no asyncssh, no aiohttp): it is only a list and a count, kept
on the event loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from .options import wall_time

Front = Literal["ssh", "web"]


@dataclass(eq=False)
class Seat:
    """One student's session in the class: the one place a session is counted."""
    student: str
    front: Front
    peer: str                                       # the address they connect from
    started: float = field(default_factory=time.monotonic)

    @property
    def since(self) -> float:
        """Unix time the session began."""
        return wall_time(self.started)


class ClassRoster:
    def __init__(self, max_sessions: int) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.max_sessions = max_sessions
        self._seats: list[Seat] = []

    # A count, not __len__: an empty roster must not read as false (`roster or ClassRoster(...)`).
    @property
    def count(self) -> int:
        return len(self._seats)

    @property
    def full(self) -> bool:
        return self.count >= self.max_sessions

    @property
    def capacity(self) -> str:
        """'1 student', '30 students'."""
        return f"{self.max_sessions} student{'' if self.max_sessions == 1 else 's'}"

    def full_message(self) -> str:
        """What a student turned away hears, the same on either front."""
        return f"the class is full ({self.capacity}): try again later"

    def take(self, student: str, front: Front, peer: str) -> Seat | None:
        """A seat for a session that is about to start, or None when the class is full.
        No await between the check and the taking: two fronts never both get the last one."""
        if self.full:
            return None
        seat = Seat(student, front, peer)
        self._seats.append(seat)
        return seat

    def leave(self, seat: Seat) -> None:
        """The session has ended. Leaving twice is harmless."""
        if seat in self._seats:
            self._seats.remove(seat)

    def seated(self) -> list[Seat]:
        """Every session now, in the order they began (for GET /class)."""
        return list(self._seats)
