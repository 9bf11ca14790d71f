"""The runs over HTTP: the seeds' `POST /run`, its streaming form `POST /runs`, and the
runs read back, cancelled and typed into (`/runs/{id}`). Thin: the service's core
carries them out, views.py says how they look."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from .access import current_user, is_teacher, may_see, runs_are_private, service_of
from .errors import error_response, error_responses, retry_after
from .interface import Service
from .job import Job, ServiceEvent
from .models import NDJSON, InputBody, RunBody, RunInfo, RunList, RunResponse
from .views import live_info, live_summary, record_info, record_summary, stream_event, verdict_of

router = APIRouter()


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
RUN_ID = Path(description="The id POST /run answered with (or the stream's events carry).", max_length=64)


@router.post("/run", response_model=RunResponse, dependencies=RUN_DEPENDENCIES,
             responses=error_responses(400, 401, 413, 415, 422, 429, 503),
             summary="Run a program and wait for its result",
             description="The seeds' API: `{\"code\": \"print(2+2)\"}` answers `{\"output\": \"4\\n\", "
             "\"error\": \"\", ...}` once the run has ended, however it ended (the verdict says how). "
             "Closing the connection first cancels the run.")
async def run(body: RunBody, request: Request, user: str = Depends(current_user)):
    service = service_of(request)
    job = await service.submit(body.request(user, service.ceilings.default_limits()))
    if not await wait_unless_gone(job, request, service):
        return Response(status_code=204)        # nobody is listening any more
    if job.failure is not None:
        return error_response(request.url.path, 503, job.failure.message, job.failure.fix, retry_after(None))
    assert job.result is not None
    return RunResponse.of(job.id, job.result)


@router.post("/runs", response_class=NDJSONResponse, dependencies=RUN_DEPENDENCIES,
             response_description="One JSON event a line (each one of these), as they happen: queued (while it "
             "waits, with its place in line), started, phase, output, stats, then finished (or failed). Every "
             "event carries the run's id.",
             responses=error_responses(400, 401, 413, 415, 422, 429, 503, media=NDJSON),
             summary="Run a program, streaming its events (newline-delimited JSON)",
             description="The same body as POST /run. Read it with `curl -N`. Closing the connection cancels "
             "the run and removes its container; so does DELETE /runs/{id}.")
async def stream(body: RunBody, request: Request, user: str = Depends(current_user)):
    service = service_of(request)
    job = await service.submit(body.request(user, service.ceilings.default_limits()))
    # Its events from the first, taken now: a run that ends before the body is sent keeps
    # only its last event for watchers that come after.
    return NDJSONResponse(_lines(job, job.events(), service),
                          headers={"Location": f"/runs/{job.id}", "X-Run-Id": job.id, "Cache-Control": "no-store",
                                   "X-Accel-Buffering": "no"})


@router.get("/runs", response_model=RunList, responses=error_responses(401, 422, 503),
            summary="Recent runs, newest first",
            description="Runs waiting or running now, then the history. With tokens, only the caller's own "
            "(the teacher's token: everyone's).")
async def list_runs(request: Request, user: str = Depends(current_user),
                    of: str | None = Query(None, alias="user", description="Only this user's runs."),
                    verdict: str | None = Query(None, description="Only runs that ended so (ok, timeout, oom, ...)."),
                    limit: int = Query(50, ge=1, le=1000),
                    before: float | None = Query(None, description="Only runs that ended before this Unix time "
                                                 "(for the next page).")) -> RunList:
    service = service_of(request)
    if runs_are_private(request) and not is_teacher(request):
        of = user
    live = [] if verdict is not None or before is not None else [
        live_summary(job, service) for job in sorted(service.jobs.values(), key=lambda j: -j.queued_at)
        if not job.done and (of is None or job.request.user == of)]
    runs = live[:limit]
    if len(runs) < limit:
        if service.history is not None:
            records = await asyncio.to_thread(service.history.list, user=of, verdict=verdict,
                                              limit=limit - len(runs), before=before)
            # A run's row is written just before it is told finished: it may be in both.
            listed = {run.id for run in runs}
            runs += [record_summary(record) for record in records if record.id not in listed]
        else:
            ended = [job for job in sorted(service.jobs.values(), key=lambda j: -j.queued_at) if job.done
                     and (of is None or job.request.user == of) and (verdict is None or verdict_of(job) == verdict)]
            runs += [live_summary(job, service) for job in ended][: limit - len(runs)]
    return RunList(runs=runs)


@router.get("/runs/{run_id}", response_model=RunInfo, responses=error_responses(401, 404, 422, 503),
            summary="One run: live (queued, running) or from the history")
async def get_run(request: Request, run_id: str = RUN_ID, user: str = Depends(current_user)) -> RunInfo:
    info = await _find(request, run_id, user)
    if info is None:
        raise HTTPException(404, f"no run {run_id!r}")
    return info


@router.delete("/runs/{run_id}", response_model=RunInfo, status_code=202,
               responses=error_responses(401, 404, 409, 422), summary="Cancel a run, waiting or running",
               description="Its container is killed and removed; its result says cancelled. With tokens, only "
               "its own user may cancel it, and the teacher (the token of the user named teacher) any run.")
async def cancel_run(request: Request, run_id: str = RUN_ID, user: str = Depends(current_user)) -> RunInfo:
    service = service_of(request)
    job = service.get(run_id)
    if job is None or job.done or not may_see(request, job.request.user, user, teacher=True):
        info = await _find(request, run_id, user)
        if info is None:
            raise HTTPException(404, f"no run {run_id!r}")
        raise HTTPException(409, f"run {run_id} has already ended ({info.verdict})")
    service.cancel(job)
    return live_info(job, service)


@router.post("/runs/{run_id}/input", status_code=204, dependencies=RUN_DEPENDENCIES,
             responses=error_responses(400, 401, 404, 409, 413, 415, 422),
             summary="Type into an interactive run",
             description="The text goes to the program's standard input, in order, even while the run still "
             "waits in the queue; `eof` ends it. Only for a run asked for with `interactive: true`.")
async def send_input(body: InputBody, request: Request, run_id: str = RUN_ID,
                     user: str = Depends(current_user)) -> Response:
    service = service_of(request)
    job = service.get(run_id)
    if job is None or not may_see(request, job.request.user, user):
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


async def wait_unless_gone(job: Job, request: Request, service: Service) -> bool:
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


async def _lines(job: Job, events: AsyncIterator[ServiceEvent], service: Service) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            yield json.dumps(stream_event(job.id, event)).encode() + b"\n"
    finally:
        # The client went away (Starlette cancels this when it disconnects): so does the run.
        if not job.done:
            service.cancel(job)


async def _find(request: Request, run_id: str, user: str) -> RunInfo | None:
    service = service_of(request)
    job = service.get(run_id)
    if job is not None and not job.done:
        return live_info(job, service) if may_see(request, job.request.user, user, teacher=True) else None
    record = await asyncio.to_thread(service.history.get, run_id) if service.history is not None else None
    if record is not None:
        return record_info(record) if may_see(request, record.user, user, teacher=True) else None
    if job is not None and may_see(request, job.request.user, user, teacher=True):
        return live_info(job, service)
    return None
