"""What a run tells its caller, in order: Queued while it waits for a place (only where
a queue stands in front of the engine), Started, then Output, Stats and Blocked (a wall
the program hit: runner.walls) as they happen, then exactly one Finished carrying the
RunResult (or, from a front that runs for someone else, one Failed when the engine could
not carry the run out at all).

Each event has one data form, `to_data()` and `event_from_data()`: the service's stream,
the cluster's broker, the remote client and the API's schema are all made from it, so a
new event kind is declared here once and reaches every front, or fails loudly."""

from __future__ import annotations

from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from enum import Enum
from functools import cache
from typing import Any, ClassVar, Literal, Self, get_type_hints

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


def doc(text: str, wire: str | None = None) -> Any:
    """A field's description in the API's schema, and its name on the wire where that
    is not its name here."""
    return field(metadata={"doc": text, **({"wire": wire} if wire else {})})


def wire_name(item: Field[Any]) -> str:
    name: str = item.metadata.get("wire", item.name)
    return name


class EventData:
    """An event's data form: {"event": kind, field: value, ...}, each value as JSON has it
    (Limits as Limits.to_dict()). The inverse, from_data, reads the same keys; one it does
    not know is ignored, one left out that has a default keeps it."""
    kind: ClassVar[str]
    # Said on the wire beside the fields, worked out from them: name -> (type, description).
    derived: ClassVar[dict[str, tuple[type, str]]] = {}
    # Every kind is a dataclass: declared (never set) here so that `fields` takes one.
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.kind}
        for item in fields(self):
            value = getattr(self, item.name)
            data[wire_name(item)] = value.to_dict() if isinstance(value, Limits) else value
        return data | {name: getattr(self, name) for name in self.derived}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Self:
        # A class is hashable, but mypy does not see type[Self] as Hashable (python/mypy#20409).
        hints = _hints(cls)  # type: ignore[arg-type]
        values: dict[str, Any] = {}
        for item in fields(cls):
            name = wire_name(item)
            if name not in data:
                if item.default is MISSING:
                    raise ValueError(f"a {cls.kind} event without {name}")
                continue
            value = data[name]
            values[item.name] = Limits.from_dict(value or {}) if hints[item.name] is Limits else value
        return cls(**values)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


@dataclass(frozen=True)
class Queued(EventData):
    """The run waits in a fair queue: `position` is its place in line (1 is next),
    `running` of `cap` containers are busy."""
    kind: ClassVar[str] = "queued"
    derived: ClassVar[dict[str, tuple[type, str]]] = {"message": (str, "The same, in words.")}
    position: int = doc("Place in line: 1 is next.")
    running: int = doc("Containers running now.")
    cap: int = doc("The most that run at once.")

    @property
    def message(self) -> str:
        return f"queued: {ordinal(self.position)} in line, {self.running}/{self.cap} running"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class Started(EventData):
    """The run's fresh container has started."""
    kind: ClassVar[str] = "started"
    container_id: str = doc("The engine's id of the run's fresh container.")
    language: str = doc("The language's name.")
    runtime: str = doc("The OCI runtime it runs under (runc, runsc, crun, ...).")
    limits: Limits = doc("The limits it runs under.")


@dataclass(frozen=True)
class Phase(EventData):
    """The run moved on: 'compiling' (languages with a compile step), then 'running'."""
    kind: ClassVar[str] = "phase"
    name: str = doc("compiling (languages with a compile step), then running.")


# The program's two outputs, by name.
Stream = Literal["stdout", "stderr"]


@dataclass(frozen=True)
class Output(EventData):
    """Output from the program, as it came."""
    kind: ClassVar[str] = "output"
    stream: Stream = doc("Which of the program's two outputs.")
    text: str = doc("What it wrote.")


@dataclass(frozen=True)
class Stats(EventData):
    """The container's figures, about once a second."""
    kind: ClassVar[str] = "stats"
    elapsed_s: float = doc("Seconds since the program started.")
    cpu_percent: float | None = doc("Of one core, as `docker stats` shows it; null on the first sample.")
    memory_bytes: int | None = doc("Memory in use.")
    pids: int | None = doc("Processes and threads.")
    # Blocked reading its standard input (an interactive run waits for its user); None
    # where the runtime cannot tell (gVisor).
    reading_input: bool | None = field(default=None, metadata={
        "doc": "Blocked reading its standard input; null where the runtime cannot tell."})


@dataclass(frozen=True)
class Blocked(EventData):
    """A wall the program hit: something the sandbox refused it (runner.walls). Sent when
    it is first hit and again as its count grows; the result lists each once."""
    kind: ClassVar[str] = "blocked"
    wall: str = doc("network, filesystem, process or syscall.", wire="kind")
    call: str = doc("The call refused: connect, openat, fork, mount, ...")
    target: str = doc("What it aimed at (a path, ip:port), as the program passed it: its own claim, "
                      "shown, never trusted. Empty where there is none.")
    errno: str = doc("The error the program got, by name: EAGAIN, EROFS, EPERM, ...")
    exact: bool = doc("true: known for certain (the sandbox answered, or the kernel counted it); "
                      "false: predicted from the kernel's order of checks.")
    at_s: float = doc("When it was first hit, in seconds after the program started.")
    count: int = doc("How many times so far: repeats of one wall fold into one.")

    def as_item(self) -> dict[str, Any]:
        """The wall as an item of a result's `blocked` list: its data, without `event`."""
        data = self.to_data()
        del data["event"]
        return data


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
    # How long the CPU limit held the program back (the cgroup's throttled time): a
    # program that wanted more than its --cpus share waited this long. None where the
    # cgroup cannot be read (gVisor).
    cpu_throttled_s: float | None = None
    # The walls the program hit (runner.walls), each once with its count; None where the
    # runtime lets none be seen. walls_watched: the kinds of wall this run could see, so
    # that an empty list reads as "none of these", never as "nothing at all".
    blocked: tuple[Blocked, ...] | None = None
    walls_watched: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The result as data: every field, the verdict by its name and the limits as
        Limits.to_dict(). The one shape the CLI's --json, the API's models, the history's
        rows and the remote client are built from."""
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["limits"] = self.limits.to_dict()
        data["blocked"] = None if self.blocked is None else [wall.as_item() for wall in self.blocked]
        data["walls_watched"] = list(self.walls_watched)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        """The inverse of to_dict. A key it does not know (an id, a front's own extras) is
        ignored; one left out that has a default keeps it. Raises ValueError for a
        verdict that is not one of Verdict's (an engine failure is not a result)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["verdict"] = Verdict(data["verdict"])
        values["limits"] = Limits.from_dict(data.get("limits") or {})
        blocked = data.get("blocked")
        values["blocked"] = None if blocked is None else tuple(Blocked.from_data(item) for item in blocked)
        values["walls_watched"] = tuple(data.get("walls_watched") or ())
        return cls(**values)


@dataclass(frozen=True)
class Finished(EventData):
    """The run ended: its result, every field of RunResult at the top level."""
    kind: ClassVar[str] = "finished"
    result: RunResult

    def to_data(self) -> dict[str, Any]:
        return {"event": self.kind, **self.result.to_dict()}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Self:
        return cls(RunResult.from_dict(data))


@dataclass(frozen=True)
class Failed(EventData):
    """The engine could not carry the run out at all (no engine, no image): what a front
    that runs programs for others (the service, a worker) says in place of a result."""
    kind: ClassVar[str] = "failed"
    message: str = doc("What went wrong.", wire="error")
    fix: str | None = field(default=None, metadata={"doc": "What to do about it."})


Event = Queued | Started | Phase | Output | Stats | Blocked | Finished
# What goes over a wire (the service's stream, the broker): the engine's events, and Failed.
WireEvent = Event | Failed
EVENT_KINDS: dict[str, type[WireEvent]] = {kind.kind: kind for kind in (Queued, Started, Phase, Output, Stats,
                                                                         Blocked, Finished, Failed)}


def event_from_data(data: dict[str, Any]) -> WireEvent:
    """The event that to_data() gave this data. ValueError for a kind this version does
    not have, or a field missing."""
    kind = EVENT_KINDS.get(data.get("event", ""))
    if kind is None:
        raise ValueError(f"no event kind {data.get('event')!r}: this version knows {', '.join(EVENT_KINDS)}")
    return kind.from_data(data)
