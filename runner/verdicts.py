"""From what was observed about a run to one verdict and a sentence a student understands."""

from __future__ import annotations

import signal as signal_module
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .events import Verdict
from .units import format_seconds, format_size

if TYPE_CHECKING:
    from .events import RunResult

SIGNAL_MEANINGS = {
    "SIGSEGV": "segmentation fault: the program touched memory it does not own",
    "SIGABRT": "aborted: the program stopped itself after a failed check",
    "SIGFPE": "arithmetic error, such as an integer division by zero",
    "SIGBUS": "bus error: a bad memory access",
    "SIGILL": "illegal instruction",
    "SIGKILL": "killed outright",
    "SIGTERM": "asked to terminate",
    "SIGXFSZ": "a file grew past the file size limit",
    "SIGXCPU": "CPU time limit reached",
    "SIGPIPE": "wrote to a pipe nobody reads",
}


@dataclass(frozen=True)
class Observed:
    """The facts one run produced, wherever they came from (the init's record, Docker)."""
    exit_code: int | None          # the program's own exit status, if it exited
    signal_number: int | None      # the signal that ended it, if one did
    timed_out: bool
    oom_killed: bool               # the kernel's OOM killer acted in the container
    output_limited: bool
    cancelled: bool
    compile_failed: bool
    stderr_tail: str               # for language runtimes' own memory errors
    memory_limit: int
    timeout: float
    output_limit: int
    no_report: bool = False        # the init never reported: the sandbox itself died
    runtime: str = "runc"


def signal_name(number: int | None) -> str | None:
    if not number:
        return None
    try:
        return signal_module.Signals(number).name
    except ValueError:
        return f"signal {number}"


def decide(o: Observed) -> tuple[Verdict, str]:
    """The verdict and its reason. Order matters: what we did to the run comes first."""
    if o.cancelled:
        return Verdict.CANCELLED, "Stopped on request before it finished"
    if o.output_limited:
        return Verdict.OUTPUT_LIMIT, f"Output passed {format_size(o.output_limit)} and was cut off"
    if o.timed_out:
        return Verdict.TIMEOUT, f"Timed out after {format_seconds(o.timeout)} and was killed"
    if o.oom_killed:
        if o.signal_number == signal_module.SIGKILL or o.no_report:
            return Verdict.OOM, f"Out of memory: killed at the {format_size(o.memory_limit)} limit"
        return Verdict.OOM, (f"Out of memory: a process was killed at the {format_size(o.memory_limit)}"
                             f" limit (the program itself {_ending(o)})")
    if "JavaScript heap out of memory" in o.stderr_tail:
        return Verdict.OOM, ("Out of memory: Node.js reached its heap limit (sized to half of the "
                             f"{format_size(o.memory_limit)} limit) and stopped")
    if o.no_report:
        # What is known, not a guess at why: the init's end, and that the program's is not known.
        killer = signal_name(o.exit_code - 128) if o.exit_code is not None and o.exit_code > 128 else None
        how = f"its init was killed by {killer}" if killer else f"its init exited with {o.exit_code}"
        return Verdict.ERROR, (f"The sandbox stopped without a report (exit {o.exit_code}: {how}), so how "
                               "the program ended is not known")
    if o.compile_failed:
        if o.signal_number:
            return Verdict.SIGNAL, f"The compiler was killed by {signal_name(o.signal_number)}"
        return Verdict.ERROR, f"Compilation failed (the compiler exited with {o.exit_code})"
    if o.signal_number:
        name = signal_name(o.signal_number)
        meaning = SIGNAL_MEANINGS.get(name or "")
        return Verdict.SIGNAL, f"Killed by {name}" + (f" ({meaning})" if meaning else "")
    if o.exit_code == 0:
        return Verdict.OK, "Finished normally"
    if "MemoryError" in o.stderr_tail:
        return Verdict.ERROR, (f"Python raised MemoryError: the program asked for more memory than "
                               f"it could get (exit {o.exit_code})")
    if o.exit_code == 127 and "cannot start" in o.stderr_tail:
        return Verdict.ERROR, "The program could not be started (exit 127)"
    return Verdict.ERROR, f"Exited with status {o.exit_code}"


def _ending(o: Observed) -> str:
    if o.signal_number:
        return f"was killed by {signal_name(o.signal_number)}"
    return f"exited with {o.exit_code}"


def headline(result: "RunResult") -> str:
    """The verdict in a few capitals, as every front shows it: 'OK', 'ERROR (exit 1)',
    'SIGNAL (SIGSEGV)', 'OUTPUT LIMIT'."""
    word = result.verdict.value.upper().replace("_", " ")
    if result.verdict is Verdict.ERROR and result.exit_code is not None:
        word += f" (exit {result.exit_code})"
    elif result.verdict is Verdict.SIGNAL and result.signal:
        word += f" ({result.signal})"
    return word


def figures(result: "RunResult") -> str:
    """'0.12 s · peak 9.5 MiB': how long the program ran and the most memory it held, and
    how long the CPU limit held it back when that was long enough to notice."""
    parts = [f"{result.duration_s:.2f} s"]
    if result.peak_memory_bytes:
        parts.append(f"peak {format_size(result.peak_memory_bytes)}")
    if result.cpu_throttled_s is not None and result.cpu_throttled_s >= NOTICEABLE_THROTTLE_S:
        parts.append(f"held back {result.cpu_throttled_s:.2f} s by the CPU limit")
    return " · ".join(parts)


# Below this, throttling is the scheduler's noise, not the limit at work.
NOTICEABLE_THROTTLE_S = 0.05
