"""Judge0's endpoints, under /judge0 and at the root where they do not clash with ours
(GET /languages is ours there): each reads the request, asks the service, and answers in
Judge0's shape. Errors are `{"error": ...}` (ours add a `fix`), a refused field Judge0's
422 `{"field": ["why"]}`."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from ..access import current_user, may_see, service_of
from ..errors import error_responses
from ..interface import Service
from ..requests import Refused
from ..runs import wait_unless_gone
from .languages import by_id, languages
from .request import FieldErrors, read_submission
from .statuses import all_statuses
from .submissions import Submission, find, requested_fields
from .system import MAX_BATCH, about, config_info, system_info

router = APIRouter(tags=["judge0"])
PREFIX = "/judge0"


async def get_languages(request: Request) -> JSONResponse:
    current_user(request)
    return JSONResponse([language.summary() for language in await languages(request, service_of(request))])


async def get_language(request: Request) -> JSONResponse:
    current_user(request)
    listed = await languages(request, service_of(request))
    raw = request.path_params["language_id"]
    language = by_id(listed, int(raw)) if raw.isascii() and raw.isdigit() else None  # not "³"
    if language is None:
        raise HTTPException(404, f"language with id {raw} doesn't exist here")
    return JSONResponse(language.details())


async def get_statuses(request: Request) -> JSONResponse:
    current_user(request)
    return JSONResponse(all_statuses())


async def get_about(request: Request) -> JSONResponse:
    current_user(request)
    return JSONResponse(about(request.app.version))


async def get_config_info(request: Request) -> JSONResponse:
    current_user(request)
    return JSONResponse(config_info(service_of(request)))


async def get_system_info(request: Request) -> JSONResponse:
    current_user(request)
    return JSONResponse(system_info())


async def create(request: Request) -> Response:
    user, service = current_user(request), service_of(request)
    fields, base64_encoded = _fields(request), _flag(request, "base64_encoded")
    body = await _json(request)
    try:
        ask = await _read(request, service, body, base64_encoded)
    except FieldErrors as exc:
        return JSONResponse(exc.errors, 422)
    job = await service.submit(ask.request(user), job_id=str(uuid.uuid4()))
    if not _flag(request, "wait"):
        return JSONResponse({"token": job.id}, 201)
    if not await wait_unless_gone(job, request, service):
        return Response(status_code=204)        # nobody is listening any more
    submission = await _find(request, service, job.id)
    return JSONResponse(submission.json(fields, base64_encoded=base64_encoded), 201)


async def create_batch(request: Request) -> JSONResponse:
    """Each submission queued, or its errors in its place; 201 if any was (Judge0 ignores
    fields= here, and has no wait)."""
    user, service = current_user(request), service_of(request)
    base64_encoded = _flag(request, "base64_encoded")
    body = await _json(request)
    submissions = body.get("submissions") if isinstance(body, dict) else None
    if not isinstance(submissions, list) or not submissions:
        raise HTTPException(400, "there should be at least one submission in a batch")
    if len(submissions) > MAX_BATCH:
        raise HTTPException(400, f"number of submissions in a batch should be less than or equal to {MAX_BATCH}")
    answers, queued, refusal = [], False, None
    for one in submissions:
        try:
            ask = await _read(request, service, one, base64_encoded)
            job = await service.submit(ask.request(user), job_id=str(uuid.uuid4()))
        except FieldErrors as exc:
            answers.append(exc.errors)
        except Refused as exc:          # the rate or the queue: the others may still go
            refusal = exc
            answers.append({"error": exc.message})
        else:
            answers.append({"token": job.id})
            queued = True
    if not queued and refusal is not None and all("error" in answer for answer in answers):
        raise refusal
    return JSONResponse(answers, 201 if queued else 422)


async def show(request: Request) -> JSONResponse:
    user, service = current_user(request), service_of(request)
    fields, base64_encoded = _fields(request), _flag(request, "base64_encoded")
    submission = await _visible(request, service, request.path_params["token"], user)
    return JSONResponse(submission.json(fields, base64_encoded=base64_encoded))


async def show_batch(request: Request) -> JSONResponse:
    user, service = current_user(request), service_of(request)
    fields, base64_encoded = _fields(request), _flag(request, "base64_encoded")
    tokens = [token for token in request.query_params.get("tokens", "").strip().split(",") if token]
    if len(tokens) > MAX_BATCH:
        raise HTTPException(400, f"number of submissions in a batch should be less than or equal to {MAX_BATCH}")
    if not tokens:
        raise HTTPException(400, "there should be at least one submission in a batch")
    answers = []
    for token in tokens:
        submission = await _find(request, service, token)
        visible = submission is not None and may_see(request, submission.user, user, teacher=True)
        answers.append(submission.json(fields, base64_encoded=base64_encoded) if visible else None)
    return JSONResponse({"submissions": answers})


async def delete(request: Request) -> JSONResponse:
    """An ended submission is forgotten, by the service and the history; one waiting or
    running cannot be (as Judge0). The answer is the submission, in Base64 (as Judge0)."""
    user, service = current_user(request), service_of(request)
    fields = _fields(request)
    token = request.path_params["token"]
    submission = await _visible(request, service, token, user)
    if not submission.done:
        status = submission.json(("status",), base64_encoded=False)["status"]
        raise HTTPException(400, f"submission cannot be deleted because its status is {status['id']} "
                                 f"({status['description']})")
    service.jobs.pop(token, None)
    if service.history is not None:
        await asyncio.to_thread(service.history.delete, token)
    return JSONResponse(submission.json(fields, base64_encoded=True))


# --- reading the request --------------------------------------------------------------

def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name) == "true"


def _fields(request: Request) -> tuple[str, ...]:
    fields, invalid = requested_fields(request.query_params.get("fields"))
    if invalid:
        raise HTTPException(400, f"invalid fields: [{', '.join(invalid)}]")
    return fields


async def _json(request: Request):
    """The body as JSON, whatever content type it came with."""
    raw = await request.body()
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise HTTPException(400, "the body is not valid JSON") from None


async def _read(request: Request, service: Service, body, base64_encoded: bool):
    return read_submission(body, base64_encoded=base64_encoded, listed=await languages(request, service),
                           ceilings=service.ceilings, base=service.ceilings.default_limits())


async def _find(request: Request, service: Service, token: str) -> Submission | None:
    return await asyncio.to_thread(find, service, token, await languages(request, service))


async def _visible(request: Request, service: Service, token: str, user: str) -> Submission:
    """The submission, or 404 (also for one of another user's, with tokens)."""
    submission = await _find(request, service, token)
    if submission is None or not may_see(request, submission.user, user, teacher=True):
        raise HTTPException(404, f"no submission with token {token!r}")
    return submission


# Every answer but a 200 (or a created submission's 201) is an error, in Judge0's shape or
# ours: a bad body or batch (400), no token (401), no such submission or language (404),
# too large (413), a field we cannot honour (422), the rate or the queue (429, 503).
JUDGE0_ERRORS = {201: {"description": "Created (wait=false)."},
                 **{status: {"description": entry["description"] + " (in Judge0's shape, or ours)"}
                    for status, entry in error_responses(400, 401, 404, 413, 422, 429, 503).items()}}

# Where Judge0's paths are served; GET /languages at the root is ours.
ROUTES = (
    ("/submissions/batch", create_batch, "POST", "Judge0: queue up to 20 submissions"),
    ("/submissions/batch", show_batch, "GET", "Judge0: submissions by their tokens"),
    ("/submissions", create, "POST", "Judge0: a submission (wait=true for its end)"),
    ("/submissions/{token}", show, "GET", "Judge0: one submission"),
    ("/submissions/{token}", delete, "DELETE", "Judge0: forget an ended submission"),
    ("/statuses", get_statuses, "GET", "Judge0: the statuses"),
    ("/about", get_about, "GET", "Judge0: what this server is"),
    ("/config_info", get_config_info, "GET", "Judge0: what may be asked here"),
    ("/system_info", get_system_info, "GET", "Judge0: the host"),
    ("/languages", get_languages, "GET", "Judge0: the languages, by id"),
    ("/languages/{language_id}", get_language, "GET", "Judge0: one language"),
)


def _path_parameters(path: str) -> dict:
    """The schema's word for each {name} in a path: the handlers read them from the request
    themselves (Judge0's own errors), so FastAPI would not declare them, and a document with
    an undeclared path parameter is not valid OpenAPI (client generators refuse it)."""
    names = re.findall(r"{(\w+)}", path)
    return {"parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                           for name in names]} if names else {}


for _path, _endpoint, _method, _summary in ROUTES:
    for _prefix in (PREFIX, ""):
        if _prefix == "" and _path.startswith("/languages"):
            continue
        router.add_api_route(_prefix + _path, _endpoint, methods=[_method], summary=_summary, response_model=None,
                             responses=JUDGE0_ERRORS, openapi_extra=_path_parameters(_path),
                             include_in_schema=_prefix == PREFIX,
                             name=f"judge0_{_endpoint.__name__}{'_root' if not _prefix else ''}")
del _path, _endpoint, _method, _summary, _prefix
