"""The service's jobs and the history's rows as the API shows them: a job's events as
the stream's lines, and a run (live, or read back from the history) as a RunSummary or
a RunInfo."""

from __future__ import annotations

from pydantic import BaseModel

from runner import Output, WireEvent

from ..history.store import KEPT_OUTPUT_CHARS, RunRecord
from .interface import Service
from .job import Job
from .models import RunInfo, RunSummary


def stream_event(job_id: str, event: WireEvent) -> dict:
    """A line of the stream (POST /runs), as the broker carries it too: the event's own
    data form (runner.events), its kind and the run's id first, for whoever reads the
    lines by eye (curl -N)."""
    data = event.to_data()
    return {"event": data.pop("event"), "id": job_id, **data}


def verdict_of(job: Job) -> str | None:
    """How the job ended: its result's verdict, engine_error, or None while it waits or runs."""
    if job.result is not None:
        return job.result.verdict.value
    return "engine_error" if job.failure is not None else None


def _position(job: Job, service: Service) -> int | None:
    if job.state != "queued":
        return None
    for position, waiting in enumerate(service.queue.order(), start=1):
        if waiting is job:
            return position
    return None


def live_summary(job: Job, service: Service) -> RunSummary:
    return _model(RunSummary, _live_fields(job, service))


def live_info(job: Job, service: Service) -> RunInfo:
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


def _live_fields(job: Job, service: Service) -> dict:
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
