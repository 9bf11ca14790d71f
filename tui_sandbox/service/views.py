"""The service's jobs and the history's rows as the API shows them: a job's events as
the stream's lines, and a run (live, or read back from the history) as a RunSummary or
a RunInfo."""

from __future__ import annotations

from runner import Finished, Output, Phase, Queued, Started, Stats

from ..history.store import KEPT_OUTPUT_CHARS, RunRecord
from .core import Failed, Job, SandboxService, ServiceEvent
from .models import (
    FailedEvent,
    FinishedEvent,
    OutputEvent,
    PhaseEvent,
    QueuedEvent,
    RunInfo,
    RunSummary,
    StartedEvent,
    StatsEvent,
    StreamEvent,
)


def stream_event(job_id: str, event: ServiceEvent) -> StreamEvent:
    if isinstance(event, Queued):
        return QueuedEvent(id=job_id, position=event.position, running=event.running, cap=event.cap,
                           message=event.message)
    if isinstance(event, Started):
        return StartedEvent(id=job_id, container_id=event.container_id, language=event.language, runtime=event.runtime,
                            limits=event.limits.to_dict())
    if isinstance(event, Phase):
        return PhaseEvent(id=job_id, name=event.name)
    if isinstance(event, Output):
        return OutputEvent(id=job_id, stream=event.stream, text=event.text)
    if isinstance(event, Stats):
        return StatsEvent(id=job_id, elapsed_s=event.elapsed_s, cpu_percent=event.cpu_percent,
                          memory_bytes=event.memory_bytes, pids=event.pids,
                          reading_input=getattr(event, "reading_input", None))
    if isinstance(event, Finished):
        return FinishedEvent(id=job_id, **event.result.to_dict())
    if isinstance(event, Failed):
        return FailedEvent(id=job_id, error=event.message, fix=event.fix)
    raise TypeError(f"no stream event for {event!r}")


def verdict_of(job: Job) -> str | None:
    """How the job ended: its result's verdict, engine_error, or None while it waits or runs."""
    if job.result is not None:
        return job.result.verdict.value
    return "engine_error" if job.failure is not None else None


def _position(job: Job, service: SandboxService) -> int | None:
    if job.state != "queued":
        return None
    for position, waiting in enumerate(service.queue.order(), start=1):
        if waiting is job:
            return position
    return None


def live_summary(job: Job, service: SandboxService) -> RunSummary:
    return RunSummary(**_live_fields(job, service, summary=True))


def live_info(job: Job, service: SandboxService) -> RunInfo:
    return RunInfo(**_live_fields(job, service, summary=False))


def _live_fields(job: Job, service: SandboxService, summary: bool) -> dict:
    request, result = job.request, job.result
    fields = dict(id=job.id, state=job.state, user=request.user, origin=request.origin,
                  language=result.language if result else service.sandbox.language(request.language).name,
                  verdict=verdict_of(job), queued_at=job.queued_at, started_at=job.started_at,
                  kill_reason=result.kill_reason if result else (job.failure.message if job.failure else None),
                  exit_code=result.exit_code if result else None,
                  duration_s=result.duration_s if result else None,
                  peak_memory_bytes=result.peak_memory_bytes if result else None)
    if summary:
        return fields
    outputs = {"stdout": [], "stderr": []}
    for event in job.log:
        if isinstance(event, Output):
            outputs[event.stream].append(event.text)
    output, error = ("".join(outputs[name])[:KEPT_OUTPUT_CHARS] for name in ("stdout", "stderr"))
    return fields | dict(position=_position(job, service), source=request.source,
                         limits=request.limits.to_dict(), signal=result.signal if result else None,
                         output=result.output if result else output, error=result.error if result else error,
                         stdin=job.given_input[:KEPT_OUTPUT_CHARS],
                         truncated=result.truncated if result else False,
                         cpu_seconds=result.cpu_seconds if result else None, runtime=request.limits.runtime)


def record_summary(record: RunRecord) -> RunSummary:
    return RunSummary(**_record_fields(record, summary=True))


def record_info(record: RunRecord) -> RunInfo:
    return RunInfo(**_record_fields(record, summary=False))


def _record_fields(record: RunRecord, summary: bool) -> dict:
    state = "failed" if record.verdict == "engine_error" else "finished"
    fields = dict(id=record.id, state=state, user=record.user, origin=record.origin, language=record.language,
                  verdict=record.verdict, kill_reason=record.kill_reason, exit_code=record.exit_code,
                  duration_s=record.duration_s, peak_memory_bytes=record.peak_memory_bytes,
                  queued_at=record.queued_at, started_at=record.started_at, finished_at=record.finished_at)
    if summary:
        return fields
    return fields | dict(source=record.source, limits=record.limits, signal=record.signal, output=record.output,
                         error=record.error, stdin=record.stdin, truncated=record.truncated,
                         cpu_seconds=record.cpu_seconds, runtime=record.runtime)
