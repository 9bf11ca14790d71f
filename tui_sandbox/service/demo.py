"""The teacher's live demo, over HTTP: the teacher pushes a program to the class, every
student's app offers it, and the teacher can look at one student's attempt.

    POST /class/demo                     the teacher: {code, language, limits?, title?}
    GET  /class/demo                     anyone of the class: every push so far, oldest first
    PUT  /class/students/{user}/program  a student's app: what its editor holds now
    GET  /class/students/{user}          the teacher: that student's program and last result

A student's "current program" is the newer of what their app last reported (PUT, sent
when the editor changed) and the source of their last run; the last result is their
newest ended run. Pushes and reports are kept by the service's board (demo_board.py):
this server's memory, or with a broker (serve --broker) the broker, which every front of
the cluster shares.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, field_validator

from runner import LimitError, parse_limits

from .access import current_user, is_teacher, runs_are_private, service_of
from .classview import NotTheTeacher, refuse_unless_teacher
from .demo_board import DemoBoard, DemoPush, StudentProgram
from .errors import error_responses
from .models import ErrorBody, RunInfo, _encodable
from .views import live_info, record_info

# A program as large as the editor opens (source_file.MAX_EDIT_BYTES).
MAX_CODE_CHARS = 512 * 1024
LIMIT_NAMES = ("memory", "cpus", "pids", "timeout", "network", "read_only", "runtime")

router = APIRouter()


class ProgramBody(BaseModel):
    """What a student's editor holds now."""
    code: str = Field(max_length=MAX_CODE_CHARS)
    language: str = Field(min_length=1, max_length=64)

    @field_validator("code", "title", check_fields=False)
    @classmethod
    def _is_text(cls, text: str | None) -> str | None:
        return _encodable(text)


class DemoBody(ProgramBody):
    """A program the teacher shows the class."""
    code: str = Field(min_length=1, max_length=MAX_CODE_CHARS, description="The program's source.")
    language: str = Field("python", min_length=1, max_length=64, description="As POST /run takes it.")
    title: str | None = Field(None, max_length=80, description="What the students' banner calls it "
                              "(default: 'a <language> program').")
    limits: dict[str, Any] | None = Field(None, description="Its limits, by POST /run's names (memory, cpus, "
                                          "pids, timeout, network, read_only, runtime); left out, the defaults.")


class DemoList(BaseModel):
    pushes: list[DemoPush] = Field(description="Oldest first.")


class StudentPeek(BaseModel):
    """One student's attempt, for the teacher to show the class."""
    user: str
    program: StudentProgram | None = Field(description="None before they typed or ran anything.")
    last: RunInfo | None = Field(description="Their newest ended run, in full; None before their first.")


def board_of(request: Request) -> DemoBoard:
    return service_of(request).demo


# With a broker the board is the broker's (demo_board.py): it may be away for a while.
BOARD_AWAY = {503: {**error_responses(503)[503],
                    "description": "The cluster's broker, which keeps the demo, does not answer: see Retry-After."}}
TEACHER_ONLY = {**error_responses(400, 401, 413, 422), **BOARD_AWAY,
                403: {"model": ErrorBody, "description": "The token is not the teacher's."}}


@router.post("/class/demo", response_model=DemoPush, status_code=201, responses=TEACHER_ONLY,
             summary="The teacher shows the class a program",
             description="Every student's app offers it (a banner, and F9 loads it, asking first when the editor "
             "has unsaved changes) and lists it with the experiments (F4) for the rest of the session. Only the "
             "teacher's token may push (as for GET /class).")
async def push_demo(body: DemoBody, request: Request, user: str = Depends(current_user)) -> DemoPush:
    if not is_teacher(request):
        raise refuse_unless_teacher()
    service = service_of(request)
    language = service.sandbox.language(body.language).name     # an unknown one: 422
    limits = {name: value for name, value in (body.limits or {}).items() if value is not None}
    unknown = sorted(set(limits) - set(LIMIT_NAMES))
    if unknown:
        raise LimitError(f"limits: no limit named {', '.join(unknown)}", f"use {', '.join(LIMIT_NAMES)}")
    # As a run that names none of its limits would get them, and within the ceilings, so
    # the class is never offered a program the server would then refuse to run.
    checked = parse_limits(service.ceilings.default_limits(), **limits).validate()
    service.ceilings.check(checked)
    title = body.title or f"a {language} program"
    return await board_of(request).push(body.code, language, checked.to_dict(), title)


@router.get("/class/demo", response_model=DemoList, responses={**error_responses(401), **BOARD_AWAY},
            summary="What the teacher has pushed to the class")
async def demos(request: Request, user: str = Depends(current_user)) -> DemoList:
    return DemoList(pushes=await board_of(request).pushes())


def _refuse_unless_self(request: Request, student: str, user: str) -> None:
    if runs_are_private(request) and student != user:
        raise NotTheTeacher(f"{user} may report only their own program, not {student}'s",
                            f"PUT /class/students/{user}/program")


@router.put("/class/students/{student}/program", status_code=204, responses={
                **error_responses(400, 401, 413, 422), **BOARD_AWAY,
                403: {"model": ErrorBody, "description": "Not this student's own."}},
            summary="A student's app says what its editor holds now",
            description="The teacher's peek (GET /class/students/{user}) shows it when it is newer than their "
            "last run. With tokens, only as the student themself.")
async def report_program(student: str, body: ProgramBody, request: Request, user: str = Depends(current_user)):
    _refuse_unless_self(request, student, user)
    await board_of(request).report(student, body.code, body.language)


@router.get("/class/students/{student}", response_model=StudentPeek, responses=TEACHER_ONLY,
            summary="The teacher looks at one student's program and last result",
            description="Their current program (what their editor last reported, or their last run's source, "
            "whichever is newer) and their newest ended run. Only the teacher's token.")
async def peek(student: str, request: Request, user: str = Depends(current_user)) -> StudentPeek:
    if not is_teacher(request):
        raise refuse_unless_teacher()
    last = await _last_run(request, student)
    program = await board_of(request).program(student)
    if last is not None and (program is None or (last.finished_at or 0) > program.at):
        program = StudentProgram(code=last.source, language=last.language, at=last.finished_at or 0,
                                 came_from="run")
    return StudentPeek(user=student, program=program, last=last)


async def _last_run(request: Request, student: str) -> RunInfo | None:
    service = service_of(request)
    if service.history is not None:
        records = await asyncio.to_thread(service.history.list, user=student, limit=1)
        return record_info(records[0]) if records else None
    ended = [job for job in service.jobs.values() if job.done and job.request.user == student]
    return live_info(max(ended, key=lambda job: job.queued_at), service) if ended else None
