"""Where the teacher's demo is kept: the pushes so far and what each student's editor
last held. One small protocol, two stores: this server's memory (MemoryDemoBoard, one
host), or the cluster's broker (cluster.demo_board.RedisDemoBoard), so that a push taken
by any front reaches the students of every front. The service holds its board
(`service.demo`); the HTTP routes (demo.py) never know which it is.
"""

from __future__ import annotations

import itertools
import time
from typing import Protocol

from pydantic import BaseModel, Field

# More would be a flood in every student's experiments list; the oldest go first.
MAX_PUSHES = 50


class DemoPush(BaseModel):
    """One push, as every student's app gets it."""
    id: int = Field(description="Counts up from 1 for the class: an app asks for what came after.")
    title: str
    code: str
    language: str
    limits: dict = Field(description="Every limit, as GET /runs/{id}'s `limits`.")
    pushed_at: float = Field(description="Unix time.")


class StudentProgram(BaseModel):
    code: str
    language: str
    at: float = Field(description="Unix time it was reported, or its run ended.")
    came_from: str = Field(description="'editor': their app reported it; 'run': the source of their last run.")


class DemoBoard(Protocol):
    """The class's pushes and its students' reported programs. A store that cannot be
    reached raises a Refused with status 503 that names it."""

    async def push(self, code: str, language: str, limits: dict, title: str) -> DemoPush: ...

    async def pushes(self) -> list[DemoPush]:
        """The last MAX_PUSHES, oldest first."""
        ...

    async def report(self, user: str, code: str, language: str) -> None: ...

    async def program(self, user: str) -> StudentProgram | None:
        """What user's editor last reported, if anything."""
        ...


class MemoryDemoBoard:
    """A DemoBoard in this server's memory, for its life (on the event loop only)."""

    def __init__(self) -> None:
        self._pushes: list[DemoPush] = []
        self._programs: dict[str, StudentProgram] = {}
        self._ids = itertools.count(1)

    async def push(self, code: str, language: str, limits: dict, title: str) -> DemoPush:
        pushed = DemoPush(id=next(self._ids), title=title, code=code, language=language, limits=limits,
                          pushed_at=time.time())
        self._pushes = [*self._pushes, pushed][-MAX_PUSHES:]
        return pushed

    async def pushes(self) -> list[DemoPush]:
        return self._pushes

    async def report(self, user: str, code: str, language: str) -> None:
        self._programs[user] = reported(code, language)

    async def program(self, user: str) -> StudentProgram | None:
        return self._programs.get(user)


def reported(code: str, language: str) -> StudentProgram:
    """What a student's app reports, as the board keeps it."""
    return StudentProgram(code=code, language=language, at=time.time(), came_from="editor")
