"""What a run asks of the service, and how the service refuses: the request itself and
the refusals, each with the HTTP status that says why (the fronts answer with it). The
operator's ceilings over a request's limits are the engine's (runner/ceilings.py): a
request over one is a CeilingExceeded, a 422 like every other bad limit."""

from __future__ import annotations

from dataclasses import dataclass, field

from runner import Limits, SandboxError
from runner.ceilings import CeilingExceeded, Ceilings

__all__ = ["Busy", "CeilingExceeded", "Ceilings", "RateLimited", "Refused", "RunRequest", "Stopping"]


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
