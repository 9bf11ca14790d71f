"""Piston's answer to an execute, made from the job's events: `run`, and `compile` for a
compiled language, each stage with stdout, stderr, output, code, signal, message,
status, cpu_time and wall_time (ms) and memory (peak bytes). How our verdicts become
Piston's statuses is in the package's docstring.

    answer = await piston_answer(job, ask)      # {"language", "version", "run", "compile"?}
"""

from __future__ import annotations

import time

from runner import Failed, Finished, Output, Phase, RunResult, Stats, Verdict

from ..core import Job
from .errors import PistonError
from .request import Ask

STATUS = {Verdict.OK: None, Verdict.ERROR: "RE", Verdict.TIMEOUT: "TO", Verdict.SIGNAL: "SG",
          Verdict.OOM: "SG", Verdict.OUTPUT_LIMIT: "OL", Verdict.CANCELLED: "XX"}


async def piston_answer(job: Job, ask: Ask) -> dict:
    """Piston's result from the job's events: its output split at the compile's end.

    The compile's end is a record on stderr, so stderr splits exactly there; stdout is
    read apart from it and may come before or after, so all of it is the run's (gcc
    writes nothing to stdout)."""
    pieces: list[tuple[str, str, str]] = []     # (stage, stream, text), as they came
    stage, compiled, ran = "run", False, False
    compile_began = compile_ended = None
    compile_peak: int | None = None
    result: RunResult | None = None
    failure: Failed | None = None
    async for event in job.events():
        if isinstance(event, Phase):
            if event.name == "compiling":
                stage, compiled, compile_began = "compile", True, time.monotonic()
            elif event.name == "running":
                stage, ran, compile_ended = "run", True, time.monotonic()
        elif isinstance(event, Output):
            pieces.append((stage, event.stream, event.text))
        elif isinstance(event, Stats):
            if stage == "compile" and event.memory_bytes:
                compile_peak = max(compile_peak or 0, event.memory_bytes)
        elif isinstance(event, Finished):
            result = event.result
        elif isinstance(event, Failed):
            failure = event
    if failure is not None or result is None:
        # The engine could not carry the run out (no engine, an image not built): the
        # server is at fault, not the program, so no result is made up for it.
        raise PistonError(503, failure.message if failure else "the run ended without a result",
                          failure.fix if failure else None)
    answer: dict = {"language": ask.language, "version": ask.version}
    if compiled and (result.compile_failed or not ran):
        # The compile ended the job: its stage is the result, and the run never began.
        answer["compile"] = answer["run"] = _ended([(stream, text) for _, stream, text in pieces], result)
        return answer
    if compiled:
        wall = compile_ended - compile_began if compile_began and compile_ended else None
        compile_pieces = [(stream, text) for at, stream, text in pieces if at == "compile" and stream == "stderr"]
        answer["compile"] = _stage(compile_pieces, code=0, signal=None, message=None, status=None,
                                   cpu_time=None, wall_time=_ms(wall), memory=compile_peak)
    answer["run"] = _ended([(stream, text) for at, stream, text in pieces
                            if at == "run" or stream == "stdout" or not compiled], result)
    return answer


def _ended(pieces: list[tuple[str, str]], result: RunResult) -> dict:
    """The stage that ended the job, its figures from the result's data."""
    data = result.to_dict()
    verdict, signal, code = result.verdict, data["signal"], data["exit_code"]
    status = STATUS[verdict]
    if verdict is Verdict.OOM and signal is None and code not in (None, 0):
        status = "RE"        # a process of its own was killed; the program itself then exited
    elif verdict is Verdict.OUTPUT_LIMIT and pieces and pieces[-1][0] == "stderr":
        status = "EL"
    if status in ("TO", "OL", "EL") or (status == "SG" and signal is None and code is None):
        signal = "SIGKILL"
    return _stage(pieces, code=code, signal=signal, message=data["kill_reason"] if status else None,
                  status=status, cpu_time=_ms(data["cpu_seconds"]), wall_time=_ms(data["duration_s"]),
                  memory=data["peak_memory_bytes"])


def _stage(pieces: list[tuple[str, str]], **figures) -> dict:
    return {"stdout": "".join(text for stream, text in pieces if stream == "stdout"),
            "stderr": "".join(text for stream, text in pieces if stream == "stderr"),
            "output": _interleaved(pieces), **figures}


def _interleaved(pieces: list[tuple[str, str]]) -> str:
    """Both streams in the order their lines were finished: a stream's unfinished line
    waits for its end, so a line is never torn by the other stream (print() writes the
    text and its newline apart)."""
    out: list[str] = []
    pending = {"stdout": "", "stderr": ""}
    for stream, text in pieces:
        held = pending[stream] + text
        cut = held.rfind("\n") + 1
        out.append(held[:cut])
        pending[stream] = held[cut:]
    return "".join(out) + pending["stdout"] + pending["stderr"]


def _ms(seconds: float | None) -> int | None:
    return round(seconds * 1000) if seconds is not None else None
