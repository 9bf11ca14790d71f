"""What the HTTP API reads and writes, as typed models: they validate requests, shape
responses and are the OpenAPI schema (/docs, /openapi.json) at the same time.

Every error is one shape, `{"error": "...", "fix": "..." | null}`, whatever its status.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Literal, Union, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, create_model, field_validator

from runner import EVENT_KINDS, Blocked, EventData, Finished, Limits, RunResult, parse_limits
from runner.events import wire_name
from runner.limits import LIMIT_FIELDS

from .requests import RunRequest


def _encodable(text: str | None) -> str | None:
    """JSON can carry lone surrogates ("\\ud800") that no program file can hold."""
    if text is not None:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"is not valid text: {exc.reason} at position {exc.start}") from None
    return text


# How the API takes a limit of each kind (runner.limits.LimitField.kind), what it says of
# it, and examples. Strict where the schema says a number or a boolean: 1, 0.0 or "yes" is
# not a boolean (a 422 naming the field).
_ASKED_AS = {"size": StrictStr | StrictInt, "number": float | str, "whole": StrictInt, "seconds": float | str,
             "switch": StrictBool, "name": str}
_ASKED_HOW = {"size": ': "64m", "1g" (binary units) or bytes', "seconds": ', in seconds: 5 or "5s"'}
_EXAMPLES = {"size": ["64m", 134217728], "number": [0.5], "whole": [16], "seconds": [2, "2s"], "name": ["runc"]}
_ANSWERED_AS = {"size": int, "number": float, "whole": int, "seconds": float, "switch": bool, "name": str}


def _limits_asked() -> dict:
    """A request's limit fields, one per limit, by its asking name."""
    made = {}
    for field in LIMIT_FIELDS:
        extra = {"max_length": 64} if field.kind == "name" else {}
        made[field.flag] = (_ASKED_AS[field.kind] | None, Field(
            None, examples=_EXAMPLES.get(field.kind), description=f"{field.help[0].upper()}{field.help[1:]}"
            f"{_ASKED_HOW.get(field.kind, '')}. Default {field.default_text()}.", **extra))
    return made


class _RunAsked(BaseModel):
    """What a run asks for beside its limits (RunBody adds them, from runner.limits)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={
        "examples": [{"code": "print(2+2)"},
                     {"code": "console.log(2+2)", "language": "javascript"},
                     {"code": "x = input(); print(x[::-1])", "stdin": "hello\n", "memory": "64m", "timeout": 5}]})

    # Validated below, for a clearer message than pydantic's; the schema still says it.
    code: str = Field(description="The program's source.", json_schema_extra={"minLength": 1, "pattern": "\\S"})
    language: str = Field("python", min_length=1, max_length=64, examples=["python", "javascript", "bash", "c"],
                          description="python, javascript, bash or c (or an alias: py, js, sh, gcc): "
                          "see GET /languages.")
    stdin: str | None = Field(None, description="Fed to the program's standard input, then end of file.")
    interactive: StrictBool = Field(False, description="Keep the program's standard input open (after `stdin`, if "
                              "given) for POST /runs/{id}/input, until it sends eof: a person typing into "
                              "their program. Meant for the stream (POST /runs).")
    expected_output: str | None = Field(None, description="The output the program should give: the result's "
                                        "`passed` then says whether it did, and `first_difference` where not. "
                                        "Compared as Judge0 does: trailing spaces and blank lines at the end "
                                        "do not count.")

    @field_validator("code")
    @classmethod
    def _code_has_content(cls, code: str) -> str:
        if not code.strip():
            raise ValueError("is empty: send the program to run")
        return _encodable(code)

    @field_validator("stdin", "expected_output")
    @classmethod
    def _stdin_is_text(cls, text: str | None) -> str | None:
        return _encodable(text)

    def limits(self, base: Limits | None = None) -> Limits:
        """The limits asked for, over base for those not named. Raises LimitError (a 422)
        for a value that cannot be read or is out of range."""
        return parse_limits(base, **{field.flag: getattr(self, field.flag) for field in LIMIT_FIELDS}).validate()

    def request(self, user: str, base: Limits | None = None) -> RunRequest:
        return RunRequest(source=self.code, language=self.language, limits=self.limits(base), stdin=self.stdin,
                          user=user, origin="http", interactive=self.interactive,
                          expected_output=self.expected_output)


RunBody = create_model(
    "RunBody", __base__=_RunAsked, __doc__="A run, as the seeds asked for it (`{\"code\": ...}`) with our optional "
    "fields. The limits take the command line's names and units; left out, each has its default.",
    **_limits_asked())


class InputBody(BaseModel):
    """More of an interactive run's standard input."""
    model_config = ConfigDict(extra="forbid")
    text: str = Field("", max_length=1024 * 1024, description="Sent as it is (add the newline yourself).")
    eof: StrictBool = Field(False, description="Then end of file: the program reads no more.")

    @field_validator("text")
    @classmethod
    def _text_is_text(cls, text: str) -> str:
        return _encodable(text) or ""


LimitsOut = create_model("LimitsOut", **{field.key: (_ANSWERED_AS[field.kind], ...) for field in LIMIT_FIELDS})


Verdict = Literal["ok", "error", "timeout", "oom", "output_limit", "signal", "cancelled"]


def _data_model(kind: type[EventData], name: str, first: dict) -> type[BaseModel]:
    """A model of an event's data form (EventData.to_data), made from its dataclass
    (runner.events): a field or a kind added there is in the API and its schema with
    nothing written here."""
    hints = get_type_hints(kind)
    made = dict(first)
    for item in fields(kind):
        hint = LimitsOut if hints[item.name] is Limits else hints[item.name]
        default = ... if item.default is MISSING else item.default
        made[wire_name(item)] = (hint, Field(default, description=item.metadata.get("doc")))
    for derived, (hint, description) in kind.derived.items():
        made[derived] = (hint, Field(description=description))
    return create_model(name, __doc__=kind.__doc__, **made)


Wall = _data_model(Blocked, "Wall", {})

# A result's fields as the API types them where RunResult.to_dict() changes them: the
# verdict by its name, the limits and the walls as data. The rest keep RunResult's own types.
_AS_DATA = {"verdict": Verdict, "limits": LimitsOut, "blocked": list[Wall] | None, "walls_watched": list[str]}
# The seeds' two fields lead the answer, as the seeds' README shows it.
_FIRST = ("output", "error")


def _result_fields(*, optional: bool = False, leave_out=()) -> dict:
    """RunResult's fields, for pydantic's create_model: made from the dataclass, so that a
    field added to RunResult is in the API's answers, and its schema, with no second list
    here. optional: each may be null (a run that has not ended, or never could)."""
    hints = get_type_hints(RunResult)
    made = {}
    for field in sorted(fields(RunResult), key=lambda field: field.name not in _FIRST):
        if field.name in leave_out:
            continue
        kind = _AS_DATA.get(field.name, hints[field.name])
        if optional:
            made[field.name] = (kind | None, None)
        else:
            made[field.name] = (kind, ... if field.default is MISSING else field.default)
    return made


ResultFields = create_model("ResultFields", __doc__="A finished run: the seeds' `output` (stdout) and `error` "
                            "(stderr), and the rest: every field of RunResult, as RunResult.to_dict() gives it.",
                            **_result_fields())


class RunResponse(ResultFields):
    """POST /run's answer."""
    id: str

    @classmethod
    def of(cls, job_id: str, result: RunResult) -> "RunResponse":
        return cls(id=job_id, **result.to_dict())


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer: what is wrong, and what to do about it."""
    error: str
    fix: str | None = None


# --- the stream (POST /runs): one JSON object a line --------------------------------

NDJSON = "application/x-ndjson"


def _event_model(kind: type[EventData]) -> type[BaseModel]:
    """The stream's line for one kind of event: its data form, with the run's id."""
    return _data_model(kind, f"{kind.__name__}Event", {
        "event": (Literal[kind.kind], kind.kind), "id": (str, Field(description="The run's id."))})


class FinishedEvent(ResultFields):
    """The run ended: its result, every field of RunResult at the top level."""
    event: Literal["finished"] = "finished"
    id: str


StreamEvent = Union[tuple(FinishedEvent if kind is Finished else _event_model(kind)  # type: ignore[valid-type]
                          for kind in EVENT_KINDS.values())]


# --- reading runs back ----------------------------------------------------------------

State = Literal["queued", "running", "finished", "failed"]


class RunSummary(BaseModel):
    id: str
    state: State
    user: str
    origin: str
    language: str
    verdict: str | None = Field(None, description="A verdict, engine_error, or null while it waits or runs.")
    kill_reason: str | None = None
    exit_code: int | None = None
    duration_s: float | None = None
    peak_memory_bytes: int | None = None
    queued_at: float = Field(description="Unix time.")
    started_at: float | None = None
    finished_at: float | None = None


class _RunInfo(RunSummary):
    """What RunInfo says of its own; the rest of a result's fields come with RunInfo."""
    position: int | None = Field(None, description="Place in line while queued.")
    source: str
    limits: LimitsOut
    signal: str | None = None
    output: str = Field(description="stdout (so far, while it runs; capped in the history).")
    error: str = Field(description="stderr, likewise.")
    stdin: str = Field("", description="The program's standard input: what was given whole, then what was "
                                       "typed (an interactive run). Capped like the output.")
    truncated: bool = False
    cpu_seconds: float | None = None
    runtime: str


RunInfo = create_model("RunInfo", __base__=_RunInfo,
                       __doc__="One run in full: a live one (queued, running) or one from the history.",
                       **_result_fields(optional=True, leave_out=_RunInfo.model_fields))


class RunList(BaseModel):
    runs: list[RunSummary]


class LanguageOut(BaseModel):
    name: str
    aliases: list[str]
    extensions: list[str]
    compiled: bool


class EngineHealth(BaseModel):
    reachable: bool
    name: str | None = None
    runtimes: list[str] = []
    error: str | None = None
    fix: str | None = None


class QueueHealth(BaseModel):
    running: int
    queued: int
    cap: int


class FinishedHealth(BaseModel):
    """The finished runs the server still holds in memory; the older ones are read from the
    history."""
    runs: int
    bytes: int = Field(description="About what they hold: their programs, inputs and results.")
    budget_bytes: int = Field(description="The most they may hold (serve --finished-memory).")


class Health(BaseModel):
    ok: bool
    engine: EngineHealth
    images: dict[str, bool] = Field(description="Language -> its runner image is built.")
    queue: QueueHealth
    finished: FinishedHealth
    stopping: bool
    ceilings: dict
    uptime_s: float


# --- the class, for the teacher (GET /class) -------------------------------------------

# How a student is in the class: `serve --ssh` (a terminal) or `serve --web` (a browser tab).
ClassFront = Literal["ssh", "web"]


class ClassConnected(BaseModel):
    """One session in the class now: a student connected over SSH or in a browser."""
    user: str
    front: ClassFront = Field(description="How they are connected: ssh (serve --ssh) or web (serve --web).")
    address: str = Field(description="Where they connect from.")
    since: float = Field(description="Unix time their session began.")


class ClassRunning(BaseModel):
    """A student's run in its container now."""
    id: str = Field(description="DELETE /runs/{id} cancels it.")
    language: str
    started_at: float | None = Field(None, description="Unix time it left the queue.")
    elapsed_s: float = Field(description="Seconds since it left the queue (its container's start included), or "
                             "the program's own time at its last sample if that is more.")
    memory_bytes: int | None = Field(None, description="Its memory at the last sample (none before the first).")
    cpu_percent: float | None = None


class ClassStudent(BaseModel):
    user: str
    connected: bool = Field(description="Connected now, over SSH or in a browser.")
    fronts: list[ClassFront] = Field(default_factory=list, description="How they are connected now: ssh, web, "
                                     "or both (one entry per front, whatever their sessions); empty when not.")
    running: ClassRunning | None = Field(None, description="Their run in a container now (the longest running, "
                                         "when they have more than one).")
    running_count: int = Field(0, description="How many of their runs are in containers now.")
    queued: int = Field(description="Their runs waiting in the queue.")
    last_verdict: str | None = Field(None, description="How their last ended run ended (a verdict, or "
                                     "engine_error); null before their first.")
    last_kill_reason: str | None = None
    runs: int = Field(description="Their runs: ended ones (in the window) and live ones.")
    timeouts: int
    oom_kills: int
    walls: dict[str, int] = Field(default_factory=dict, description="The walls their ended runs (in the window) "
                                  "hit, by kind (network, filesystem, process, syscall): how many times.")


class ClassTotals(BaseModel):
    runs: int = Field(description="Every run: ended ones (in the window) and live ones.")
    timeouts: int
    oom_kills: int
    by_verdict: dict[str, int] = Field(description="The ended runs, by verdict (engine_error included).")
    walls: dict[str, int] = Field(default_factory=dict, description="The walls the ended runs hit, by kind: "
                                  "how many times.")


class ClassWorker(BaseModel):
    """One worker of a cluster (serve --broker), as its heartbeat last said."""
    name: str
    running: int = Field(description="Programs it runs now (taken ones count).")
    cap: int = Field(description="Its --max-running.")
    up: bool = Field(description="Its heartbeat is fresh; false once it is gone (stopped, killed, unreachable).")
    host: str | None = None
    runtimes: list[str] = Field(default_factory=list)


class ClassView(BaseModel):
    """The class, live: who is connected, who runs what, the queue, and what has happened."""
    connected: list[ClassConnected] = Field(description="Every session in the class now, over SSH and in "
                                            "browsers, in the order they began (empty without a class).")
    students: list[ClassStudent] = Field(description="Everyone connected, running, waiting, or with a run "
                                         "ended in the window, by name.")
    queue: QueueHealth
    totals: ClassTotals
    ssh: bool = Field(description="A class over SSH runs with this server (serve --ssh).")
    web: bool = Field(False, description="A class in the browser runs with this server (serve --web).")
    since: float = Field(description="The window's start (Unix time): ended runs count from here.")
    now: float = Field(description="The server's clock (Unix time) when this was taken.")
    workers: list[ClassWorker] = Field(default_factory=list, description="Every worker of the cluster, by "
                                       "name (empty on one host: serve without --broker).")
