"""Run limits: the brief's defaults, reading them from user text, and validation."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from .errors import LimitError
from .info import EngineInfo
from .runtimes import AUTO, default_runtime
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
    runtime: str = AUTO              # the engine's default until resolved()

    def with_(self, **changes: Any) -> Limits:
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
        if engine is not None and self.runtime != AUTO and self.runtime not in engine.runtimes:
            raise LimitError(f"unknown runtime {self.runtime!r}: the engine has "
                             f"{', '.join(sorted(engine.runtimes))}",
                             f"use --runtime {' or '.join(sorted(engine.runtimes))}")
        return self

    def resolved(self, registered: Iterable[str]) -> Limits:
        """These limits as an engine with these runtimes runs them: a runtime left to it
        (AUTO) made its default (runner.runtimes.default_runtime); a named one kept."""
        if self.runtime != AUTO:
            return self
        return self.with_(runtime=default_runtime(registered).name)

    def to_dict(self) -> dict[str, Any]:
        """The limits as data, with their units in the names: what the CLI's --json, the
        API, the history and the remote client all carry."""
        return {field.key: getattr(self, field.name) for field in LIMIT_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        """The inverse of to_dict (a history row, a server's answer); a key left out keeps
        its default, and one it does not know is ignored."""
        return cls(**{field.name: data[field.key] for field in LIMIT_FIELDS if field.key in data})

    def asked(self) -> dict[str, Any]:
        """Every limit by its asking name (LimitField.flag), as parse_limits reads it back:
        what a client sends a server, so that none is dropped on the way."""
        return {field.flag: getattr(self, field.name) for field in LIMIT_FIELDS}


Kind = Literal["size", "number", "whole", "seconds", "switch", "name"]
# A Limits field's value, by its kind: an int, a float, a bool or a name.
LimitValue = int | float | bool | str


@dataclass(frozen=True)
class LimitField:
    """One limit as every front spells it: the CLI's flag, the API's request and answer,
    the history, the ceilings and the remote client all read this table, so a limit added
    to Limits and here reaches each of them."""
    name: str               # the Limits field
    key: str                # as data, with its unit (to_dict: answers, the history, --json)
    flag: str               # as asked for: the CLI's --flag (dashes for underscores), the API's field
    kind: Kind              # how it is read from text (parse_limits)
    help: str               # what it is, for --help and the API's schema
    ceiling: bool = True    # whether an operator's ceiling caps it (Ceilings)
    off_flag: str = ""      # a switch's CLI flag for off (default --no-FLAG), and what it does
    off_help: str = ""

    @property
    def cli(self) -> str:
        return "--" + self.flag.replace("_", "-")

    @property
    def metavar(self) -> str:
        return {"size": "SIZE", "number": "N", "whole": "N", "seconds": "SECONDS", "name": "NAME"}.get(self.kind, "")

    def default_text(self) -> str:
        """The default, as people read it (--help, the schema)."""
        return self.show(getattr(Limits(), self.name))

    def show(self, value: Any) -> str:
        """A value of this limit (of its Limits field's type), as people read it."""
        if self.kind == "size":
            return format_size(value)
        if self.kind == "seconds":
            return f"{value:g} s"
        if self.kind == "switch":
            return "on" if value else "off"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def read(self, value: Any, what: str = "") -> LimitValue:
        """A value asked for (CLI text, a JSON value) as the Limits field's type; a
        LimitError names it as `what` (default: its flag)."""
        what = what or self.flag
        if self.kind == "size":
            return parse_size(value, what)
        if self.kind == "number":
            return _number(value, what, float)
        if self.kind == "whole":
            return _number(value, what, int)
        if self.kind == "seconds":
            return _number(str(value).rstrip("sS"), what, float)
        if self.kind == "switch":
            return bool(value)
        return str(value)


LIMIT_FIELDS: tuple[LimitField, ...] = (
    LimitField("memory", "memory_bytes", "memory", "size", "memory limit, no swap"),
    LimitField("cpus", "cpus", "cpus", "number", "CPU share"),
    LimitField("pids", "pids", "pids", "whole", "process limit"),
    LimitField("timeout", "timeout_s", "timeout", "seconds", "wall-clock limit"),
    LimitField("network", "network", "network", "switch", "network access"),
    # Writable is the learner's own choice, and what it opens is still the container's own.
    LimitField("read_only", "read_only", "read_only", "switch", "read-only root filesystem, writable /tmp only",
               ceiling=False, off_flag="--writable", off_help="writable root filesystem and working directory"),
    LimitField("tmp_size", "tmp_bytes", "tmp_size", "size", "size of the writable /tmp (in the memory limit)"),
    LimitField("output", "output_bytes", "output_cap", "size", "output cap, stdout and stderr together"),
    LimitField("file_size", "file_size_bytes", "file_size", "size", "largest file the program may write"),
    LimitField("open_files", "open_files", "open_files", "whole", "open files cap"),
    LimitField("runtime", "runtime", "runtime", "name", "OCI runtime: any the engine has registered "
               "(runc, runsc for gVisor, crun, ...), or auto: the fastest as isolated as runc, crun where "
               "registered, else runc (`tui-sandbox doctor` says which)", ceiling=False),
)
LIMITS_BY_FLAG = {field.flag: field for field in LIMIT_FIELDS}


def parse_limits(base: Limits | None = None, **asked: Any) -> Limits:
    """Limits from what was asked for by flag name (CLI flags, TUI inputs, a request's
    fields: LimitField.flag); None keeps the base value."""
    limits = base or Limits()
    changes: dict[str, LimitValue] = {}
    for flag, value in asked.items():
        field = LIMITS_BY_FLAG.get(flag)
        if field is None:
            raise LimitError(f"unknown limit {flag!r}", f"known limits: {', '.join(LIMITS_BY_FLAG)}")
        if value is not None:
            changes[field.name] = field.read(value)
    return limits.with_(**changes)


def _number(text: Any, what: str, kind: type[int] | type[float]) -> int | float:
    if kind is int and isinstance(text, float) and not text.is_integer():
        raise LimitError(f"{what}: {text!r} is not a whole number")
    try:
        return kind(text)
    except (TypeError, ValueError):
        raise LimitError(f"{what}: {text!r} is not a {'whole ' if kind is int else ''}number") from None
