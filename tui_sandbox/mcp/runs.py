"""What the `run_code` tool does, without the protocol: the limits a call asks for,
refused over the operator's ceilings; the run, carried out in a thread and cancelled
when the call is; the answer in a few lines an agent reads; the languages.

    limits = limits_for(Ceilings(), memory="64m", timeout=2)
    result = await carry_out(Sandbox(), "print(1)", "python", limits)
    summary(result)         # 'OK: Finished normally · 0.03 s · peak 3.1 MiB'
"""

from __future__ import annotations

import asyncio
import threading

from runner import Engine, Finished, Limits, RunHandle, RunResult, Sandbox, SandboxError, describe, parse_limits
from runner.ceilings import Ceilings
from runner.verdicts import figures, headline

from ..remote import RemoteSandbox


def limits_for(ceilings: Ceilings, *, memory=None, cpus=None, pids=None, timeout=None, network=None,
               read_only=None) -> Limits:
    """The limits a call asks for, read as the CLI reads its flags, over the ceilings'
    defaults (what it does not name); raises LimitError, or CeilingExceeded naming the
    limit over its ceiling."""
    limits = parse_limits(ceilings.default_limits(), memory=memory, cpus=cpus, pids=pids, timeout=timeout,
                          network=network, read_only=read_only).validate()
    ceilings.check(limits)
    return limits


class _Carried:
    """One run between the event loop and its thread: a cancel from the loop reaches the
    run whether it has begun or is still being asked for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._run: RunHandle | None = None
        self._cancelled = False

    def begin(self, run: RunHandle) -> None:
        with self._lock:
            self._run = run
            cancelled = self._cancelled
        if cancelled:
            run.cancel()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            run = self._run
        if run is not None:
            run.cancel()


async def carry_out(engine: Engine, code: str, language: str, limits: Limits, stdin: str | None = None) -> RunResult:
    """The run's result; raises SandboxError (a bad language, no engine, a server's
    refusal). The engine's calls block, so they run in a thread; if this is cancelled
    (the client cancelled the call, or went away) the run is cancelled too, and its
    thread still reads it to its end, which removes its container."""
    carried = _Carried()

    def run_to_the_end() -> RunResult:
        try:
            run = engine.start(code, language, limits, stdin)
            carried.begin(run)
            for event in run.events():
                if isinstance(event, Finished):
                    return event.result
        except OSError as exc:   # the engine's connection broke (it restarted, or went away)
            raise SandboxError(f"the engine stopped answering during the run ({exc})",
                               "try again; if it persists, check the engine: tui-sandbox doctor") from None
        raise SandboxError("the run ended without a result")

    try:
        return await asyncio.to_thread(run_to_the_end)
    except asyncio.CancelledError:
        carried.cancel()
        raise


def summary(result: RunResult) -> str:
    """The verdict, why, and the figures, in one line: 'TIMEOUT: Timed out after 1 s and
    was killed · 1.00 s · peak 3.9 MiB'."""
    return f"{headline(result)}: {result.kill_reason} · {figures(result)}"


def answer_text(result: RunResult) -> str:
    """What the agent reads: the summary, then the program's output and error, each
    said to be empty rather than left out, so an empty output is never a doubt."""
    parts = [summary(result) + (" (output cut off)" if result.truncated else "")]
    parts += [f"wall: {describe(wall, result.limits)}" for wall in result.blocked or ()]
    for name, text in (("output", result.output), ("error", result.error)):
        parts.append(f"--- {name} ---\n{text.removesuffix(chr(10))}" if text else f"--- {name}: (none) ---")
    return "\n".join(parts)


def language_table(engine: Engine) -> list[dict]:
    """The languages the engine runs: name, aliases, file extensions, compiled or not.
    The local table is read here; a server is asked for its own. Blocks (a server)."""
    if isinstance(engine, RemoteSandbox):
        return engine.language_table()
    if isinstance(engine, Sandbox):
        return [{"name": lang.name, "aliases": sorted(lang.aliases),
                 "extensions": list(lang.extensions), "compiled": bool(lang.compile)}
                for lang in engine.languages.values()]
    raise SandboxError(f"cannot list the languages of {type(engine).__name__}")
