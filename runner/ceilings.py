"""An operator's ceilings over what a run may ask for: the service, the MCP front and any
other front that takes requests from others refuse a request over one, with a message
that names it, never clamping it quietly. Engine-neutral, so every front reads the same
rules without loading a server."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CeilingExceeded
from .limits import Limits
from .units import GiB, format_size


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

    def to_dict(self) -> dict:
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
