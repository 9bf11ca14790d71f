"""Every event kind through a real Redis, as a worker publishes it and a front follows
it (ClusterJob): the same events come out, in order. With the unit test of their data
form (tests/unit/test_event_data.py), a new kind cannot be dropped on the way."""

from __future__ import annotations

import asyncio

from runner import Failed, Finished
from tui_sandbox.cluster.broker import Broker
from tui_sandbox.cluster.jobs import ClusterJob
from tui_sandbox.service.requests import RunRequest
from tui_sandbox.service.views import stream_event

from ..unit.test_event_data import EVERY


async def follow(broker: Broker, run_id: str, events: list) -> list:
    job = ClusterJob(RunRequest("print(1)"), run_id, broker)
    following = job.events()        # as a client does, from before the first event
    *before, last = [stream_event(run_id, event) for event in events]
    await broker.publish(run_id, *before[:2])
    await broker.end(run_id, {"id": run_id}, last, tuple(before[2:]))
    async with asyncio.timeout(20):
        while not job.done:
            await asyncio.sleep(0.05)
    job.forget()
    return [event async for event in following]


async def test_every_kind_crosses_the_broker(redis_server):
    broker = Broker(redis_server.url)
    try:
        running = [event for event in EVERY if not isinstance(event, (Finished, Failed))]
        finished = next(event for event in EVERY if isinstance(event, Finished))
        failed = next(event for event in EVERY if isinstance(event, Failed))
        assert await follow(broker, "r1", [*running, finished]) == [*running, finished]
        assert await follow(broker, "r2", [*running, failed]) == [*running, failed]
    finally:
        await broker.close()


def test_walls_are_kept_and_tallied_in_postgresql(postgres):
    """The history's JSON columns and the teacher's tally of walls, on a real PostgreSQL
    (SQLite's are in tests/unit/test_result_data.py)."""
    from tui_sandbox.history.postgres import PostgresHistory
    from tui_sandbox.history.store import RunRecord

    from ..unit.test_result_data import sample

    history = PostgresHistory(postgres.new_database())
    try:
        result = sample()
        history.add(RunRecord.of_result(id="r1", user="ada", origin="app", source="x", result=result,
                                        queued_at=1.0, started_at=2.0))
        assert history.get("r1").result() == result
        [tally] = history.by_user()
        assert tally.walls == {"process": sum(wall.count for wall in result.blocked)}
    finally:
        history.close()
