"""What a run tells its caller, in order: Queued while it waits for a place (only where
a queue stands in front of the engine), Started, then Output and Stats as they happen,
then exactly one Finished carrying the RunResult."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
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
class Queued:
    """The run waits in a fair queue: `position` is its place in line (1 is next),
    `running` of `cap` containers are busy."""
    position: int
    running: int
    cap: int

    @property
    def message(self) -> str:
        return f"queued: {ordinal(self.position)} in line, {self.running}/{self.cap} running"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


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
    # Against the expected output the run was started with (runner.expected); None when
    # it was given none.
    passed: bool | None = None
    first_difference: str | None = None
    # Which of a cluster's workers ran it (tui-sandbox worker --name); None when it ran here.
    worker: str | None = None

    def to_dict(self) -> dict:
        """The result as data: every field, the verdict by its name and the limits as
        Limits.to_dict(). The one shape the CLI's --json, the API's models, the history's
        rows and the remote client are built from."""
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["limits"] = self.limits.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "RunResult":
        """The inverse of to_dict. A key it does not know (an id, a front's own extras) is
        ignored; one left out that has a default keeps it. Raises ValueError for a
        verdict that is not one of Verdict's (an engine failure is not a result)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["verdict"] = Verdict(data["verdict"])
        values["limits"] = Limits.from_dict(data.get("limits") or {})
        return cls(**values)


@dataclass(frozen=True)
class Finished:
    result: RunResult


Event = Queued | Started | Phase | Output | Stats | Finished
