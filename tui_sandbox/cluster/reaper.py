"""What a worker that died leaves in the broker, settled by whoever sees it first (a
worker or a front): the runs it had taken and not started go back to the head of their
lines, and those it had started end with engine_error naming it (their containers end
by their init's own deadline, and that host's next worker sweeps them)."""

from __future__ import annotations

import logging
import os
import socket
import time

from .broker import WORKERS_GROUP, Broker
from .records import fail_run

log = logging.getLogger("tui_sandbox.cluster")

REAP_LOCK_S = 30


async def reap_gone_workers(broker: Broker, me: str) -> list[str]:
    """Settle every worker whose heartbeat has lapsed; the names settled."""
    settled = []
    for name, figures in (await broker.workers()).items():
        if not figures["up"] and not figures.get("gone_at") and name != me:
            if await settle(broker, name, me, "stopped answering"):
                settled.append(name)
    return settled


async def settle(broker: Broker, name: str, me: str, what: str) -> bool:
    """Settle worker `name`'s runs (what: how it went, for the reason). False if another
    is settling it already."""
    r, k = broker.redis, broker.keys
    if not await r.set(f"{k.prefix}:settling:{name}", me, nx=True, ex=REAP_LOCK_S):
        return False
    requeued = 0
    while pending := await r.xpending_range(k.work, WORKERS_GROUP, "-", "+", 100, consumername=name):
        ids = [entry["message_id"] for entry in pending]
        for _entry_id, fields in await r.xclaim(k.work, WORKERS_GROUP, me, 0, ids):
            run_id = (fields or {}).get("id")
            user = run_id and await r.hget(k.run(run_id), "user")
            if user:
                await broker.requeue(run_id, user)
                requeued += 1
        await r.xack(k.work, WORKERS_GROUP, *ids)
        await r.xdel(k.work, *ids)
    started = await r.smembers(k.worker_runs(name))
    for run_id in started:
        await fail_run(broker, run_id, name, f"the worker {name} {what} during the run (its process or its "
                       "host died)", "run it again: another worker takes it")
    await r.delete(k.worker_runs(name))
    try:
        await r.xgroup_delconsumer(k.work, WORKERS_GROUP, name)
    except Exception:  # noqa: BLE001 - no such consumer (it never took a run)
        pass
    figures = await r.hget(k.workers, name)
    if figures is not None:
        import json

        await r.hset(k.workers, name, json.dumps({**json.loads(figures), "gone_at": time.time()}))
    if requeued or started:
        log.warning("worker %s %s: %d run(s) it had taken went back to the queue, %d it ran ended as "
                    "engine_error", name, what, requeued, len(started))
    return True


def here() -> dict:
    """Who this process is, for the registry: a worker restarted on the same host can tell
    its dead predecessor (settle it) from a live namesake (refuse to start)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def is_predecessor(figures: dict) -> bool:
    """Registered by a process of this host that is no longer running."""
    if figures.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(figures.get("pid") or 0), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return int(figures.get("pid") or 0) == os.getpid()
