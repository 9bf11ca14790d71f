"""Piston's two endpoints, under both prefixes, with and without a trailing slash: each
reads the request, asks the service, and answers; every failure is answered by the one
mapping in errors.py. Only /api/v2's own paths are in the OpenAPI schema."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..access import current_user
from ..interface import Service
from ..job import Job
from ..requests import RunRequest
from .answer import piston_answer
from .catalog import catalog_for
from .errors import PistonError, answers_in_pistons_shape
from .models import ERRORS, EXECUTE_BODY, PistonResult, PistonRuntime
from .request import parse, read_json

router = APIRouter(tags=["piston"])

PREFIXES = ("/api/v2", "/api/v2/piston")


@answers_in_pistons_shape
async def runtimes(request: Request) -> JSONResponse:
    current_user(request)
    service = _service(request)
    catalog = catalog_for(request, service)
    listed = await catalog.runtimes()
    return JSONResponse([{"language": name, "version": version, "aliases": list(catalog.language(name).aliases)}
                         for name, version in listed])


@answers_in_pistons_shape
async def execute(request: Request) -> JSONResponse:
    user = current_user(request)
    service = _service(request)
    ask = await parse(await read_json(request), service, catalog_for(request, service))
    job = await service.submit(RunRequest(source=ask.source, language=ask.language, limits=ask.limits,
                                          stdin=ask.stdin, user=user, origin="piston"))
    watcher = asyncio.create_task(_cancel_when_gone(request, service, job))
    try:
        answer = await piston_answer(job, ask)
    finally:
        watcher.cancel()
    headers = {"X-Sandbox-Ignored": ", ".join(ask.ignored)} if ask.ignored else None
    return JSONResponse(answer, headers=headers)


def _service(request: Request) -> Service:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise PistonError(503, "the sandbox service is not running", "start it with `tui-sandbox serve`")
    return service


async def _cancel_when_gone(request: Request, service: Service, job: Job) -> None:
    """A client that hung up gets no answer: its run is stopped, not left to use a slot."""
    while not job.done:
        if await request.is_disconnected():
            service.cancel(job)
            return
        await asyncio.sleep(0.5)


for _prefix in PREFIXES:
    for _slash in ("", "/"):
        _documented = _prefix == "/api/v2" and not _slash
        router.add_api_route(
            f"{_prefix}/runtimes{_slash}", runtimes, methods=["GET"], include_in_schema=_documented,
            summary="Piston v2: the runtimes", response_model=None,
            responses={200: {"model": list[PistonRuntime], "description": "the runtimes"},
                       401: ERRORS[401], 503: ERRORS[503]},
            name=f"piston_runtimes{_prefix.replace('/', '_')}{'_slash' if _slash else ''}")
        router.add_api_route(
            f"{_prefix}/execute{_slash}", execute, methods=["POST"], include_in_schema=_documented,
            summary="Piston v2: run a program", response_model=None,
            responses={200: {"model": PistonResult, "description": "how the run ended"}, **ERRORS},
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/json": {"schema": EXECUTE_BODY}}}},
            name=f"piston_execute{_prefix.replace('/', '_')}{'_slash' if _slash else ''}")
del _prefix, _slash, _documented
