"""The HTTP front: the seeds' `POST /run`, its streaming form `POST /runs`, the runs'
history, languages and health, over the service's core.

    app = create_app(SandboxService(...), tokens={"s3cret": "ada"})   # token -> user name
    uvicorn.run(app)      # or `tui-sandbox serve`, which also stops runs first on SIGTERM

Its lifespan starts and stops the service. The Piston endpoints (piston.py) and the web
page (web.py) are routers of their own on the same app, sharing its errors, its body
cap and its users (access.py).

Errors are one JSON shape everywhere, `{"error": ..., "fix": ...}`, FastAPI's own
validation errors, 404s and 405s included; under /api/v2/ (Piston's paths) they take
Piston's shape, `{"message": ...}`, instead. Every 429 and 503 carries Retry-After.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import math
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Iterable, Mapping

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runner import EngineUnavailable, Finished, ImageMissing, Output, Phase, Queued, SandboxError, Started, Stats
from runner.languages import ALIASES
from runner.units import format_size

from ..history.store import KEPT_OUTPUT_CHARS, RunRecord
from . import piston, web
from .access import current_user, is_teacher
from .classview import class_view, refuse_unless_teacher
from .core import Failed, Job, Refused, SandboxService, ServiceEvent
from .models import (
    ClassView,
    EngineHealth,
    ErrorBody,
    FailedEvent,
    FinishedEvent,
    Health,
    InputBody,
    LanguageOut,
    OutputEvent,
    PhaseEvent,
    QueuedEvent,
    QueueHealth,
    RunBody,
    RunInfo,
    RunList,
    RunResponse,
    RunSummary,
    StartedEvent,
    StatsEvent,
    StreamEvent,
)

log = logging.getLogger("tui_sandbox.service.http")

MAX_BODY_BYTES = 1024 * 1024
NDJSON = "application/x-ndjson"
PISTON_PREFIX = "/api/v2"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
EXAMPLE = '{"code": "print(2+2)"}'
# How long /health waits for the engine before it says it does not answer.
HEALTH_TIMEOUT_S = 5.0
# Retry-After when the refusal itself does not know better.
DEFAULT_RETRY_AFTER_S = 5

FIXES = {
    401: "send the header Authorization: Bearer TOKEN (the operator gives out the tokens)",
    404: "see /docs for the endpoints",
    405: "see /docs for the methods each endpoint takes",
}


# --- errors: one shape --------------------------------------------------------------

def error_response(path: str, status: int, message: str, fix: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error every 4xx and 5xx answers with (Piston's shape under its paths)."""
    headers = dict(headers or {})
    if status in (429, 503) and "Retry-After" not in headers:
        headers["Retry-After"] = str(DEFAULT_RETRY_AFTER_S)
    if path == PISTON_PREFIX or path.startswith(PISTON_PREFIX + "/"):
        return JSONResponse({"message": message, **({"fix": fix} if fix else {})}, status, headers)
    return JSONResponse(ErrorBody(error=message, fix=fix).model_dump(), status, headers)


def _retry_after(seconds: float | None) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds or DEFAULT_RETRY_AFTER_S)))}


def _describe(errors: Iterable[dict]) -> str:
    """FastAPI's validation errors as one sentence a person can act on."""
    sentences: list[str] = []
    by_field: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        kind, field = (loc[0] if loc else "body"), (loc[1] if len(loc) > 1 else "")
        where = field if kind == "body" else f"{kind} parameter {field}"
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        if not field:
            sentence = ("the body is missing" if error.get("type") == "missing"
                        else f"the body must be a JSON object, like {EXAMPLE}")
        elif error.get("type") == "missing":
            sentence = f"{where} is required"
        elif error.get("type") == "extra_forbidden":
            sentence = f"{where} is not a field of this request"
        elif message.startswith("is "):          # our own validators' words
            sentence = f"{where} {message}"
        else:                                   # a union's alternatives come one by one
            by_field.setdefault(where, [])
            if message not in by_field[where]:
                by_field[where].append(message)
            continue
        if sentence not in sentences:
            sentences.append(sentence)
    sentences += [f"{where}: {', or '.join(messages)}" for where, messages in by_field.items()]
    return "; ".join(sentences) or "the request is not valid"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(error.get("type") == "json_invalid" for error in errors):
            return error_response(request.url.path, 400, "the body is not valid JSON",
                                  f"send a JSON object, like {EXAMPLE}")
        return error_response(request.url.path, 422, _describe(errors), "see /docs for the fields and their types")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        fix = FIXES.get(exc.status_code) if exc.status_code == 401 else None
        if message == http.HTTPStatus(exc.status_code).phrase:      # Starlette's own: say more
            fix = FIXES.get(exc.status_code)
            if exc.status_code == 404:
                message = f"no such endpoint: {request.method} {request.url.path}"
            elif exc.status_code == 405:
                message = f"{request.method} is not allowed on {request.url.path}"
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        return error_response(request.url.path, exc.status_code, message, fix, headers)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        headers = _retry_after(exc.retry_after) if exc.status in (429, 503) or exc.retry_after else None
        return error_response(request.url.path, exc.status, exc.message, exc.fix, headers)

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        # The engine is missing or broken: the server's trouble. Anything else the engine
        # refuses (an unknown language, a bad limit) is the request's.
        if isinstance(exc, (EngineUnavailable, ImageMissing)):
            return error_response(request.url.path, 503, exc.message, exc.fix, _retry_after(None))
        return error_response(request.url.path, 422, exc.message, exc.fix)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(request.url.path, 500, "the server failed unexpectedly",
                              "try again; if it persists, the server's log says why")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path. (Starlette's Allow names only the
    first route's: GET and POST /runs are two routes.)"""
    return [method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                   for route in request.app.router.routes)]


def _errors(*statuses: int, media: str | None = None) -> dict:
    """OpenAPI entries for the error answers a route can give (always JSON, also where
    the route's own answer is not: give media then)."""
    said = {400: "The body is not JSON.", 401: "A bearer token is required (the server has tokens).",
            404: "No such run.", 409: "The run has already ended.", 413: "The body is over the size cap.",
            415: "The body is not sent as application/json.",
            422: "A field is missing, of the wrong type, malformed, or over a ceiling; an unknown language.",
            429: "Over the rate limit: see Retry-After.",
            503: "The queue (or this user's line in it) is full, the server is stopping, or the engine "
                 "is missing: see Retry-After."}
    entries: dict = {}
    for status in statuses:
        entries[status] = {"description": said[status]}
        if media is None:
            entries[status]["model"] = ErrorBody
        else:
            entries[status]["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        if status in (429, 503):
            entries[status]["headers"] = {"Retry-After": {"description": "Seconds to wait.",
                                                          "schema": {"type": "integer"}}}
    return entries


# --- middleware ---------------------------------------------------------------------

class BodyLimit:
    """Refuse a body over max_bytes with 413, whether its size is announced or not.
    The body is read here (it is small by then) and handed on whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = dict(scope.get("headers") or []).get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":      # gone before the body came: nobody to answer
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                first: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return first
            return await receive()       # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(scope.get("path", ""), 413,
                                  f"the body is over this server's cap of {format_size(self.max_bytes)}",
                                  "send a smaller program or input")
        await response(scope, receive, send)


class LoopbackHosts:
    """A server bound to loopback without tokens answers only to loopback names: a web
    page elsewhere cannot reach it through a name of its own that points here (DNS
    rebinding), so it cannot run code on this machine on its visitors' behalf."""

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app, self.names = app, {name.lower() for name in names}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
            name = host.rpartition("]")[0].lstrip("[") if host.startswith("[") else host.partition(":")[0]
            if host and name not in self.names:
                response = error_response(scope.get("path", ""), 400,
                                          f"this server answers only to {', '.join(sorted(self.names))}, "
                                          f"not {host!r}",
                                          "use http://127.0.0.1:PORT, or serve with --token to allow other names")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --- the routes ---------------------------------------------------------------------

router = APIRouter()


def _service(request: Request) -> SandboxService:
    return request.app.state.service


def _has_tokens(request: Request) -> bool:
    return bool(getattr(request.app.state, "tokens", None))


def require_json(request: Request) -> None:
    """The body must say it is JSON. Besides clarity, this keeps a web page elsewhere
    from posting a program here without the browser asking first (CORS preflight)."""
    content_type = request.headers.get("content-type", "")
    media = content_type.partition(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise HTTPException(415, f"the body must be JSON sent as Content-Type: application/json, not "
                                 f"{content_type or 'without a Content-Type'}")


class NDJSONResponse(StreamingResponse):
    media_type = NDJSON


RUN_DEPENDENCIES = [Depends(current_user), Depends(require_json)]


@router.post("/run", response_model=RunResponse, dependencies=RUN_DEPENDENCIES,
             responses=_errors(400, 401, 413, 415, 422, 429, 503), summary="Run a program and wait for its result",
             description="The seeds' API: `{\"code\": \"print(2+2)\"}` answers `{\"output\": \"4\\n\", "
             "\"error\": \"\", ...}` once the run has ended, however it ended (the verdict says how). "
             "Closing the connection first cancels the run.")
async def run(body: RunBody, request: Request, user: str = Depends(current_user)):
    service = _service(request)
    job = await service.submit(body.request(user, service.ceilings.default_limits()))
    if not await _wait_unless_gone(job, request, service):
        return Response(status_code=204)        # nobody is listening any more
    if job.failure is not None:
        return error_response(request.url.path, 503, job.failure.message, job.failure.fix, _retry_after(None))
    assert job.result is not None
    return RunResponse.of(job.id, job.result)


@router.post("/runs", response_class=NDJSONResponse, dependencies=RUN_DEPENDENCIES,
             response_description="One JSON event a line (each one of these), as they happen: queued (while it "
             "waits, with its place in line), started, phase, output, stats, then finished (or failed). Every "
             "event carries the run's id.",
             responses=_errors(400, 401, 413, 415, 422, 429, 503, media=NDJSON),
             summary="Run a program, streaming its events (newline-delimited JSON)",
             description="The same body as POST /run. Read it with `curl -N`. Closing the connection cancels "
             "the run and removes its container; so does DELETE /runs/{id}.")
async def stream(body: RunBody, request: Request, user: str = Depends(current_user)):
    service = _service(request)
    job = await service.submit(body.request(user, service.ceilings.default_limits()))
    return NDJSONResponse(_lines(job, service), headers={"Location": f"/runs/{job.id}", "X-Run-Id": job.id,
                                                         "Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/runs", response_model=RunList, responses=_errors(401, 422), summary="Recent runs, newest first",
            description="Runs waiting or running now, then the history. With tokens, only the caller's own "
            "(the teacher's token: everyone's).")
async def list_runs(request: Request, user: str = Depends(current_user),
                    of: str | None = Query(None, alias="user", description="Only this user's runs."),
                    verdict: str | None = Query(None, description="Only runs that ended so (ok, timeout, oom, ...)."),
                    limit: int = Query(50, ge=1, le=1000),
                    before: float | None = Query(None, description="Only runs that ended before this Unix time "
                                                 "(for the next page).")) -> RunList:
    service = _service(request)
    if _has_tokens(request) and not is_teacher(request):
        of = user
    live = [] if verdict is not None or before is not None else [
        _live_summary(job, service) for job in sorted(service.jobs.values(), key=lambda j: -j.queued_at)
        if not job.done and (of is None or job.request.user == of)]
    runs = live[:limit]
    if len(runs) < limit:
        if service.history is not None:
            records = await asyncio.to_thread(service.history.list, user=of, verdict=verdict,
                                              limit=limit - len(runs), before=before)
            # A run's row is written just before it is told finished: it may be in both.
            listed = {run.id for run in runs}
            runs += [_record_summary(record) for record in records if record.id not in listed]
        else:
            ended = [job for job in sorted(service.jobs.values(), key=lambda j: -j.queued_at) if job.done
                     and (of is None or job.request.user == of) and (verdict is None or _verdict(job) == verdict)]
            runs += [_live_summary(job, service) for job in ended][: limit - len(runs)]
    return RunList(runs=runs)


RUN_ID = Path(description="The id POST /run answered with (or the stream's events carry).", max_length=64)


@router.get("/runs/{run_id}", response_model=RunInfo, responses=_errors(401, 404, 422),
            summary="One run: live (queued, running) or from the history")
async def get_run(request: Request, run_id: str = RUN_ID, user: str = Depends(current_user)) -> RunInfo:
    info = await _find(request, run_id, user)
    if info is None:
        raise HTTPException(404, f"no run {run_id!r}")
    return info


@router.delete("/runs/{run_id}", response_model=RunInfo, status_code=202, responses=_errors(401, 404, 409, 422),
               summary="Cancel a run, waiting or running",
               description="Its container is killed and removed; its result says cancelled. With tokens, only "
               "its own user may cancel it, and the teacher (the token of the user named teacher) any run.")
async def cancel_run(request: Request, run_id: str = RUN_ID, user: str = Depends(current_user)) -> RunInfo:
    service = _service(request)
    job = service.get(run_id)
    if job is None or job.done or not _visible(request, job.request.user, user, teacher=True):
        info = await _find(request, run_id, user)
        if info is None:
            raise HTTPException(404, f"no run {run_id!r}")
        raise HTTPException(409, f"run {run_id} has already ended ({info.verdict})")
    service.cancel(job)
    return _live_info(job, service)


@router.post("/runs/{run_id}/input", status_code=204, dependencies=RUN_DEPENDENCIES,
             responses=_errors(400, 401, 404, 409, 413, 415, 422),
             summary="Type into an interactive run",
             description="The text goes to the program's standard input, in order, even while the run still "
             "waits in the queue; `eof` ends it. Only for a run asked for with `interactive: true`.")
async def send_input(body: InputBody, request: Request, run_id: str = RUN_ID,
                     user: str = Depends(current_user)) -> Response:
    service = _service(request)
    job = service.get(run_id)
    if job is None or not _visible(request, job.request.user, user):
        raise HTTPException(404, f"no run {run_id!r}")
    if job.done:
        raise HTTPException(409, f"run {run_id} has already ended")
    if not job.request.interactive:
        raise HTTPException(409, f"run {run_id} was not asked for as interactive: its input was given whole")
    if body.text:
        job.send_input(body.text)
    if body.eof:
        job.close_input()
    return Response(status_code=204)


@router.get("/languages", response_model=list[LanguageOut], responses=_errors(401),
            summary="The languages this server runs")
async def languages(request: Request, user: str = Depends(current_user)) -> list[LanguageOut]:
    table = _service(request).sandbox.languages
    return [LanguageOut(name=lang.name, aliases=sorted(a for a, n in ALIASES.items() if n == lang.name),
                        extensions=list(lang.extensions), compiled=bool(lang.compile))
            for lang in table.values()]


@router.get("/health", response_model=Health, responses={503: {"model": Health, "description": "Not ready: "
                                                               "no engine, an image missing, or stopping."}},
            summary="Engine reachable, images present, queue length (503 when not ready)")
async def health(request: Request):
    service = _service(request)
    try:
        engine, images = await asyncio.wait_for(asyncio.to_thread(_probe_engine, service), HEALTH_TIMEOUT_S)
    except TimeoutError:
        engine, images = EngineHealth(reachable=False, error=f"the engine did not answer within "
                                      f"{HEALTH_TIMEOUT_S:g} s"), {}
    ok = engine.reachable and all(images.values()) and not service.stopping
    report = Health(ok=ok, engine=engine, images=images, queue=QueueHealth(**service.status()),
                    stopping=service.stopping, ceilings=service.ceilings.as_dict(),
                    uptime_s=round(time.time() - service.started_at, 3))
    return JSONResponse(report.model_dump(), status_code=200 if ok else 503,
                        headers=None if ok else _retry_after(None))


@router.get("/class", response_model=ClassView,
            responses={**_errors(401, 422),
                       403: {"model": ErrorBody, "description": "The token is not the teacher's."}},
            summary="The class, live, for the teacher",
            description="Who is connected, over SSH (serve --ssh) or in a browser (serve --web), each with "
            "the front they use; who runs what (language, time, memory), who waits, each student's last verdict "
            "and counts, the queue, and the totals (runs, timeouts, OOM kills, by verdict). Ended runs count "
            "from `since`, by default this server's start. With tokens, only the token of the user named "
            "**teacher** may read it (that token may also cancel any run: DELETE /runs/{id}); without tokens "
            "the server answers on loopback alone, and anyone there may.")
async def the_class(request: Request, user: str = Depends(current_user),
                    since: float | None = Query(None, ge=0, description="Count ended runs from this Unix time "
                                                "(default: when this server started; 0: the whole history).")
                    ) -> ClassView:
    if not is_teacher(request):
        raise refuse_unless_teacher()
    state = request.app.state
    return await class_view(_service(request), getattr(state, "class_sessions", None), since,
                            fronts=getattr(state, "class_fronts", ()))


# --- the routes' parts ----------------------------------------------------------------

async def _wait_unless_gone(job: Job, request: Request, service: SandboxService) -> bool:
    """Wait for the job's end; if the client goes first, cancel the run and say False."""
    async def ended() -> None:
        async for _ in job.events():
            pass

    async def gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    waiters = [asyncio.ensure_future(ended()), asyncio.ensure_future(gone())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        service.cancel(job)            # the server gave up on this request: so does the run
        raise
    finally:
        for waiter in waiters:
            waiter.cancel()
    if job.done:
        return True
    service.cancel(job)
    return False


async def _lines(job: Job, service: SandboxService) -> AsyncIterator[bytes]:
    try:
        async for event in job.events():
            data = stream_event(job.id, event).model_dump(mode="json")
            # The kind and the id first, for whoever reads the lines by eye (curl -N).
            yield json.dumps({"event": data.pop("event"), "id": data.pop("id"), **data}).encode() + b"\n"
    finally:
        # The client went away (Starlette cancels this when it disconnects): so does the run.
        if not job.done:
            service.cancel(job)


def stream_event(job_id: str, event: ServiceEvent) -> StreamEvent:
    if isinstance(event, Queued):
        return QueuedEvent(id=job_id, position=event.position, running=event.running, cap=event.cap,
                           message=event.message)
    if isinstance(event, Started):
        return StartedEvent(id=job_id, container_id=event.container_id, language=event.language, runtime=event.runtime,
                            limits=event.limits.to_dict())
    if isinstance(event, Phase):
        return PhaseEvent(id=job_id, name=event.name)
    if isinstance(event, Output):
        return OutputEvent(id=job_id, stream=event.stream, text=event.text)
    if isinstance(event, Stats):
        return StatsEvent(id=job_id, elapsed_s=event.elapsed_s, cpu_percent=event.cpu_percent,
                          memory_bytes=event.memory_bytes, pids=event.pids,
                          reading_input=getattr(event, "reading_input", None))
    if isinstance(event, Finished):
        return FinishedEvent(id=job_id, **event.result.to_dict())
    if isinstance(event, Failed):
        return FailedEvent(id=job_id, error=event.message, fix=event.fix)
    raise TypeError(f"no stream event for {event!r}")


def _visible(request: Request, owner: str, user: str, teacher: bool = False) -> bool:
    """With tokens, a run is its user's alone (and, where teacher is True, the teacher's
    too: to read and to cancel, never to type into); without, users only name themselves
    (a header anyone may send), so every run is everyone's to see."""
    return not _has_tokens(request) or owner == user or (teacher and is_teacher(request))


async def _find(request: Request, run_id: str, user: str) -> RunInfo | None:
    service = _service(request)
    job = service.get(run_id)
    if job is not None and not job.done:
        return _live_info(job, service) if _visible(request, job.request.user, user, teacher=True) else None
    record = await asyncio.to_thread(service.history.get, run_id) if service.history is not None else None
    if record is not None:
        return _record_info(record) if _visible(request, record.user, user, teacher=True) else None
    if job is not None and _visible(request, job.request.user, user, teacher=True):
        return _live_info(job, service)
    return None


def _verdict(job: Job) -> str | None:
    if job.result is not None:
        return job.result.verdict.value
    return "engine_error" if job.failure is not None else None


def _position(job: Job, service: SandboxService) -> int | None:
    if job.state != "queued":
        return None
    for position, waiting in enumerate(service.queue.order(), start=1):
        if waiting is job:
            return position
    return None


def _live_summary(job: Job, service: SandboxService) -> RunSummary:
    return RunSummary(**_live_fields(job, service, summary=True))


def _live_info(job: Job, service: SandboxService) -> RunInfo:
    return RunInfo(**_live_fields(job, service, summary=False))


def _live_fields(job: Job, service: SandboxService, summary: bool) -> dict:
    request, result = job.request, job.result
    fields = dict(id=job.id, state=job.state, user=request.user, origin=request.origin,
                  language=result.language if result else service.sandbox.language(request.language).name,
                  verdict=_verdict(job), queued_at=job.queued_at, started_at=job.started_at,
                  kill_reason=result.kill_reason if result else (job.failure.message if job.failure else None),
                  exit_code=result.exit_code if result else None,
                  duration_s=result.duration_s if result else None,
                  peak_memory_bytes=result.peak_memory_bytes if result else None)
    if summary:
        return fields
    outputs = {"stdout": [], "stderr": []}
    for event in job.log:
        if isinstance(event, Output):
            outputs[event.stream].append(event.text)
    output, error = ("".join(outputs[name])[:KEPT_OUTPUT_CHARS] for name in ("stdout", "stderr"))
    return fields | dict(position=_position(job, service), source=request.source,
                         limits=request.limits.to_dict(), signal=result.signal if result else None,
                         output=result.output if result else output, error=result.error if result else error,
                         stdin=job.given_input[:KEPT_OUTPUT_CHARS],
                         truncated=result.truncated if result else False,
                         cpu_seconds=result.cpu_seconds if result else None, runtime=request.limits.runtime)


def _record_summary(record: RunRecord) -> RunSummary:
    return RunSummary(**_record_fields(record, summary=True))


def _record_info(record: RunRecord) -> RunInfo:
    return RunInfo(**_record_fields(record, summary=False))


def _record_fields(record: RunRecord, summary: bool) -> dict:
    state = "failed" if record.verdict == "engine_error" else "finished"
    fields = dict(id=record.id, state=state, user=record.user, origin=record.origin, language=record.language,
                  verdict=record.verdict, kill_reason=record.kill_reason, exit_code=record.exit_code,
                  duration_s=record.duration_s, peak_memory_bytes=record.peak_memory_bytes,
                  queued_at=record.queued_at, started_at=record.started_at, finished_at=record.finished_at)
    if summary:
        return fields
    return fields | dict(source=record.source, limits=record.limits, signal=record.signal, output=record.output,
                         error=record.error, stdin=record.stdin, truncated=record.truncated,
                         cpu_seconds=record.cpu_seconds, runtime=record.runtime)


def _probe_engine(service: SandboxService) -> tuple[EngineHealth, dict[str, bool]]:
    """Ask the engine now (not a cached answer): is it there, are the images built."""
    sandbox = service.sandbox
    try:
        backend, info = sandbox.backend, sandbox.info
        images: dict[str, bool] = {}
        api = getattr(backend, "api", None)
        if api is not None:                       # Docker: which runner images are built
            from runner.docker.images import list_images

            images = {status.language: status.present for status in list_images(api, sandbox.languages)}
        return EngineHealth(reachable=True, name=info.name, runtimes=sorted(info.runtimes)), images
    except SandboxError as exc:
        return EngineHealth(reachable=False, error=exc.message, fix=exc.fix), {}
    except Exception as exc:  # noqa: BLE001 - whatever the engine's client raises, it is not there
        return EngineHealth(reachable=False, error=f"the engine does not answer: {exc}",
                            fix="check that the Docker engine is running (tui-sandbox doctor)"), {}


# --- the app ------------------------------------------------------------------------

def _serve_the_docs(app: FastAPI) -> None:
    """/docs from Swagger UI's files shipped in a package (fastapi-offline's, Swagger UI 5,
    which reads OpenAPI 3.1), not from a CDN: classrooms and this project's machines are
    often offline, and FastAPI's default page is then blank."""
    from pathlib import Path as FilePath

    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    assets = FilePath(fastapi_offline.__file__).parent / "static"
    app.mount("/docs/assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="tui-sandbox API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/docs/assets/favicon.png")


def create_app(service: SandboxService, *, tokens: Mapping[str, str] | None = None,
               cors_origins: Iterable[str] = (), max_body_bytes: int = MAX_BODY_BYTES,
               allowed_hosts: Iterable[str] | None = None) -> FastAPI:
    """The service over HTTP. tokens maps each bearer token to its user's name; with
    none, users name themselves (X-Sandbox-User) or are their address. allowed_hosts,
    when given, are the only Host names answered (serve passes the loopback names for
    a loopback bind without tokens). CORS stays closed unless cors_origins names some."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(title="tui-sandbox", version=_version(), lifespan=lifespan, redoc_url=None, docs_url=None,
                  summary="Run untrusted code in fresh, hardened, disposable containers.",
                  description="Every run gets a fresh container with no network, a read-only root, a non-root "
                  "user and no capabilities, unless a request asks otherwise within this server's ceilings "
                  "(GET /health). Runs wait in a fair queue in front of a host-wide cap. Errors are "
                  "`{\"error\": ..., \"fix\": ...}`; 429 and 503 carry Retry-After.")
    app.state.service = service
    app.state.tokens = dict(tokens or {})
    _install_error_handlers(app)
    app.include_router(router)
    app.include_router(piston.router)
    app.include_router(web.router)
    _document_the_stream(app)
    _serve_the_docs(app)
    # Outermost last: CORS answers preflights, then the host check, then the body cap.
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if allowed_hosts:
        app.add_middleware(LoopbackHosts, names=allowed_hosts)
    origins = list(cors_origins)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-Sandbox-User"],
                           expose_headers=["Retry-After", "Location", "X-Run-Id"])
    return app


def _document_the_stream(app: FastAPI) -> None:
    """FastAPI documents a streaming answer as a string: say what each line of it is."""
    make_schema = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = make_schema()
            events = TypeAdapter(StreamEvent).json_schema(mode="serialization",
                                                        ref_template="#/components/schemas/{model}")
            schema.setdefault("components", {}).setdefault("schemas", {}).update(events.pop("$defs", {}))
            answer = schema["paths"]["/runs"]["post"]["responses"]["200"]
            answer["content"] = {NDJSON: {"schema": events}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tui-sandbox")
    except PackageNotFoundError:
        return "0"
