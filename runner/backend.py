"""The boundary between a run and the engine that hosts its container.

Everything on this side of it is the same under every engine: the init's protocol
(protocol.py), the output budget (output.py), the stats of the init's samples
(stats.py), verdicts, limits and languages. A backend only makes containers that run
our init, carries bytes in and out of them, kills them and cleans up. Docker's is
runner/docker/; one pod per run on Kubernetes would be another package beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from .events import Stats, Stream
from .info import EngineInfo, ExitFacts
from .languages import Language
from .limits import Limits

__all__ = ["Backend", "Container", "EngineInfo", "ExitFacts", "HostStats", "ImageStatus", "Progress", "BUILD_IMAGES"]

Progress = Callable[[str], None]
# The fix for a missing image: offline works with or without a registry.
BUILD_IMAGES = "tui-sandbox images build --offline"


@dataclass(frozen=True)
class ImageStatus:
    """A language's runner image: which, and whether the engine has it."""
    language: str
    ref: str
    present: bool
    size_bytes: int | None


class HostStats(Protocol):
    """The engine's own view of a container's resources, for runtimes whose guest
    cannot read its cgroup (gVisor): it fills in what the init's samples lack."""
    peak: int | None

    def fill(self, stats: Stats) -> Stats: ...


class Container(Protocol):
    """One fresh container running our init, attached before it could write a byte."""
    id: str

    @property
    def host_stats(self) -> HostStats | None:
        """The engine's own figures, where the guest cannot read its cgroup; else None.
        (Read-only here, so that a backend may keep a HostStats of its own kind.)"""

    def start(self) -> None:
        """Start it (a warm spare is started already: then nothing happens)."""

    def send_input(self, data: bytes, end: bool = True) -> None:
        """Write to the init's standard input (the preamble and source first, then the
        program's input), in order, never blocking the caller; with end, end of file."""

    def close_input(self) -> None:
        """End of file on the program's standard input."""

    def read(self, timeout: float) -> list[tuple[Stream, bytes]] | None:
        """The next chunks as ("stdout" | "stderr", bytes); [] if none came within
        timeout; None once both streams have ended."""

    def kill(self) -> None:
        """Kill it, without waiting: the reader must go on draining meanwhile."""

    def exit_facts(self, init_reported: bool) -> ExitFacts:
        """After the end: what the engine knows (the init's own report came or not)."""

    def release(self) -> None:
        """Remove it and everything it had, off the caller's path."""


class Backend(Protocol):
    """The limits a backend is given name their runtime: Sandbox.check has made a runtime
    left to the engine (runtimes.AUTO) concrete before anything here sees them."""

    def info(self) -> EngineInfo: ...

    def known_info(self) -> EngineInfo | None:
        """The engine's facts if they are at hand without asking it (asked already), else None."""

    def check(self, limits: Limits) -> None:
        """Raise LimitError or RuntimeUnavailable if this engine cannot honour these limits."""

    def container(self, language: Language, limits: Limits) -> Container:
        """A container for one run: a warm spare when one matches, else a new one."""

    def warm(self, language: Language, limits: Limits) -> None:
        """Keep a spare ready for these exact settings (made in the background)."""

    def wait_for_cleanup(self, timeout: float) -> bool:
        """Block until finished runs' containers are removed; False if time ran out."""

    def close(self) -> None:
        """Remove spares and finished containers; wait for that to be done."""

    # What the fronts ask of the engine beside runs (the command line, doctor, /health, a
    # class): here, so that none of them reaches past this door into a backend's package.
    def images(self, languages: dict[str, Language]) -> list[ImageStatus]:
        """The runner images these languages need, built or not."""

    def build_images(self, languages: dict[str, Language], offline: bool, progress: Progress) -> list[str]:
        """Build the missing ones (and remove older builds); the refs built."""

    def reap_stale(self) -> list[str]:
        """Remove now the containers whose tui-sandbox process is gone; their ids."""

    def policy(self) -> str:
        """One line on the system-call policy runs get (doctor, the report's header)."""
