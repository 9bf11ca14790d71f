"""A Piston execute request, read as Piston reads it: the body as JSON whatever its
content type, then its language, version range, files, stdin and limits checked, each
fault a 400 (413 for too much) in Piston's words.

    body = await read_json(request)
    ask = await parse(body, service, catalog)     # an Ask, or PistonError

How the fields map onto ours is in the package's docstring.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from fastapi import Request

from runner import Limits
from runner.protocol import COMPILE_TIMEOUT_S
from runner.sandbox import MAX_SOURCE_BYTES
from runner.units import format_size

from ..interface import Service
from .catalog import Catalog
from .errors import PistonError
from .versions import satisfies

# A program (8 MiB at most) and its stdin, as JSON: anything bigger is refused unread.
MAX_BODY_BYTES = 3 * MAX_SOURCE_BYTES


@dataclass(frozen=True)
class Ask:
    """A checked request: our language, the version it matched, and the run to make."""
    language: str
    version: str
    source: str
    stdin: str
    limits: Limits
    ignored: tuple[str, ...]      # the fields given and not applied (X-Sandbox-Ignored)


async def read_json(request: Request) -> dict:
    """The body as a JSON object, whatever content type it came with (npm piston-client
    sends none, node-fetch then says text/plain)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
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


async def parse(body: dict, service: Service, catalog: Catalog) -> Ask:
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
    return Ask(language=name, version=listed[name], source=source, stdin=stdin, limits=limits,
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

