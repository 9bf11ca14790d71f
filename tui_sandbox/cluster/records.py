"""A cluster run's end as data: its history row with the worker that ran it, and the
end of a run that no engine could give (its worker died, or the broker lost it)."""

from __future__ import annotations

import dataclasses
import time

from ..history.store import RunRecord
from ..service.outcomes import record_of
from .broker import Broker, request_from_json


def with_worker(record: RunRecord, worker: str | None) -> RunRecord:
    """The row, saying which worker ran it (where the history keeps that)."""
    if worker and "worker" in {f.name for f in dataclasses.fields(RunRecord)}:
        return dataclasses.replace(record, worker=worker)
    return record


def record_from_data(data: dict) -> RunRecord:
    known = {f.name for f in dataclasses.fields(RunRecord)}
    return RunRecord(**{key: value for key, value in data.items() if key in known})


async def fail_run(broker: Broker, run_id: str, worker: str | None, message: str, fix: str | None) -> bool:
    """End a run that will get no result from an engine: engine_error with message, in
    the history and for every front that follows it. False if it had ended already."""
    fields = await broker.redis.hgetall(broker.keys.run(run_id))
    if not fields or fields.get("state") == "ended":
        return False
    request = request_from_json(fields["request"])
    started_at = float(fields["started_at"]) if fields.get("started_at") else None
    record = record_of(run_id, request, queued_at=float(fields.get("queued_at") or time.time()),
                       started_at=started_at, stdin=request.stdin or "", failure_message=message)
    event = {"event": "failed", "id": run_id, "error": message, "fix": fix}
    await broker.end(run_id, with_worker(record, worker).to_dict(), event)
    return True
