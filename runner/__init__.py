"""The tui-sandbox engine: runs a program in a fresh, hardened, disposable container
and says exactly what happened. It never imports Textual: the app, the command line
and scripts all stand on it alike."""

from .container import ContainerRun
from .engine import EngineInfo, Sandbox, connect, reap_stale_containers
from .errors import (EngineUnavailable, ImageMissing, LanguageError, LimitError, RuntimeUnavailable,
                     SandboxError, SourceError)
from .events import Event, Finished, Output, Phase, RunResult, Started, Stats, Verdict
from .languages import BUILTIN, Language, for_filename, load_languages, resolve
from .limits import Limits, format_size, parse_limits, parse_size

__all__ = [
    "BUILTIN", "ContainerRun", "EngineInfo", "EngineUnavailable", "Event", "Finished", "ImageMissing",
    "Language", "LanguageError", "LimitError", "Limits", "Output", "Phase", "RunResult",
    "RuntimeUnavailable", "Sandbox", "SandboxError", "SourceError", "Started", "Stats", "Verdict",
    "connect", "for_filename", "format_size", "load_languages", "parse_limits", "parse_size",
    "reap_stale_containers", "resolve",
]
