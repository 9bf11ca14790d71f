"""The tui-sandbox engine: runs a program in a fresh, hardened, disposable container
and says exactly what happened. It never imports Textual or any server library: the
app, the command line, the service and scripts all stand on it alike.

The engine-neutral parts are here (limits, languages, events, the init's protocol, the
output budget, verdicts); what speaks Docker is the backend in runner/docker/."""

from .backend import Backend, Container
from .errors import (
                     EngineUnavailable,
                     ImageMissing,
                     LanguageError,
                     LimitError,
                     RuntimeUnavailable,
                     SandboxError,
                     SourceError,
)
from .events import (
    EVENT_KINDS,
    Blocked,
    Event,
    EventData,
    Failed,
    Finished,
    Output,
    Phase,
    Queued,
    RunResult,
    Started,
    Stats,
    Verdict,
    WireEvent,
    event_from_data,
)
from .front import Engine, RunHandle
from .info import EngineInfo
from .languages import BUILTIN, Language, for_filename, load_languages, resolve
from .limits import Limits, parse_limits
from .run import Run
from .sandbox import Sandbox
from .units import format_size, parse_size
from .verdicts import figures, headline
from .walls import WALL_KINDS, count_line, describe, not_watched

__all__ = [
    "BUILTIN", "Blocked", "EVENT_KINDS", "EventData", "Failed", "WireEvent", "event_from_data",
    "Backend", "Container", "Engine", "EngineInfo", "EngineUnavailable", "Event", "Finished",
    "ImageMissing", "Language", "LanguageError", "LimitError", "Limits", "Output", "Phase", "Queued", "Run",
    "RunHandle", "RunResult", "RuntimeUnavailable", "Sandbox", "SandboxError", "SourceError", "Started", "Stats",
    "Verdict", "figures", "for_filename", "format_size", "headline", "load_languages", "parse_limits",
    "parse_size", "resolve", "WALL_KINDS", "count_line", "describe", "not_watched",
]
