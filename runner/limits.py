"""Run limits: the brief's defaults, reading them from user text, and validation."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .errors import LimitError
from .info import EngineInfo
from .units import KiB, MiB, format_size, parse_size

# Below this no language runtime starts; an engine may ask for more (Docker: 6 MiB).
MIN_MEMORY = 1 * MiB


@dataclass(frozen=True)
class Limits:
    """What one run may use. Hardening is not here: it is always on."""

    memory: int = 128 * MiB          # no swap on top
    cpus: float = 0.5
    pids: int = 64
    timeout: float = 10.0            # wall-clock seconds
    network: bool = False
    read_only: bool = True           # root filesystem; /tmp stays a small tmpfs
    tmp_size: int = 16 * MiB
    output: int = 1 * MiB            # stdout and stderr together
    file_size: int = 16 * MiB        # largest file the program may write
    open_files: int = 256
    runtime: str = "runc"

    def with_(self, **changes) -> "Limits":
        return replace(self, **changes)

    def validate(self, engine: EngineInfo | None = None) -> "Limits":
        """Return self, or raise LimitError naming the first bad value. With the engine's
        facts, also what that engine can give: its minimum memory, CPUs and runtimes."""
        if self.memory < MIN_MEMORY:
            raise LimitError(f"memory {format_size(self.memory)} is too little for any program",
                             f"use --memory {format_size(MIN_MEMORY, 'flag')} or more")
        if engine is not None and self.memory < engine.min_memory_bytes:
            raise LimitError(f"memory {format_size(self.memory)} is below {engine.product}'s minimum of "
                             f"{format_size(engine.min_memory_bytes)}",
                             f"use --memory {format_size(engine.min_memory_bytes, 'flag')} or more")
        if not (math.isfinite(self.cpus) and self.cpus >= 0.01):
            raise LimitError(f"cpus {self.cpus:g} must be at least 0.01")
        if engine is not None and self.cpus > engine.cpus:
            raise LimitError(f"cpus {self.cpus:g} is more than this host has ({engine.cpus})",
                             f"use --cpus {engine.cpus} or less")
        if self.pids < 2:
            raise LimitError(f"pids {self.pids} is too low: the sandbox's init needs one of them",
                             "use --pids 2 or more")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise LimitError(f"timeout {self.timeout:g} s must be more than zero")
        if self.timeout > 24 * 3600:
            raise LimitError(f"timeout {self.timeout:g} s is more than a day")
        if self.tmp_size < 1 * MiB:
            raise LimitError("the /tmp size must be at least 1 MiB")
        if self.output < 1 * KiB:
            raise LimitError("the output cap must be at least 1 KiB")
        if self.file_size < 1 * KiB:
            raise LimitError("the file size cap must be at least 1 KiB")
        if self.open_files < 16:
            raise LimitError("the open files cap must be at least 16")
        if engine is not None and self.runtime not in engine.runtimes:
            raise LimitError(f"unknown runtime {self.runtime!r}: the engine has "
                             f"{', '.join(sorted(engine.runtimes))}",
                             f"use --runtime {' or '.join(sorted(engine.runtimes))}")
        return self

    def to_dict(self) -> dict:
        """The limits as data, with their units in the names: what the CLI's --json, the
        API, the history and the remote client all carry."""
        return {key: getattr(self, name) for key, name in _DATA_NAMES.items()}

    @classmethod
    def from_dict(cls, data: dict) -> "Limits":
        """The inverse of to_dict (a history row, a server's answer); a key left out keeps
        its default, and one it does not know is ignored."""
        return cls(**{name: data[key] for key, name in _DATA_NAMES.items() if key in data})


# The names limits have as data -> their fields.
_DATA_NAMES = {"memory_bytes": "memory", "cpus": "cpus", "pids": "pids", "timeout_s": "timeout",
               "network": "network", "read_only": "read_only", "tmp_bytes": "tmp_size",
               "output_bytes": "output", "file_size_bytes": "file_size", "open_files": "open_files",
               "runtime": "runtime"}


def parse_limits(base: Limits | None = None, *, memory=None, cpus=None, pids=None, timeout=None,
                 network=None, read_only=None, runtime=None) -> Limits:
    """Limits from user text (CLI flags, TUI inputs); None keeps the base value."""
    limits = base or Limits()
    changes: dict = {}
    if memory is not None:
        changes["memory"] = parse_size(memory, "memory")
    if cpus is not None:
        changes["cpus"] = _number(cpus, "cpus", float)
    if pids is not None:
        changes["pids"] = _number(pids, "pids", int)
    if timeout is not None:
        changes["timeout"] = _number(str(timeout).rstrip("sS"), "timeout", float)
    if network is not None:
        changes["network"] = bool(network)
    if read_only is not None:
        changes["read_only"] = bool(read_only)
    if runtime is not None:
        changes["runtime"] = runtime
    return limits.with_(**changes)


def _number(text, what: str, kind):
    try:
        return kind(text)
    except (TypeError, ValueError):
        raise LimitError(f"{what}: {text!r} is not a {'whole ' if kind is int else ''}number") from None
