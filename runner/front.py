"""The engine's front door, as every front sees it: start a run, read its events, cancel
it, type into it, keep a spare warm, close. `runner.Sandbox` (the local engine) and
`tui_sandbox.remote.RemoteSandbox` (a `tui-sandbox serve` elsewhere) both declare these,
and so does anything else that carries runs out (a worker behind a broker), so the app,
the report and the command line work with any of them unchanged."""

from __future__ import annotations

from typing import Iterator, Protocol

from .events import Event
from .info import EngineInfo
from .languages import Language
from .limits import Limits


class RunHandle(Protocol):
    """One run, asked for and not yet begun: reading its events carries it out."""

    def events(self) -> Iterator[Event]:
        """Queued (behind a queue only), Started, Phase, Output, Stats, then exactly one
        Finished(result). Blocks: call from a thread."""
        ...

    def cancel(self) -> None:
        """Stop the run, from any thread: its Finished says cancelled."""
        ...

    def send_input(self, data: str | bytes) -> None:
        """More standard input, for an interactive run. Any thread; never blocks."""
        ...

    def close_input(self) -> None:
        """End of file on an interactive run's standard input."""
        ...


class Engine(Protocol):
    """Where runs are carried out."""

    @property
    def info(self) -> EngineInfo:
        """What the engine is and can enforce. Blocks the first time (it connects)."""
        ...

    def start(self, source: str | bytes, language: str | Language, limits: Limits | None = None,
              stdin: str | bytes | None = None, *, interactive: bool = False,
              expected_output: str | None = None) -> RunHandle:
        """Check the request and return the run, not yet begun; raises SandboxError. Its
        standard input is stdin then end of file, or, interactive, open for send_input
        until close_input. With expected_output its result says whether it gave it."""
        ...

    def warm(self, language: str | Language, limits: Limits | None = None) -> None:
        """Keep a spare ready for runs of exactly these settings. Never blocks, never
        raises: an engine that cannot only means no spare."""
        ...

    def wait_for_cleanup(self, timeout: float = 30) -> bool:
        """Block until finished runs' containers are removed; False if time ran out."""
        ...

    def close(self) -> None:
        """Let go of the engine and everything it holds. Safe to call twice."""
        ...
