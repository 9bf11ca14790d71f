"""Run limits: the brief's defaults, parsing of human sizes, and validation."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from .errors import LimitError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# Docker refuses a memory limit below 6 MiB.
DOCKER_MIN_MEMORY = 6 * MiB
RUNTIMES = ("runc", "runsc")

_UNITS = {"": 1, "b": 1, "k": KiB, "kb": KiB, "kib": KiB, "m": MiB, "mb": MiB, "mib": MiB,
          "g": GiB, "gb": GiB, "gib": GiB}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str | int, what: str = "size") -> int:
    """'128m', '1g', '512KiB' or a plain byte count, to bytes (binary units)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise LimitError(f"{what}: cannot read {text!r} as a size", "write it like 128m, 1g or 512k")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise LimitError(f"{what}: unknown size suffix {unit!r} in {text!r}",
                         "use k, m or g (binary: 1m = 1024k)")
    return int(float(number) * factor)


def format_size(n: int) -> str:
    """Bytes as a short human size: 134217728 -> '128 MiB'."""
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value == int(value) or value >= 100 else f"{value:.1f} {unit}"
    return f"{n} B"


def format_seconds(s: float) -> str:
    return f"{s:g} s"


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

    def validate(self, host_cpus: int | None = None) -> "Limits":
        """Return self, or raise LimitError naming the first bad value."""
        if self.memory < DOCKER_MIN_MEMORY:
            raise LimitError(f"memory {format_size(self.memory)} is below Docker's minimum of 6 MiB",
                             "use --memory 6m or more")
        if not (math.isfinite(self.cpus) and self.cpus >= 0.01):
            raise LimitError(f"cpus {self.cpus:g} must be at least 0.01")
        if host_cpus is not None and self.cpus > host_cpus:
            raise LimitError(f"cpus {self.cpus:g} is more than this host has ({host_cpus})",
                             f"use --cpus {host_cpus} or less")
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
        if self.runtime not in RUNTIMES:
            raise LimitError(f"unknown runtime {self.runtime!r}", "use runc or runsc")
        return self

    def summary(self) -> str:
        return (f"{format_size(self.memory)} memory, {self.cpus:g} CPU, {self.pids} PIDs, "
                f"{format_seconds(self.timeout)} timeout, network {'on' if self.network else 'off'}, "
                f"{'read-only' if self.read_only else 'writable'} root, {self.runtime}")

    def as_dict(self) -> dict:
        return {"memory_bytes": self.memory, "cpus": self.cpus, "pids": self.pids,
                "timeout_s": self.timeout, "network": self.network, "read_only": self.read_only,
                "tmp_bytes": self.tmp_size, "output_bytes": self.output,
                "file_size_bytes": self.file_size, "open_files": self.open_files,
                "runtime": self.runtime}


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
