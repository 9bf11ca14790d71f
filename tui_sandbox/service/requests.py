"""What a run asks of the service, and how the service refuses: the request itself,
the operator's ceilings over its limits, and the refusals, each with the HTTP status
that says why (the fronts answer with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runner import Limits, SandboxError
from runner.units import GiB, format_size


class Refused(SandboxError):
    """The service will not take this run; status is the HTTP status that says why."""
    status = 400
    retry_after: float | None = None


class CeilingExceeded(Refused):
    status = 422


class RateLimited(Refused):
    status = 429


class Busy(Refused):
    """The queue, or this user's line in it, is full."""
    status = 503


class Stopping(Refused):
    status = 503


@dataclass(frozen=True)
class Ceilings:
    """The most a request may ask for. Over a ceiling is refused, never quietly clamped."""
    memory: int = 1 * GiB
    cpus: float = 1.0
    pids: int = 256
    timeout: float = 60.0
    network: bool = True          # whether a run may turn the network on at all

    def check(self, limits: Limits) -> None:
        over = []
        if limits.memory > self.memory:
            over.append(f"memory {format_size(limits.memory)} is over this server's ceiling of "
                        f"{format_size(self.memory)}")
        if limits.cpus > self.cpus:
            over.append(f"cpus {limits.cpus:g} is over this server's ceiling of {self.cpus:g}")
        if limits.pids > self.pids:
            over.append(f"pids {limits.pids} is over this server's ceiling of {self.pids}")
        if limits.timeout > self.timeout:
            over.append(f"timeout {limits.timeout:g} s is over this server's ceiling of {self.timeout:g} s")
        if limits.network and not self.network:
            over.append("the network is not allowed on this server")
        if over:
            raise CeilingExceeded("; ".join(over), "ask for less, or ask the operator to raise the ceiling")

    def as_dict(self) -> dict:
        return {"memory_bytes": self.memory, "cpus": self.cpus, "pids": self.pids,
                "timeout_s": self.timeout, "network": self.network}

    def default_limits(self, base: Limits | None = None) -> Limits:
        """The limits of a request that names none: the defaults, lowered to the ceilings
        where those are lower. (A request that asks for more is refused; one that did not
        ask is not refused for the server's own defaults.)"""
        base = base or Limits()
        return base.with_(memory=min(base.memory, self.memory), cpus=min(base.cpus, self.cpus),
                          pids=min(base.pids, self.pids), timeout=min(base.timeout, self.timeout),
                          network=base.network and self.network)


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
