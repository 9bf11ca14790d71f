"""Judge0's submissions are the service's own runs: a token is a run's id, a live one is
its Job, an ended one its history row (or its Job while the service keeps it). Each is
shown in Judge0's shape, its fields chosen with `fields=` and its text in Base64 when
asked, as Judge0's SubmissionSerializer does.

    submission = find(service, token, names)      # a Submission, or None
    submission.json(DEFAULT_FIELDS, base64_encoded=False)
"""

from __future__ import annotations

import base64
import signal as signal_module
import time
from dataclasses import dataclass

from runner import Limits, RunResult

from ..interface import Service
from .languages import Judge0Language
from .statuses import ACCEPTED, COMPILATION_ERROR, IN_QUEUE, PROCESSING, WRONG_ANSWER, status_id, status_json

# Judge0 CE 1.13.1's serializer: its columns (less id), then status and language.
FIELDS = ("source_code", "language_id", "stdin", "expected_output", "stdout", "status_id", "created_at",
          "finished_at", "time", "memory", "stderr", "token", "number_of_runs", "cpu_time_limit",
          "cpu_extra_time", "wall_time_limit", "memory_limit", "stack_limit", "max_processes_and_or_threads",
          "enable_per_process_and_thread_time_limit", "enable_per_process_and_thread_memory_limit",
          "max_file_size", "compile_output", "exit_code", "exit_signal", "message", "wall_time",
          "compiler_options", "command_line_arguments", "redirect_stderr_to_stdout", "callback_url",
          "additional_files", "enable_network", "status", "language")
DEFAULT_FIELDS = ("token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status")
# What Judge0 sends in Base64 when asked (message too, though its SDK does not decode it).
ENCODED = {"source_code", "stdin", "expected_output", "stdout", "stderr", "compile_output", "message"}


def requested_fields(text: str | None) -> tuple[tuple[str, ...], list[str]]:
    """(the fields to send, the ones asked for that do not exist), as Judge0's Fields."""
    asked = [name for name in (text or "").split(",") if name]
    invalid = [name for name in asked if name != "*" and name not in FIELDS]
    if "*" in asked:
        return FIELDS, invalid
    return tuple(name for name in asked if name not in invalid) or DEFAULT_FIELDS, invalid


@dataclass(frozen=True)
class Submission:
    token: str
    user: str
    state: str                      # queued, running, finished, failed
    language: str                   # ours
    language_id: int | None         # Judge0's (None: a language this server no longer has)
    language_name: str              # Judge0's, with the version
    source: str
    stdin: str | None
    expected_output: str | None
    limits: Limits
    result: RunResult | None
    failure: str | None             # why the engine could not carry it out
    created_at: float
    finished_at: float | None

    @property
    def done(self) -> bool:
        return self.state in ("finished", "failed")

    def json(self, fields: tuple[str, ...], *, base64_encoded: bool) -> dict:
        every = self._every_field()
        return {name: _encoded(every[name]) if base64_encoded and name in ENCODED else every[name]
                for name in fields}

    def _every_field(self) -> dict:
        result, limits = self.result, self.limits
        status = status_id(self.state, result)
        judge0_id = self.language_id
        ran = result is not None and status != COMPILATION_ERROR
        return {
            "source_code": self.source, "language_id": judge0_id, "stdin": self.stdin,
            "expected_output": self.expected_output,
            "stdout": (result.output or None) if ran else None,
            "stderr": (result.error or None) if ran else None,
            "compile_output": (result.error or None) if status == COMPILATION_ERROR else None,
            "status_id": status, "status": status_json(status),
            "created_at": _when(self.created_at), "finished_at": _when(self.finished_at),
            "time": _seconds(result.cpu_seconds) if ran else None,
            "wall_time": _seconds(result.duration_s) if ran else None,
            "memory": result.peak_memory_bytes // 1024 if ran and result.peak_memory_bytes else None,
            "exit_code": (result.exit_code or 0) if ran else None,
            "exit_signal": _signal_number(result.signal) if ran else None,
            "message": self._message(status),
            "token": self.token, "number_of_runs": 1,
            "cpu_time_limit": _seconds(limits.cpus * limits.timeout), "cpu_extra_time": "0.0",
            "wall_time_limit": _seconds(limits.timeout), "memory_limit": limits.memory // 1024,
            "stack_limit": None, "max_processes_and_or_threads": limits.pids,
            "enable_per_process_and_thread_time_limit": False, "enable_per_process_and_thread_memory_limit": False,
            "max_file_size": limits.file_size // 1024, "compiler_options": None, "command_line_arguments": None,
            "redirect_stderr_to_stdout": False, "callback_url": None, "additional_files": None,
            "enable_network": limits.network,
            "language": {"id": judge0_id, "name": self.language_name},
        }

    def _message(self, status: int) -> str | None:
        """Why it ended, where Judge0 would say something: our kill reason (a timeout, an
        OOM kill, an output flood, an exit), and for a wrong answer the first difference."""
        if self.failure is not None:
            return self.failure
        if self.result is None or status in (IN_QUEUE, PROCESSING, ACCEPTED, COMPILATION_ERROR):
            return None
        if status == WRONG_ANSWER:
            return self.result.first_difference
        return self.result.kill_reason


def find(service: Service, token: str, listed: list[Judge0Language]) -> Submission | None:
    """The run by its id: the service's Job while it has one (with the history's end time
    once it has ended), else the history's row. listed: this server's Judge0 languages."""
    known = {language.language: (language.id, language.name) for language in listed}

    def judge0(name: str) -> tuple[int | None, str]:
        return known.get(name, (None, name))

    job = service.get(token)
    record = service.history.get(token) if service.history is not None and (job is None or job.done) else None
    if job is not None:
        request = job.request
        language = service.sandbox.language(request.language).name
        return Submission(token=job.id, user=request.user, state=job.state, language=language,
                          language_id=judge0(language)[0], language_name=judge0(language)[1],
                          source=request.source,
                          stdin=request.stdin, expected_output=request.expected_output,
                          limits=job.result.limits if job.result is not None else request.limits,
                          result=job.result, failure=job.failure.message if job.failure else None,
                          created_at=job.queued_at,
                          finished_at=record.finished_at if record else time.time() if job.done else None)
    if record is None:
        return None
    result = record.result()
    return Submission(token=record.id, user=record.user, state="finished" if result else "failed",
                      language=record.language, language_id=judge0(record.language)[0],
                      language_name=judge0(record.language)[1],
                      source=record.source, stdin=record.stdin or None, expected_output=None,
                      limits=Limits.from_dict(record.limits), result=result,
                      failure=None if result else record.kill_reason, created_at=record.queued_at,
                      finished_at=record.finished_at)


def _encoded(value):
    """Ruby's Base64.encode64, as Judge0 sends it: lines of 60 characters, each ended."""
    if value is None:
        return None
    text = base64.b64encode(value.encode("utf-8")).decode("ascii")
    return "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60))


def _when(unix_time: float | None) -> str | None:
    """Judge0's timestamps: UTC, to the millisecond ("2024-05-01T12:00:00.123Z")."""
    if unix_time is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix_time)) + f".{int(unix_time % 1 * 1000):03d}Z"


def _seconds(value: float | None) -> str | None:
    """Judge0's decimals come as strings ("0.012")."""
    return None if value is None else f"{value:.3f}"


def _signal_number(name: str | None) -> int | None:
    number = getattr(signal_module.Signals, name, None) if name else None
    return int(number) if number is not None else None
