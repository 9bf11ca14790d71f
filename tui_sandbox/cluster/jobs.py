"""A run as a front follows it: the service's Job, its events read from the run's stream
in the broker (whichever worker runs it, whichever front accepted it), and its input
and cancel sent to that worker through the run's control stream."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from runner import Started, event_from_data

from ..service.job import Job, ServiceEvent
from ..service.requests import RunRequest
from .broker import Broker

log = logging.getLogger("tui_sandbox.cluster")
LOST_AFTER = 2       # empty reads (of 2 s) with the run gone from the broker before it is given up


class ClusterJob(Job):
    def __init__(self, request: RunRequest, run_id: str, broker: Broker, queued_at: float | None = None) -> None:
        super().__init__(request)
        self.id = run_id
        if queued_at is not None:
            self.queued_at = queued_at
        self._broker = broker
        self._outbox: asyncio.Queue = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._follow(), name=f"tui-sandbox-follow-{run_id}"),
                       asyncio.create_task(self._send(), name=f"tui-sandbox-send-{run_id}")]
        self.on_lost = None           # called with the job when the broker lost it

    def emit(self, event: ServiceEvent) -> None:
        if self.done:
            return                      # exactly one end, whoever tells it first
        if isinstance(event, Started):
            self.state, self.started_at = "running", time.time()
        super().emit(event)
        if self.done:
            for task in self._tasks:
                task.cancel()

    def _deliver(self, text: str, end: bool) -> None:
        """To the worker that has the run, or will have it: it reads them from the start."""
        self._outbox.put_nowait({"kind": "eof"} if end else {"kind": "input", "text": text})

    def request_cancel(self) -> None:
        super().request_cancel()
        self._outbox.put_nowait({"kind": "cancel"})

    async def _send(self) -> None:
        """Input and cancel in the order they were asked, to the worker that has the run
        (it reads them from the start, so what comes before it starts is kept)."""
        key = self._broker.keys.control(self.id)
        while True:
            fields = await self._outbox.get()
            while True:
                try:
                    await self._broker.redis.xadd(key, fields)
                    break
                except Exception:  # noqa: BLE001 - the broker restarts: wait it out
                    await asyncio.sleep(0.25)

    async def _follow(self) -> None:
        r, keys = self._broker.redis, self._broker.keys
        last, missing = "0", 0
        while not self.done:
            try:
                answer = await r.xread({keys.events(self.id): last}, block=2000, count=500)
                if not answer:
                    missing = 0 if await r.exists(keys.run(self.id)) else missing + 1
                    if missing >= LOST_AFTER and self.on_lost is not None:
                        self.on_lost(self)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the broker restarts: read on from where we were
                await asyncio.sleep(0.5)
                continue
            missing = 0
            for _stream, entries in answer:
                for entry_id, fields in entries:
                    last = entry_id
                    try:
                        event = event_from_data(json.loads(fields["e"]))
                    except ValueError as exc:     # a worker of another version than this front's
                        log.error("run %s: an event this front cannot read: %s", self.id, exc)
                        continue
                    self.emit(event)

    async def wait_quietly(self) -> None:
        """Until the run has ended, however it ended."""
        async for _ in self.events():
            pass

    def forget(self) -> None:
        for task in self._tasks:
            task.cancel()
