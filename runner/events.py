"""What a run tells its caller, in order: Started, then Output and Stats as they
happen, then exactly one Finished carrying the RunResult."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

from .limits import Limits


class Verdict(str, Enum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    OOM = "oom"
    OUTPUT_LIMIT = "output_limit"
    SIGNAL = "signal"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Started:
    container_id: str
    language: str
    runtime: str
    limits: Limits


@dataclass(frozen=True)
class Phase:
    """The run moved on: 'compiling' (languages with a compile step), then 'running'."""
    name: str


@dataclass(frozen=True)
class Output:
    stream: str          # "stdout" or "stderr"
    text: str


@dataclass(frozen=True)
class Stats:
    elapsed_s: float
    cpu_percent: float | None    # of one core, as `docker stats` shows it; None on the first sample
    memory_bytes: int | None
    pids: int | None
    # Blocked reading its standard input (an interactive run waits for its user); None
    # where the runtime cannot tell (gVisor).
    reading_input: bool | None = None


@dataclass(frozen=True)
class RunResult:
    verdict: Verdict
    exit_code: int | None
    signal: str | None
    kill_reason: str
    output: str                  # stdout
    error: str                   # stderr
    duration_s: float
    peak_memory_bytes: int | None
    truncated: bool
    language: str
    runtime: str
    limits: Limits
    compile_failed: bool = False
    cpu_seconds: float | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["limits"] = self.limits.as_dict()
        return data


@dataclass(frozen=True)
class Finished:
    result: RunResult


Event = Started | Phase | Output | Stats | Finished
