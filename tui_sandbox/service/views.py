"""The service's jobs and the history's rows as the API shows them: a job's events as
the stream's lines, and a run (live, or read back from the history) as a RunSummary or
a RunInfo."""

from __future__ import annotations

from pydantic import BaseModel

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
    return _model(RunSummary, _live_fields(job, service))


def live_info(job: Job, service: SandboxService) -> RunInfo:
    request = job.request
    fields = _live_fields(job, service)
    if job.result is None:        # what it has said so far, under the limits it asked for
        outputs = {"stdout": [], "stderr": []}
        for event in job.log:
            if isinstance(event, Output):
                outputs[event.stream].append(event.text)
        output, error = ("".join(outputs[name])[:KEPT_OUTPUT_CHARS] for name in ("stdout", "stderr"))
        fields |= dict(output=output, error=error, limits=request.limits.to_dict(), runtime=request.limits.runtime)
    return RunInfo(**fields, position=_position(job, service), source=request.source,
                   stdin=job.given_input[:KEPT_OUTPUT_CHARS])


def _live_fields(job: Job, service: SandboxService) -> dict:
    """A job's own fields, then every one of its result's (RunResult.to_dict()) once it
    has one."""
    request = job.request
    fields = dict(id=job.id, state=job.state, user=request.user, origin=request.origin, verdict=verdict_of(job),
                  queued_at=job.queued_at, started_at=job.started_at)
    if job.result is not None:
        return fields | job.result.to_dict()
    return fields | dict(language=service.sandbox.language(request.language).name,
                         kill_reason=job.failure.message if job.failure else None)


def record_summary(record: RunRecord) -> RunSummary:
    return _model(RunSummary, _record_fields(record))


def record_info(record: RunRecord) -> RunInfo:
    return RunInfo(**_record_fields(record), source=record.source, stdin=record.stdin)


def _record_fields(record: RunRecord) -> dict:
    """A history row's own fields, then every one of its result's (RunResult.to_dict());
    an engine_error row has no result, and says what it can of its own."""
    result = record.result()
    fields = dict(id=record.id, state="finished" if result else "failed", user=record.user, origin=record.origin,
                  queued_at=record.queued_at, started_at=record.started_at, finished_at=record.finished_at)
    if result is not None:
        return fields | result.to_dict()
    return fields | dict(language=record.language, verdict=record.verdict, kill_reason=record.kill_reason,
                         limits=record.limits, runtime=record.runtime, output=record.output, error=record.error)


def _model(model: type[BaseModel], fields: dict) -> BaseModel:
    """The model from those of fields it has: a summary leaves the rest of a run out."""
    return model(**{name: value for name, value in fields.items() if name in model.model_fields})
