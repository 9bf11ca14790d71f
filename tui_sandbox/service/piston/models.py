"""The shapes Piston's endpoints document in the OpenAPI schema. Only documented: the
answers are built as plain JSON (answer.py), and the request is read by hand
(request.py), since Piston's clients send JSON under any content type."""

from __future__ import annotations

from pydantic import BaseModel


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
