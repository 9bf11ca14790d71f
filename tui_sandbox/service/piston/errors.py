"""Piston's error answer, `{"message": ...}` (with `fix` when there is one), made here
alone (error_body), and the one mapping of whatever either endpoint meets onto it.

    @answers_in_pistons_shape
    async def execute(request): ...       # raise PistonError(400, "..."), or let one through
"""

from __future__ import annotations

import functools
import logging
import math
from typing import Awaitable, Callable

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from runner import EngineUnavailable, ImageMissing, SandboxError

from ..core import Refused

log = logging.getLogger("tui_sandbox.service.piston")

Endpoint = Callable[[Request], Awaitable[JSONResponse]]


class PistonError(Exception):
    """A request we answer with {"message": ...} and this status."""

    def __init__(self, status: int, message: str, fix: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.fix, self.headers = status, message, fix, headers

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.message, self.fix), status_code=self.status, headers=self.headers)


def error_body(message: str, fix: str | None = None) -> dict:
    """Piston's error JSON, for any answer in Piston's shape."""
    return {"message": message, **({"fix": fix} if fix else {})}


def piston_error(exc: Exception) -> PistonError:
    """What a failure is in Piston's terms."""
    if isinstance(exc, PistonError):
        return exc
    if isinstance(exc, HTTPException):         # no valid token
        return PistonError(exc.status_code, str(exc.detail), headers=exc.headers)
    if isinstance(exc, Refused):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))} if exc.retry_after else None
        return PistonError(exc.status, exc.message, exc.fix, headers)
    if isinstance(exc, (EngineUnavailable, ImageMissing)):
        return PistonError(503, exc.message, exc.fix)
    if isinstance(exc, SandboxError):
        # A bad language, limit or program, or a limit over a ceiling: Piston says 400
        # for a limit over its configured one; it has no 422.
        return PistonError(400, exc.message, exc.fix)
    # A bug here still answers in Piston's shape, which its clients can read.
    log.error("Piston endpoint failed", exc_info=exc)
    return PistonError(500, f"internal error: {exc!r}")


def answers_in_pistons_shape(endpoint: Endpoint) -> Endpoint:
    """The endpoint, with every failure it raises answered as piston_error says."""
    @functools.wraps(endpoint)
    async def answered(request: Request) -> JSONResponse:
        try:
            return await endpoint(request)
        except Exception as exc:  # noqa: BLE001 - piston_error maps each kind, a bug included
            return piston_error(exc).response()
    return answered
