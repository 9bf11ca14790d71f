"""A Judge0 submission read as this server can honour it: its text (Base64 when asked),
its language by Judge0 id, and its limits onto ours. A field set to a value that would
change the run and that we cannot give is refused, never ignored: Judge0's own 422,
`{"field": ["why"]}`. The neutral values clients send (null, false, "", the defaults)
are accepted.

    ask = read_submission(body, base64_encoded=True, listed=languages, ceilings=..., base=...)
    ask.request(user)       # the RunRequest for the service
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass

from runner import Limits
from runner.sandbox import MAX_SOURCE_BYTES
from runner.units import KiB, format_size

from ..requests import Ceilings, RunRequest
from .languages import Judge0Language, by_id

TEXT_FIELDS = ("source_code", "stdin", "expected_output")
# Our limits are on the container as a whole (Judge0's cgroup mode), with none of these.
NOT_OFFERED = {
    "callback_url": "callbacks are not offered by this server: wait=true, or GET the submission",
    "additional_files": "additional files are not offered by this server: one source file is run",
    "command_line_arguments": "this engine passes no command-line arguments to the program",
    "stack_limit": "the stack size is not set per run on this server",
}


class FieldErrors(Exception):
    """Judge0's 422: each field refused, with why."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name} {', '.join(why)}" for name, why in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Ask:
    source: str
    language: Judge0Language
    stdin: str | None
    expected_output: str | None
    limits: Limits

    def request(self, user: str) -> RunRequest:
        return RunRequest(source=self.source, language=self.language.language, limits=self.limits,
                          stdin=self.stdin, user=user, origin="judge0", expected_output=self.expected_output)


def read_submission(body: object, *, base64_encoded: bool, listed: list[Judge0Language], ceilings: Ceilings,
                    base: Limits) -> Ask:
    """The submission, or FieldErrors naming every field refused."""
    if not isinstance(body, dict):
        raise FieldErrors({"submission": ["must be a JSON object"]})
    errors: dict[str, list[str]] = {}

    def refuse(name: str, why: str) -> None:
        errors.setdefault(name, []).append(why)

    texts = {name: _text(body.get(name), name, base64_encoded, refuse) for name in TEXT_FIELDS}
    source = texts["source_code"]
    if not source or not source.strip():
        refuse("source_code", "can't be blank")
    elif len(source.encode()) > MAX_SOURCE_BYTES:
        refuse("source_code", f"is over this server's {format_size(MAX_SOURCE_BYTES)}")
    language = _language(body.get("language_id"), listed, refuse)
    for name, why in NOT_OFFERED.items():
        if not _neutral(body.get(name)):
            refuse(name, why)
    for name in ("enable_per_process_and_thread_time_limit", "enable_per_process_and_thread_memory_limit",
                 "redirect_stderr_to_stdout"):
        if body.get(name) not in (None, False, "false"):
            refuse(name, "this option cannot be enabled" + (
                ": the engine keeps stdout and stderr apart, and not their lines' order between them"
                if name == "redirect_stderr_to_stdout" else ": the limits hold for the whole run here"))
    if body.get("number_of_runs") not in (None, 1, "1"):
        refuse("number_of_runs", "must be 1: each submission is run once here")
    if not _neutral(body.get("compiler_options")) and language is not None:
        refuse("compiler_options", "setting compiler options is only allowed for compiled languages"
               if not language.compile_cmd else f"the compile command is fixed here: {language.compile_cmd}")
    limits = _limits(body, ceilings, base, refuse)
    if errors:
        raise FieldErrors(errors)
    return Ask(source=source, language=language, stdin=texts["stdin"], expected_output=texts["expected_output"],
               limits=limits)


def _text(value, name: str, base64_encoded: bool, refuse) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        refuse(name, "must be a string")
        return None
    if not base64_encoded:
        return value
    try:
        return base64.b64decode(value).decode("utf-8")
    except (binascii.Error, ValueError):
        refuse(name, "is not valid Base64" if _not_base64(value) else "is not UTF-8 text once decoded")
        return None


def _not_base64(value: str) -> bool:
    try:
        base64.b64decode(value)
    except (binascii.Error, ValueError):
        return True
    return False


def _language(value, listed: list[Judge0Language], refuse) -> Judge0Language | None:
    if value is None or value == "":
        refuse("language_id", "can't be blank")
        return None
    number = _number(value)
    language = by_id(listed, int(number)) if number is not None and number == int(number) else None
    if language is None:
        offered = ", ".join(f"{one.id} ({one.name})" for one in listed)
        refuse("language_id", f"language with id {value} doesn't exist here: this server offers {offered}")
    return language


def _limits(body: dict, ceilings: Ceilings, base: Limits, refuse) -> Limits:
    """Judge0's limits onto ours: seconds of wall clock, KB of memory and of file size,
    processes, the network. Over this server's ceiling is refused, as over Judge0's max."""
    changes: dict = {}
    # (Judge0's name, ours, its unit in bytes or 1, the least, the most here)
    for name, ours, unit, least, most in (
            ("wall_time_limit", "timeout", 1, 1, ceilings.timeout),
            ("memory_limit", "memory", KiB, 2048, ceilings.memory // KiB),
            ("max_processes_and_or_threads", "pids", 1, 2, ceilings.pids),
            ("max_file_size", "file_size", KiB, 1, base.file_size // KiB)):
        value = body.get(name)
        if value is None:
            continue
        number = _number(value)
        if number is None:
            refuse(name, "is not a number")
        elif number < least:
            refuse(name, f"must be greater than or equal to {least:g}")
        elif number > most:
            refuse(name, f"must be less than or equal to {most:g} (this server's most)")
        else:
            changes[ours] = number * unit if ours == "timeout" else int(number * unit)
    network = body.get("enable_network")
    if network not in (None, False, "false"):
        if ceilings.network:
            changes["network"] = True
        else:
            refuse("enable_network", "enabling network is not allowed")
    limits = base.with_(**changes)
    # A CPU-seconds limit this server cannot set: accepted where it could never be reached
    # (the CPU share over the wall clock gives less), refused where it would bind.
    cpu = body.get("cpu_time_limit")
    if cpu is not None:
        number, reachable = _number(cpu), limits.cpus * limits.timeout
        if number is None:
            refuse("cpu_time_limit", "is not a number")
        elif number < reachable:
            refuse("cpu_time_limit", f"is not enforced here: this server limits the wall clock "
                   f"(wall_time_limit, {limits.timeout:g} s) and a CPU share ({limits.cpus:g}), so a run uses "
                   f"{reachable:g} s of CPU at most; send wall_time_limit instead, or at least {reachable:g}")
    extra = body.get("cpu_extra_time")
    if extra is not None and (_number(extra) is None or _number(extra) < 0):
        refuse("cpu_extra_time", "must be a number greater than or equal to 0")
    return limits


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _neutral(value) -> bool:
    return value is None or value is False or (isinstance(value, str) and not value.strip())
