"""What a run asks of the service, and how the service refuses: the request itself and
the refusals, each with the HTTP status that says why (the fronts answer with it). The
operator's ceilings over a request's limits are the engine's (runner/ceilings.py): a
request over one is a CeilingExceeded, a 422 like every other bad limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol

from runner import Language, Limits, SandboxError
from runner.ceilings import CeilingExceeded, Ceilings

__all__ = ["Busy", "CeilingExceeded", "Ceilings", "RateLimited", "Refused", "RunRequest", "Stopping", "admit"]


class Refused(SandboxError):
    """The service will not take this run; status is the HTTP status that says why."""
    status = 400
    retry_after: float | None = None


class RateLimited(Refused):
    status = 429


class Busy(Refused):
    """The queue, or this user's line in it, is full."""
    status = 503


class Stopping(Refused):
    status = 503


@dataclass(frozen=True)
class RunRequest:
    source: str
    language: str = "python"
    limits: Limits = field(default_factory=Limits)
    stdin: str | None = None
    user: str = "anonymous"
    origin: str = "http"          # which front asked: http, piston, app
    # The program's standard input stays open for Job.send_input until Job.close_input
    # (a learner typing into their program); otherwise it is `stdin`, then end of file.
    interactive: bool = False
    # The output the run should give: its result then says whether it did (passed).
    expected_output: str | None = None


class _Checks(Protocol):
    def language(self, language: str | Language) -> Language: ...

    def check(self, limits: Limits) -> Limits: ...


async def admit(request: RunRequest, engine: _Checks, ceilings: Ceilings, stopping: Callable[[], bool]) -> RunRequest:
    """What every service checks of a request before it queues it, in this order, each
    with its message for the client: not while stopping, a language the engine has,
    limits that make sense, within the operator's ceilings, and what the engine can give
    (asked off the event loop: it may ask the engine). Rates and the queue's room are the
    service's own (a cluster's are in its broker). Returns the request with its limits as
    the engine runs them (a runtime left to it made its default), for the queue, the
    spares and the history to see the runtime that will run it."""
    if stopping():
        raise Stopping("the server is stopping", "try again when it is back")
    engine.language(request.language)            # LanguageError
    request.limits.validate()                    # LimitError
    ceilings.check(request.limits)               # CeilingExceeded
    limits = await asyncio.to_thread(engine.check, request.limits)
    if stopping():       # it began while the engine was asked: the queue may be drained already
        raise Stopping("the server is stopping", "try again when it is back")
    return replace(request, limits=limits)
