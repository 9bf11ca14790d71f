"""Piston v2 compatibility: the existing Piston clients work against this server unmodified.

    GET  /api/v2/runtimes     [{"language", "version", "aliases"}, ...]
    POST /api/v2/execute      {"language", "version", "files": [{"content"}], "stdin", ...}

The same under /api/v2/piston/ (the public instance's prefix, which some clients keep),
each with or without a trailing slash. Every run goes through the service like any
other (queue, ceilings, rate limit, history, origin "piston").

How Piston's request maps onto ours:
- `language`: a runtime's name or alias (ours and Piston's usual ones), any case.
- `version`: an npm semver range, as Piston's `semver.satisfies` reads it ("*", "3.x",
  "3.11.2", ">=3.10 <4", "~18", "^12.2", "1 - 3", "a || b"); a small matcher below, so
  the service needs no dependency for four plain M.m.p versions (npm's prerelease rule
  never applies to them). Missing or "" means "*": Piston refuses it, but npm
  `piston-client` sends none when `language` is an alias. The versions are the images'
  own, asked of each image once (a tiny program printing its version) and cached, with
  the Debian bookworm versions as a fallback when the engine cannot answer.
- `files`: the first utf8 file is the program (as Piston: base64 and hex files are
  checked, never run; we have one source file, so the others are not placed beside it).
- `stdin`: a newline is added when it lacks one, as Piston does.
- `run_timeout` (ms) and `run_memory_limit` (bytes) become the run's timeout and memory
  limit; absent, null, 0 or -1 mean this server's default (10 s, 128 MiB), not Piston's
  3 s and "no limit". Over the service's ceiling: 400, naming the ceiling, as Piston.
- Accepted and not applied, listed in the `X-Sandbox-Ignored` response header when given
  a value: `args` (the engine has no argv pass-through; npm piston-client always sends
  ["1", "2", "3"], so this is never an error), `compile_timeout` (the compile step has the
  engine's own 30 s), `compile_memory_limit` (it shares the run's memory limit),
  `run_cpu_time` and `compile_cpu_time` (CPU is a share here, bounded by the wall clock),
  and files after the first. The compile_* fields are named only for C.

The response: `run`, and `compile` for C, each with stdout, stderr, output, code, signal,
message, status, cpu_time and wall_time (ms) and memory (peak bytes). Text is never null.
`output` holds both streams' lines in the order they were finished (a line is never torn
by the other stream): the engine reads stdout and stderr apart, so lines written close
together on different streams may come in either order. When the
compile fails the run stage is skipped, and `run` repeats `compile` (Piston does that
too, for its older clients). Of a compile that succeeded only the wall time (and the
memory, when a sample fell in it) is known: its cpu_time is null. The compile's end is
marked on stderr alone, so stdout is all the run's (gcc writes none).

Statuses: ok -> null; error -> RE; timeout -> TO; signal -> SG; an OOM kill -> SG with
`message` saying so ("Out of memory: killed at the 128 MiB limit"), which Piston cannot
tell; output_limit -> OL, or EL when stderr's piece crossed our cap (1 MiB for both
streams together, not Piston's 1024 characters each); cancelled -> XX. A run the engine
could not carry out at all (no engine, an image not built) is a 503 with the fix, not a
result. TO, OL and EL carry signal SIGKILL. `message` is our verdict's
sentence whenever the status is not null.

Errors are Piston's shape, `{"message": ...}` (with `fix` when there is one): 400 for a
bad request (bad JSON, any content type is read as JSON; unknown runtime; over a ceiling),
401 without a valid token when the server has tokens, 413 for a body or program too
large, 429 and 503 (with Retry-After where known) when the service is busy, or the
engine or an image is not there.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import re
import time
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from runner import (
    EngineUnavailable,
    Finished,
    ImageMissing,
    Limits,
    Output,
    Phase,
    RunResult,
    SandboxError,
    Stats,
    Verdict,
)
from runner.languages import ALIASES
from runner.protocol import COMPILE_TIMEOUT_S
from runner.sandbox import MAX_SOURCE_BYTES
from runner.units import format_size

from .access import current_user
from .core import CeilingExceeded, Failed, Refused, RunRequest, SandboxService

log = logging.getLogger("tui_sandbox.service.piston")

router = APIRouter(tags=["piston"])

PREFIXES = ("/api/v2", "/api/v2/piston")
# A program (8 MiB at most) and its stdin, as JSON: anything bigger is refused unread.
MAX_BODY_BYTES = 3 * MAX_SOURCE_BYTES
# How long a failed version probe is trusted before the image is asked again.
PROBE_RETRY_S = 30.0

# Piston's names for our built-in languages, their aliases (ours and Piston's usual
# ones), a program that prints the version, and the version that Debian bookworm (with
# its security updates), which the images are built from, has: for when the engine
# cannot be asked.
@dataclass(frozen=True)
class _Known:
    aliases: tuple[str, ...]
    probe: str
    fallback: str


KNOWN: dict[str, _Known] = {
    "python": _Known(("py", "py3", "python3"),
                     "import sys; print('%d.%d.%d' % sys.version_info[:3])", "3.11.2"),
    "javascript": _Known(("js", "node", "node-js", "node-javascript", "nodejs"),
                         "console.log(process.versions.node)", "18.20.4"),
    "bash": _Known(("sh", "shell"),
                   'echo "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}.${BASH_VERSINFO[2]}"', "5.2.15"),
    "c": _Known(("gcc",),
                '#include <stdio.h>\nint main(void) {\n'
                '    printf("%d.%d.%d\\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);\n'
                '    return 0;\n}\n', "12.2.0"),
}

STATUS = {Verdict.OK: None, Verdict.ERROR: "RE", Verdict.TIMEOUT: "TO", Verdict.SIGNAL: "SG",
          Verdict.OOM: "SG", Verdict.OUTPUT_LIMIT: "OL", Verdict.CANCELLED: "XX"}


class PistonError(Exception):
    """A request we answer with {"message": ...} and this status."""

    def __init__(self, status: int, message: str, fix: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.fix, self.headers = status, message, fix, headers

    def response(self) -> JSONResponse:
        body = {"message": self.message}
        if self.fix:
            body["fix"] = self.fix
        return JSONResponse(body, status_code=self.status, headers=self.headers)


# --- the documented shapes (OpenAPI only: responses are built as plain JSON) -------------

class PistonRuntime(BaseModel):
    language: str
    version: str
    aliases: list[str]


class PistonStage(BaseModel):
    stdout: str
    stderr: str
    output: str
    code: int | None
    signal: str | None
    message: str | None
    status: str | None
    cpu_time: int | None
    wall_time: int | None
    memory: int | None


class PistonResult(BaseModel):
    language: str
    version: str
    run: PistonStage
    compile: PistonStage | None = None


class PistonMessage(BaseModel):
    message: str
    fix: str | None = None


EXECUTE_BODY = {
    "type": "object",
    "required": ["language", "files"],
    "properties": {
        "language": {"type": "string", "examples": ["python"]},
        "version": {"type": "string", "description": "an npm semver range", "examples": ["*", "3.x"]},
        "files": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["content"],
            "properties": {"name": {"type": "string"}, "content": {"type": "string"},
                           "encoding": {"type": "string", "enum": ["utf8", "base64", "hex"]}}}},
        "stdin": {"type": "string"},
        "args": {"type": "array", "items": {"type": "string"}},
        "run_timeout": {"type": "number", "description": "ms; 0 or -1: the default"},
        "run_memory_limit": {"type": "number", "description": "bytes; 0 or -1: the default"},
        "compile_timeout": {"type": "number"}, "compile_memory_limit": {"type": "number"},
        "run_cpu_time": {"type": "number"}, "compile_cpu_time": {"type": "number"},
    },
}
ERRORS = {code: {"model": PistonMessage, "description": what} for code, what in (
    (400, "a bad request: bad JSON, an unknown runtime, a limit over the ceiling"),
    (401, "a valid bearer token is required"), (413, "the body or the program is too large"),
    (429, "too many runs"), (503, "busy, stopping, or no engine"))}


# --- routes ------------------------------------------------------------------------------

async def runtimes(request: Request) -> JSONResponse:
    try:
        current_user(request)
        service = _service(request)
        listed = await _catalog(request, service).runtimes()
    except PistonError as error:
        return error.response()
    except HTTPException as exc:
        return _http_error(exc)
    except SandboxError as exc:
        return _sandbox_error(exc).response()
    return JSONResponse([{"language": name, "version": version, "aliases": list(KNOWN[name].aliases)}
                         for name, version in listed])


async def execute(request: Request) -> JSONResponse:
    try:
        user = current_user(request)
        service = _service(request)
        body = await _read_json(request)
        ask = await _parse(body, service, _catalog(request, service))
        try:
            job = await service.submit(RunRequest(source=ask.source, language=ask.language,
                                                  limits=ask.limits, stdin=ask.stdin, user=user,
                                                  origin="piston"))
        except SandboxError as exc:
            raise _sandbox_error(exc) from None
        watcher = asyncio.create_task(_cancel_when_gone(request, service, job))
        try:
            answer = await _answer(job, ask)
        finally:
            watcher.cancel()
    except PistonError as error:
        return error.response()
    except HTTPException as exc:
        return _http_error(exc)
    except SandboxError as exc:
        return _sandbox_error(exc).response()
    except Exception as exc:  # noqa: BLE001 - a bug here still answers in Piston's shape
        log.exception("Piston execute failed")
        return PistonError(500, f"internal error: {exc!r}").response()
    headers = {"X-Sandbox-Ignored": ", ".join(ask.ignored)} if ask.ignored else None
    return JSONResponse(answer, headers=headers)


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


# --- the runtimes and their versions ----------------------------------------------------

class _Catalog:
    """The built-in languages this server has, each with its image's own version, asked
    once (a probe run, not queued and not in the history) and kept."""

    def __init__(self, service: SandboxService) -> None:
        self.service = service
        self._versions: dict[str, str] = {}
        self._failed_at: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def names(self) -> list[str]:
        return [name for name in KNOWN if name in self.service.sandbox.languages]

    async def runtimes(self) -> list[tuple[str, str]]:
        names = self.names()
        async with self._lock:
            due = [name for name in names if name not in self._versions
                   and time.monotonic() - self._failed_at.get(name, -math.inf) > PROBE_RETRY_S]
            if due:
                found = await asyncio.gather(*(asyncio.to_thread(self._probe, name) for name in due))
                for name, version in zip(due, found, strict=True):
                    if version:
                        self._versions[name] = version
                    else:
                        self._failed_at[name] = time.monotonic()
        return [(name, self._versions.get(name, KNOWN[name].fallback)) for name in names]

    def _probe(self, name: str) -> str | None:
        try:
            result = self.service.sandbox.run(KNOWN[name].probe, name, Limits(timeout=20))
        except SandboxError as exc:
            log.warning("could not ask the %s image its version: %s", name, exc.message)
            return None
        version = result.output.strip()
        if result.verdict is Verdict.OK and re.fullmatch(r"\d+\.\d+\.\d+", version):
            return version
        log.warning("the %s image's version probe said %r (%s)", name, version, result.kill_reason)
        return None

    def find(self, language: str) -> str | None:
        """Our language for a Piston name or alias, any case."""
        key = language.strip().lower()
        names = self.names()
        if key in names:
            return key
        for name in names:
            if key in KNOWN[name].aliases:
                return name
        alias = ALIASES.get(key)
        return alias if alias in names else None


def _catalog(request: Request, service: SandboxService) -> _Catalog:
    catalog = getattr(request.app.state, "piston_catalog", None)
    if catalog is None or catalog.service is not service:
        catalog = request.app.state.piston_catalog = _Catalog(service)
    return catalog


def _service(request: Request) -> SandboxService:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise PistonError(503, "the sandbox service is not running", "start it with `tui-sandbox serve`")
    return service


# --- the request ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Ask:
    language: str
    version: str
    source: str
    stdin: str
    limits: Limits
    ignored: tuple[str, ...]


async def _read_json(request: Request) -> dict:
    """The body as a JSON object, whatever content type it came with (npm piston-client
    sends none, node-fetch then says text/plain)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large(int(declared))
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise _too_large(len(raw))
    if not raw.strip():
        raise PistonError(400, "the request body is empty: send a JSON object with language, version and files")
    try:
        text = bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PistonError(400, "the request body is not UTF-8 text: send a JSON object") from None

    def no_constant(name: str):
        raise ValueError(f"{name} is not a JSON number")

    try:
        body = json.loads(text, parse_constant=no_constant)
    except RecursionError:
        raise PistonError(400, "the request body is not JSON: it is nested too deeply") from None
    except ValueError as exc:
        raise PistonError(400, f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise PistonError(400, f"the request body must be a JSON object, not {_json_type(body)}")
    return body


def _too_large(size: int) -> PistonError:
    return PistonError(413, f"the request body is {format_size(size)}; the most is {format_size(MAX_BODY_BYTES)}")


async def _parse(body: dict, service: SandboxService, catalog: _Catalog) -> _Ask:
    language = body.get("language")
    if not isinstance(language, str) or not language.strip():
        raise PistonError(400, "language is required as a string")
    version = body.get("version")
    if version is None or version == "":
        version = "*"
    if not isinstance(version, str):
        raise PistonError(400, 'version must be a string: a semver range such as "*", "3.x" or "3.11.2"')
    files = body.get("files")
    if not isinstance(files, list):
        raise PistonError(400, "files is required as an array")
    source, ignored = _program(files), []
    if len(files) > 1:
        ignored.append("files after the first")

    name = catalog.find(language)
    listed = dict(await catalog.runtimes())
    if name is None or not satisfies(listed[name], version):
        here = (f"{name} here is {listed[name]}" if name is not None
                else "this server has " + ", ".join(f"{n} {v}" for n, v in listed.items()))
        raise PistonError(400, f"{language}-{version} runtime is unknown ({here})")

    ceilings = service.ceilings
    defaults = Limits()
    timeout_ms = _number(body, "run_timeout")
    memory = _number(body, "run_memory_limit")
    if timeout_ms and timeout_ms < 1:
        raise PistonError(400, "run_timeout is in milliseconds: it must be at least 1 (or -1 or 0 for the default)")
    if timeout_ms and timeout_ms > ceilings.timeout * 1000:
        raise PistonError(400, f"run_timeout cannot exceed the configured limit of {ceilings.timeout * 1000:g} "
                               f"(this server's ceiling is {ceilings.timeout:g} s)")
    if memory and memory > ceilings.memory:
        raise PistonError(400, f"run_memory_limit cannot exceed the configured limit of {ceilings.memory} "
                               f"(this server's ceiling is {format_size(ceilings.memory)})")
    limits = defaults.with_(timeout=timeout_ms / 1000 if timeout_ms else defaults.timeout,
                            memory=int(memory) if memory else defaults.memory)
    # Checked whatever the language, as Piston does; said to be ignored only where a
    # compile step could have used them.
    compiles = bool(service.sandbox.language(name).compile)
    compile_timeout = _number(body, "compile_timeout")
    if compiles and compile_timeout and compile_timeout != COMPILE_TIMEOUT_S * 1000:
        ignored.append("compile_timeout")
    for key in ("compile_memory_limit", "compile_cpu_time", "run_cpu_time"):
        if _number(body, key) and (compiles or key == "run_cpu_time"):
            ignored.append(key)

    stdin = body.get("stdin")
    if stdin is None:
        stdin = ""
    if not isinstance(stdin, str):
        raise PistonError(400, "stdin must be a string")
    _unicode(stdin, "stdin")
    if not stdin.endswith("\n"):
        stdin += "\n"       # as Piston: a program reading a line never meets end of file first
    args = body.get("args")
    if args is not None and not (isinstance(args, list) and all(isinstance(a, (str, int, float)) for a in args)):
        raise PistonError(400, "args must be an array of strings")
    if args:
        ignored.append("args")
    return _Ask(language=name, version=listed[name], source=source, stdin=stdin, limits=limits,
                ignored=tuple(ignored))


def _program(files: list) -> str:
    """The first utf8 file's text, as Piston runs it; the others are checked."""
    program = None
    for i, entry in enumerate(files):
        if not isinstance(entry, dict):
            raise PistonError(400, f"files[{i}] must be an object with a content string")
        content = entry.get("content")
        if not isinstance(content, str):
            raise PistonError(400, f"files[{i}].content is required as a string")
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise PistonError(400, f"files[{i}].name must be a string")
        encoding = entry.get("encoding")
        if encoding == "base64":
            try:
                base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                raise PistonError(400, f"files[{i}].content is not valid base64") from None
        elif encoding == "hex":
            try:
                bytes.fromhex(content)
            except ValueError:
                raise PistonError(400, f"files[{i}].content is not valid hex") from None
        elif program is None:
            program = (i, content)   # utf8, or Piston's default for an unknown encoding
    if program is None:
        raise PistonError(400, "files must include at least one utf8 encoded file")
    i, content = program
    if not content:
        raise PistonError(400, f"files[{i}].content is empty: there is no program to run")
    size = len(_unicode(content, f"files[{i}].content"))
    if size > MAX_SOURCE_BYTES:
        raise PistonError(413, f"files[{i}] is {format_size(size)}; the most is {format_size(MAX_SOURCE_BYTES)}")
    return content


def _unicode(text: str, what: str) -> bytes:
    """Its UTF-8; JSON's escapes can spell a lone surrogate, which has none."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise PistonError(400, f"{what} is not valid Unicode (it holds a lone surrogate)") from None


def _number(body: dict, key: str) -> float | None:
    """A limit in Piston's units; None for absent, null, 0 or -1 (the default)."""
    value = body.get(key)
    if value is None or value == 0 or value == -1:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PistonError(400, f"If specified, {key} must be a number")
    if value < 0:
        raise PistonError(400, f"{key} must be non-negative (or -1 or 0 for the default)")
    return value


def _json_type(value) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


# --- errors ----------------------------------------------------------------------------------

def _http_error(exc: HTTPException) -> JSONResponse:
    return PistonError(exc.status_code, str(exc.detail), headers=exc.headers).response()


def _sandbox_error(exc: SandboxError) -> PistonError:
    if isinstance(exc, Refused):
        status = 400 if isinstance(exc, CeilingExceeded) else exc.status
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))} if exc.retry_after else None
        return PistonError(status, exc.message, exc.fix, headers)
    if isinstance(exc, (EngineUnavailable, ImageMissing)):
        return PistonError(503, exc.message, exc.fix)
    return PistonError(400, exc.message, exc.fix)     # a bad language, limit or program


async def _cancel_when_gone(request: Request, service: SandboxService, job) -> None:
    """A client that hung up gets no answer: its run is stopped, not left to use a slot."""
    while not job.done:
        if await request.is_disconnected():
            service.cancel(job)
            return
        await asyncio.sleep(0.5)


# --- the answer ------------------------------------------------------------------------------

async def _answer(job, ask: _Ask) -> dict:
    """Piston's result from the job's events: its output split at the compile's end.

    The compile's end is a record on stderr, so stderr splits exactly there; stdout is
    read apart from it and may come before or after, so all of it is the run's (gcc
    writes nothing to stdout)."""
    pieces: list[tuple[str, str, str]] = []     # (stage, stream, text), as they came
    stage, compiled, ran = "run", False, False
    compile_began = compile_ended = None
    compile_peak: int | None = None
    result: RunResult | None = None
    failure: Failed | None = None
    async for event in job.events():
        if isinstance(event, Phase):
            if event.name == "compiling":
                stage, compiled, compile_began = "compile", True, time.monotonic()
            elif event.name == "running":
                stage, ran, compile_ended = "run", True, time.monotonic()
        elif isinstance(event, Output):
            pieces.append((stage, event.stream, event.text))
        elif isinstance(event, Stats):
            if stage == "compile" and event.memory_bytes:
                compile_peak = max(compile_peak or 0, event.memory_bytes)
        elif isinstance(event, Finished):
            result = event.result
        elif isinstance(event, Failed):
            failure = event
    if failure is not None or result is None:
        # The engine could not carry the run out (no engine, an image not built): the
        # server is at fault, not the program, so no result is made up for it.
        raise PistonError(503, failure.message if failure else "the run ended without a result",
                          failure.fix if failure else None)
    answer: dict = {"language": ask.language, "version": ask.version}
    if compiled and (result.compile_failed or not ran):
        # The compile ended the job: its stage is the result, and the run never began.
        answer["compile"] = answer["run"] = _ended([(stream, text) for _, stream, text in pieces], result)
        return answer
    if compiled:
        wall = compile_ended - compile_began if compile_began and compile_ended else None
        compile_pieces = [(stream, text) for at, stream, text in pieces if at == "compile" and stream == "stderr"]
        answer["compile"] = _stage(compile_pieces, code=0, signal=None, message=None, status=None,
                                   cpu_time=None, wall_time=round(wall * 1000) if wall is not None else None,
                                   memory=compile_peak)
    answer["run"] = _ended([(stream, text) for at, stream, text in pieces
                            if at == "run" or stream == "stdout" or not compiled], result)
    return answer


def _ended(pieces: list[tuple[str, str]], result: RunResult) -> dict:
    verdict, signal, code = result.verdict, result.signal, result.exit_code
    status = STATUS[verdict]
    if verdict is Verdict.OOM and signal is None and code not in (None, 0):
        status = "RE"        # a process of its own was killed; the program itself then exited
    elif verdict is Verdict.OUTPUT_LIMIT and pieces and pieces[-1][0] == "stderr":
        status = "EL"
    if status in ("TO", "OL", "EL") or (status == "SG" and signal is None and code is None):
        signal = "SIGKILL"
    return _stage(pieces, code=code, signal=signal, message=result.kill_reason if status else None,
                  status=status,
                  cpu_time=round(result.cpu_seconds * 1000) if result.cpu_seconds is not None else None,
                  wall_time=round(result.duration_s * 1000), memory=result.peak_memory_bytes)


def _stage(pieces: list[tuple[str, str]], **figures) -> dict:
    return {"stdout": "".join(text for stream, text in pieces if stream == "stdout"),
            "stderr": "".join(text for stream, text in pieces if stream == "stderr"),
            "output": _interleaved(pieces), **figures}


def _interleaved(pieces: list[tuple[str, str]]) -> str:
    """Both streams in the order their lines were finished: a stream's unfinished line
    waits for its end, so a line is never torn by the other stream (print() writes the
    text and its newline apart)."""
    out: list[str] = []
    pending = {"stdout": "", "stderr": ""}
    for stream, text in pieces:
        held = pending[stream] + text
        cut = held.rfind("\n") + 1
        out.append(held[:cut])
        pending[stream] = held[cut:]
    return "".join(out) + pending["stdout"] + pending["stderr"]


# --- npm semver ranges, as Piston's semver.satisfies(version, range) reads them -------------

_PART = r"0|[1-9]\d*|[xX*]"
_IDENT = r"[0-9A-Za-z-]+"
_PARTIAL = (rf"[v=\s]*(?P<M>{_PART})(?:\.(?P<m>{_PART})(?:\.(?P<p>{_PART})"
            rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+{_IDENT}(?:\.{_IDENT})*)?)?)?")
_COMPARATOR = re.compile(rf"(?P<op>~>?|\^|[<>]=?|=)?{_PARTIAL}")
_HYPHEN = re.compile(rf"^\s*(?P<a>{_PARTIAL.replace('?P<', '?P<a')})\s+-\s+"
                     rf"(?P<b>{_PARTIAL.replace('?P<', '?P<b')})\s*$")
_VERSION = re.compile(r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")

# A bound: (major, minor, patch, prerelease identifiers or None for a release).
_Bound = tuple[int, int, int, tuple | None]


def satisfies(version: str, spec: str) -> bool:
    """Whether a plain version satisfies an npm range; an invalid range matches nothing."""
    match = _VERSION.fullmatch(version.strip())
    if not match:
        return False
    have = (int(match[1]), int(match[2]), int(match[3]), _pre(match[4]))
    try:
        sets = [_comparators(part) for part in re.split(r"\s*\|\|\s*", spec.strip())]
    except ValueError:
        return False
    return any(all(_holds(have, op, bound) for op, bound in comparators) for comparators in sets)


def _comparators(text: str) -> list[tuple[str, _Bound]]:
    hyphen = _HYPHEN.match(text)
    if hyphen:
        low = _partial(hyphen, "a")
        high = _partial(hyphen, "b")
        out = []
        if not _x(low[0]):
            out.append((">=", _fill(low)))
        if not _x(high[0]):
            M, m, p, pre = high
            if _x(m):
                out.append(("<", (int(M) + 1, 0, 0, (0,))))
            elif _x(p):
                out.append(("<", (int(M), int(m) + 1, 0, (0,))))
            else:
                out.append(("<=", (int(M), int(m), int(p), _pre(pre))))
        return out
    text = re.sub(r"([<>]=?|=)\s+", r"\1", text)
    text = re.sub(r"(~>?|\^)\s+", r"\1", text)
    out = []
    for word in text.split():
        match = _COMPARATOR.fullmatch(word)
        if not match:
            raise ValueError(word)
        out += _expand(match["op"] or "", (match["M"], match["m"], match["p"], match["pre"]))
    return out


def _partial(match: re.Match, side: str) -> tuple:
    return (match[f"{side}M"], match[f"{side}m"], match[f"{side}p"], match[f"{side}pre"])


def _x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _fill(parts: tuple) -> _Bound:
    M, m, p, pre = parts
    return (int(M), 0 if _x(m) else int(m), 0 if _x(p) else int(p), None if _x(p) else _pre(pre))


def _pre(text: str | None) -> tuple | None:
    if not text:
        return None
    return tuple(int(i) if i.isdigit() else i for i in text.split("."))


def _expand(op: str, parts: tuple) -> list[tuple[str, _Bound]]:
    """One comparator as plain bounds, as npm semver's replaceTilde, replaceCaret and
    replaceXRange do."""
    M, m, p, pre = parts
    below = (0,)    # npm's "-0": below every prerelease of that version
    if op in ("~", "~>"):
        if _x(M):
            return []
        if _x(m):
            return [(">=", (int(M), 0, 0, None)), ("<", (int(M) + 1, 0, 0, below))]
        top = ("<", (int(M), int(m) + 1, 0, below))
        return [(">=", _fill(parts)), top]
    if op == "^":
        if _x(M):
            return []
        M = int(M)
        if _x(m):
            return [(">=", (M, 0, 0, None)), ("<", (M + 1, 0, 0, below))]
        m = int(m)
        if _x(p):
            top = (M, m + 1, 0, below) if M == 0 else (M + 1, 0, 0, below)
            return [(">=", (M, m, 0, None)), ("<", top)]
        p = int(p)
        if M == 0:
            top = (0, 0, p + 1, below) if m == 0 else (0, m + 1, 0, below)
        else:
            top = (M + 1, 0, 0, below)
        return [(">=", (M, m, p, _pre(pre))), ("<", top)]
    if (_x(M) and not _x(m)) or (_x(m) and p is not None and not _x(p)):
        raise ValueError("an x before a number")        # "x.2", "3.x.2": npm refuses them
    any_x = _x(M) or _x(m) or _x(p)
    if not any_x:
        return [(op or "=", (int(M), int(m), int(p), _pre(pre)))]
    if op == "=":
        op = ""
    if _x(M):
        return [("<", (0, 0, 0, below))] if op in (">", "<") else []
    M = int(M)
    if op:
        xm = _x(m)
        m = 0 if xm else int(m)
        if op == ">":
            op = ">="
            M, m = (M + 1, 0) if xm else (M, m + 1)
        elif op == "<=":
            op = "<"
            M, m = (M + 1, 0) if xm else (M, m + 1)
        return [(op, (M, m, 0, below if op == "<" else None))]
    if _x(m):
        return [(">=", (M, 0, 0, None)), ("<", (M + 1, 0, 0, below))]
    return [(">=", (M, int(m), 0, None)), ("<", (M, int(m) + 1, 0, below))]


def _key(bound: _Bound) -> tuple:
    M, m, p, pre = bound
    if pre is None:
        return (M, m, p, 1, ())
    return (M, m, p, 0, tuple((0, i, "") if isinstance(i, int) else (1, 0, i) for i in pre))


def _holds(have: _Bound, op: str, bound: _Bound) -> bool:
    a, b = _key(have), _key(bound)
    return {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
