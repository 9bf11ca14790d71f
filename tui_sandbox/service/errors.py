"""Errors over HTTP: one JSON shape everywhere, `{"error": ..., "fix": ...}`, FastAPI's
own validation errors, 404s and 405s included; under /api/v2/ (Piston's paths) they take
Piston's shape, `{"message": ...}`, and under /v1/ (codapi's) codapi's, `{"id": "-", "ok":
false, "stderr": ...}`, instead. Every 429 and 503 carries Retry-After.

    install_error_handlers(app)              # every exception becomes one of those answers
    @router.get(..., responses=error_responses(401, 404))   # and the schema says which
"""

from __future__ import annotations

import http
import logging
import math
from typing import Iterable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from runner import EngineUnavailable, ImageMissing, SandboxError

from ..history.errors import HistoryDown
from .core import Refused
from .models import ErrorBody

# The HTTP front's log, under the name operators have always filtered it by.
log = logging.getLogger("tui_sandbox.service.http")

PISTON_PREFIX = "/api/v2"
CODAPI_PREFIX = "/v1"
EXAMPLE = '{"code": "print(2+2)"}'
# Retry-After when the refusal itself does not know better.
DEFAULT_RETRY_AFTER_S = 5

FIXES = {
    401: "send the header Authorization: Bearer TOKEN (the operator gives out the tokens)",
    404: "see /docs for the endpoints",
    405: "see /docs for the methods each endpoint takes",
}


def error_response(path: str, status: int, message: str, fix: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error every 4xx and 5xx answers with (Piston's shape under its paths)."""
    headers = dict(headers or {})
    if status in (429, 503) and "Retry-After" not in headers:
        headers["Retry-After"] = str(DEFAULT_RETRY_AFTER_S)
    if path == PISTON_PREFIX or path.startswith(PISTON_PREFIX + "/"):
        return JSONResponse({"message": message, **({"fix": fix} if fix else {})}, status, headers)
    if path.startswith(CODAPI_PREFIX + "/"):       # codapi's clients read stderr
        stderr = f"{message} ({fix})" if fix else message
        return JSONResponse({"id": "-", "ok": False, "duration": 0, "stdout": "", "stderr": stderr}, status, headers)
    return JSONResponse(ErrorBody(error=message, fix=fix).model_dump(), status, headers)


def retry_after(seconds: float | None) -> dict[str, str]:
    """The Retry-After header: whole seconds, at least one."""
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


def install_error_handlers(app: FastAPI) -> None:
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
        headers = retry_after(exc.retry_after) if exc.status in (429, 503) or exc.retry_after else None
        return error_response(request.url.path, exc.status, exc.message, exc.fix, headers)

    @app.exception_handler(HistoryDown)
    async def history_down(request: Request, exc: HistoryDown) -> JSONResponse:
        # Runs go on meanwhile: their rows wait (in the spool, or in memory) until it is back.
        return error_response(request.url.path, 503, f"the history cannot be read now: {exc}",
                              exc.fix or "runs still run, and are kept until it is back: ask again then",
                              retry_after(None))

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        # The engine is missing or broken: the server's trouble. Anything else the engine
        # refuses (an unknown language, a bad limit) is the request's.
        if isinstance(exc, (EngineUnavailable, ImageMissing)):
            return error_response(request.url.path, 503, exc.message, exc.fix, retry_after(None))
        return error_response(request.url.path, 422, exc.message, exc.fix)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(request.url.path, 500, "the server failed unexpectedly",
                              "try again; if it persists, the server's log says why")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path. (Starlette's Allow names only the
    first route's: GET and POST /runs are two routes.) Where a route names the path as it
    is (/judge0/submissions/batch), one that would take it as a parameter's value
    (/judge0/submissions/{token}, token "batch") is not this resource's."""
    def takes(route, method: str) -> bool:
        return route.matches({**request.scope, "method": method})[0] is Match.FULL

    def leaves(routes):       # FastAPI keeps an included router's routes inside it
        for route in routes:
            inner = getattr(getattr(route, "original_router", None), "routes", None)
            yield from leaves(inner) if inner is not None else (route,)
    routes = [route for route in leaves(request.app.router.routes)
              if any(takes(route, method) for method in ("GET", "POST", "PUT", "PATCH", "DELETE"))]
    literal = [route for route in routes if not getattr(route, "param_convertors", None)]
    routes = literal or routes
    return [method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
            if any(takes(route, method) for route in routes)]


def error_responses(*statuses: int, media: str | None = None) -> dict:
    """OpenAPI entries for the error answers a route can give (always JSON, also where
    the route's own answer is not: give media then)."""
    said = {400: "The body is not JSON.", 401: "A bearer token is required (the server has tokens).",
            404: "No such run.", 409: "The run has already ended.", 413: "The body is over the size cap.",
            415: "The body is not sent as application/json.",
            422: "A field is missing, of the wrong type, malformed, or over a ceiling; an unknown language.",
            429: "Over the rate limit: see Retry-After.",
            503: "A part is down or full, named in `error`: the queue (or this user's line in it), the "
                 "engine, the broker (Redis), or the history's database or disk; or the server is "
                 "stopping. See Retry-After."}
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
