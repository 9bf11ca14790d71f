"""codapi compatibility: codapi's widget (codapi-js's `<codapi-snippet>`) and other codapi
clients run code here unchanged, once a page says `<codapi-settings url="http://HOST:8000/v1">`.

    POST /v1/exec     {"sandbox": "python", "version": "", "command": "run", "files": {"": CODE}}
                   -> {"id", "ok", "duration", "stdout", "stderr"}        (duration in whole ms)
    HEAD /v1/health   (GET too): 200 while the server takes runs; codapi-js 0.20 asks first

Read from codapi v0.12.1's server and codapi-js 0.19.10/0.20.1 (nalgeon/codapi, codapi-js):
- a run that ends badly is still a 200, with `ok: false`, `stdout` empty and `stderr` all
  it wrote then why it ended (codapi: "... (exit status 1)"; ours says our verdict's reason:
  "Timed out after 10 s and was killed", "Out of memory: killed at the 128 MiB limit");
- refusals are codapi's statuses with its body: 400 a bad or empty request, 404 an unknown
  sandbox or command, 413 too large (the server's body cap), 429 busy (the queue full, or
  the rate limit), 401 without a token on a server that has tokens; 503 while the engine is
  down (codapi would say 500: here that never means our own bug);
- `sandbox` is one of our languages, under codapi's names and the usual others (SANDBOXES);
  `version` is taken as given (each language here has one version); `command` is "run";
  `files` holds one program, under "" (codapi's main file).

Every run goes through the service like any other: the queue, the caps, the ceilings (at
the server's default limits), the rate limit, tokens, the history (origin "codapi").
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from runner import EngineUnavailable, ImageMissing, RunResult, SandboxError, Verdict

from .access import current_user, service_of
from .core import Refused
from .errors import error_response, retry_after
from .requests import Busy, RunRequest
from .runs import wait_unless_gone

PREFIX = "/v1"
EXEC_PATH = PREFIX + "/exec"
router = APIRouter(prefix=PREFIX, tags=["codapi"])

# codapi's sandbox names, and the names people write, for our languages.
SANDBOXES = {"python": "python", "python3": "python", "javascript": "javascript", "js": "javascript",
             "node": "javascript", "bash": "bash", "sh": "bash", "shell": "bash", "c": "c", "gcc": "c"}
COMMANDS = ("run",)


class CodapiRequest(BaseModel):
    """codapi's request; unknown fields (an `id`) are ignored, as codapi does."""
    sandbox: str = Field(description="The language: python, javascript, bash or c (and the usual other names).")
    version: str = Field("", description="Taken as given: each language here has one version.")
    command: str = Field("run", description="Only run.")
    files: dict[str, str] = Field(description='The program, under "" (codapi\'s main file).')


class CodapiExecution(BaseModel):
    """codapi's answer, to a run and to a refusal alike."""
    id: str
    ok: bool
    duration: int = Field(description="Whole milliseconds.")
    stdout: str
    stderr: str


def codapi_error(status: int, message: str, retry_after_s: float | None = None) -> JSONResponse:
    """codapi's body for a refusal (errors.error_response's shape under /v1: codapi's
    clients read stderr); a 429 or 503 carries Retry-After."""
    return error_response(EXEC_PATH, status, message, headers=retry_after(retry_after_s) if retry_after_s else None)


def execution(run_id: str, result: RunResult) -> CodapiExecution:
    ok = result.verdict is Verdict.OK
    duration = round(result.duration_s * 1000)
    if ok:
        return CodapiExecution(id=run_id, ok=True, duration=duration, stdout=result.output, stderr=result.error)
    said = [text.rstrip("\n") for text in (result.output, result.error) if text.strip()]
    return CodapiExecution(id=run_id, ok=False, duration=duration, stdout="",
                           stderr="\n".join([*said, f"({result.kill_reason})"]))


# Read by hand (codapi's 400s, not FastAPI's 422s), so its schema is given here.
EXEC_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": CodapiRequest.model_json_schema(),
    "example": {"sandbox": "python", "version": "", "command": "run", "files": {"": "print(6 * 7)"}}}}}}


@router.post("/exec", response_model=CodapiExecution, summary="Run a program, as codapi's POST /v1/exec",
             openapi_extra=EXEC_BODY,
             responses={status: {"model": CodapiExecution, "description": why} for status, why in (
                 (400, "A bad or empty request."), (401, "A token is required."),
                 (404, "An unknown sandbox or command."), (413, "The body is too large."),
                 (429, "Busy: the queue is full, or this user's rate is spent."),
                 (503, "The engine is down, or the server is stopping."))})
async def exec_code(request: Request) -> Response:
    user, service = current_user(request), service_of(request)
    try:
        ask = CodapiRequest.model_validate(json.loads(await request.body() or b"null"))
    except (ValueError, ValidationError) as exc:
        return codapi_error(400, f"bad request: {_first_error(exc)}")
    language = SANDBOXES.get(ask.sandbox.strip().lower())
    if language is None:
        return codapi_error(404, "unknown sandbox")
    if ask.command not in COMMANDS:
        return codapi_error(404, "unknown command")
    code = ask.files.get("")
    if code is None or not code.strip():
        return codapi_error(400, "empty request")
    if set(ask.files) != {""}:
        return codapi_error(400, 'one file only: the program, under files[""]')
    run = RunRequest(source=code, language=language, limits=service.ceilings.default_limits(), user=user,
                     origin="codapi")
    try:
        job = await service.submit(run)
    except Refused as exc:
        # codapi's clients know one word for "not now": 429, whichever queue is full.
        return codapi_error(429 if isinstance(exc, Busy) else exc.status, exc.message, exc.retry_after)
    except (EngineUnavailable, ImageMissing) as exc:
        return codapi_error(503, exc.message)
    except SandboxError as exc:           # a limit the server's own defaults break: the operator's to fix
        return codapi_error(400, exc.message)
    if not await wait_unless_gone(job, request, service):
        return Response(status_code=204)        # nobody is listening any more
    if job.failure is not None:
        return codapi_error(503, job.failure.message)
    assert job.result is not None
    return JSONResponse(execution(job.id, job.result).model_dump())


@router.get("/health", summary="Whether the server takes runs",
            responses={503: {"description": "The server is stopping."}})
async def health(request: Request) -> JSONResponse:
    up = not service_of(request).stopping
    return JSONResponse({"ok": up}, 200 if up else 503)


@router.head("/health", response_class=Response, summary="Whether the server takes runs (codapi-js asks first)",
             responses={200: {"description": "It takes runs.", "content": None},
                        503: {"description": "The server is stopping.", "content": None}})
async def health_head(request: Request) -> Response:
    return Response(status_code=503 if service_of(request).stopping else 200)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error.get("loc", ())) or "the body"
        return f"{where}: {error.get('msg', 'is not valid')}"
    return "the body is not valid JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
