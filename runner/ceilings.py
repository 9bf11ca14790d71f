"""An operator's ceilings over what a run may ask for: the service, the MCP front and any
other front that takes requests from others refuse a request over one, with a message
that names it, never clamping it quietly. Engine-neutral, so every front reads the same
rules without loading a server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Named again here: a front that applies the ceilings catches what they raise.
from .errors import CeilingExceeded as CeilingExceeded
from .limits import LIMIT_FIELDS, Limits
from .units import GiB, MiB


@dataclass(frozen=True)
class Ceilings:
    """The most a request may ask for. Over a ceiling is refused, never quietly clamped."""
    memory: int = 1 * GiB
    cpus: float = 1.0
    pids: int = 256
    timeout: float = 60.0
    network: bool = True          # whether a run may turn the network on at all
    # What a run holds beyond its memory: the host's disk (file size, with the root writable),
    # the server's memory (the output it keeps), its open files.
    tmp_size: int = 256 * MiB
    output: int = 8 * MiB
    file_size: int = 256 * MiB
    open_files: int = 4096

    def check(self, limits: Limits) -> None:
        over = []
        for field in CAPPED:
            asked, most = getattr(limits, field.name), getattr(self, field.name)
            if field.kind == "switch":
                if asked and not most:
                    over.append(f"the {field.flag} is not allowed on this server")
            elif asked > most:
                over.append(f"{field.flag} {field.show(asked)} is over this server's ceiling of {field.show(most)}")
        if over:
            raise CeilingExceeded("; ".join(over), "ask for less, or ask the operator to raise the ceiling")

    def to_dict(self) -> dict[str, Any]:
        return {field.key: getattr(self, field.name) for field in CAPPED}

    def default_limits(self, base: Limits | None = None) -> Limits:
        """The limits of a request that names none: the defaults, lowered to the ceilings
        where those are lower. (A request that asks for more is refused; one that did not
        ask is not refused for the server's own defaults.)"""
        base = base or Limits()
        return base.with_(**{field.name: (getattr(base, field.name) and getattr(self, field.name))
                             if field.kind == "switch" else min(getattr(base, field.name), getattr(self, field.name))
                             for field in CAPPED})


# The limits an operator caps (LimitField.ceiling): a field of Ceilings each, by the same name.
CAPPED = tuple(field for field in LIMIT_FIELDS if field.ceiling)
