"""The history's writer on a front: every ended run's row comes through the broker's
results stream, and one front of the group writes each. A row a front took and did not
write (it was killed, its history was down) is taken again by any front a while later;
rows are written by id, so one written twice is still one row. A row the history holds
in memory (its disk is full) is left pending too: the broker keeps it, whatever becomes
of this front."""

from __future__ import annotations

import asyncio
import json
import logging

from .broker import HISTORY_GROUP, Broker
from .records import record_from_data

log = logging.getLogger("tui_sandbox.cluster")

RETAKE_AFTER_MS = 15_000


class HistoryWriter:
    def __init__(self, broker: Broker, history, consumer: str) -> None:
        self.broker, self.history, self.consumer = broker, history, consumer

    async def run(self) -> None:
        r, key = self.broker.redis, self.broker.keys.results
        while True:
            try:
                _next, stale, *_ = await r.xautoclaim(key, HISTORY_GROUP, self.consumer, RETAKE_AFTER_MS,
                                                      "0-0", count=100)
                await self._write(stale)
                answer = await r.xreadgroup(HISTORY_GROUP, self.consumer, {key: ">"}, count=100, block=1000)
                for _stream, entries in answer or []:
                    await self._write(entries)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the broker restarts (its group is made again)
                log.debug("history writer: %s", exc)
                await asyncio.sleep(0.5)
                try:
                    await self.broker.ensure_groups()
                except Exception:  # noqa: BLE001 - not back yet
                    pass

    async def _write(self, entries) -> None:
        r, key = self.broker.redis, self.broker.keys.results
        for entry_id, fields in entries:
            if fields and fields.get("record"):
                record = record_from_data(json.loads(fields["record"]))
                try:
                    if not await asyncio.to_thread(self.history.add, record):
                        continue               # held (the history said so): taken again later
                except Exception as exc:  # noqa: BLE001 - left pending: taken again later
                    log.error("could not write run %s to the history: %s", record.id, exc)
                    continue
            await r.xack(key, HISTORY_GROUP, entry_id)
            await r.xdel(key, entry_id)
