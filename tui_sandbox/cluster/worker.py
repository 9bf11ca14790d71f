"""`tui-sandbox worker`: one Docker host's part of a cluster. It owns the host's engine,
its cap and its warm spares; it takes runs from the broker's fair queue while it has a
free place, carries each out on its engine, and sends every event back through the
broker. It needs no inbound port.

    worker = Worker("redis://broker:6379/0", name="gpu-1", max_running=4)
    await worker.serve()        # until stop(): SIGTERM drains, then leaves the group

A run it has taken stays pending on it in the work stream until it starts, so if this
process dies before then, another takes it (reaper.py); one it has started is its own,
and ends as engine_error naming it if it dies. A dropped broker connection is retried
(events wait meanwhile), so a Redis restart costs a pause, not a result: while the
broker is away the worker says so once on stderr, its runs go on (their containers
end and go as always), and their results are handed over when it is back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
import time

from runner import Failed, Finished, Sandbox, SandboxError
from runner.runtimes import AUTO, default_name

from ..service.core import host_sandbox
from ..service.outcomes import record_of
from ..service.requests import RunRequest
from ..service.views import stream_event
from .broker import ALIVE_S, HEARTBEAT_S, WORKERS_GROUP, Broker, BrokerError, Taken, request_from_json
from .outage import Outage, is_outage
from .reaper import here, is_predecessor, reap_gone_workers, settle
from .records import with_worker

log = logging.getLogger("tui_sandbox.cluster")

RETRY_FOR_S = 120          # how long a call the broker refuses (not an outage) is tried again
LEAVING_S = 30             # on SIGTERM, how long cancelled runs may take to end and be told


class Carried:
    """One run this worker has taken: its request, its engine run once begun, what was typed."""

    def __init__(self, run_id: str, entry_id: str, request: RunRequest, queued_at: float) -> None:
        self.id, self.entry_id, self.request, self.queued_at = run_id, entry_id, request, queued_at
        self.started_at: float | None = None
        self.run = None
        self.ended = False         # its end is known here (told to the broker, or waiting to be)
        self.typed: list[str] = []

    @property
    def given_input(self) -> str:
        return (self.request.stdin or "") + "".join(self.typed)

    def apply(self, fields: dict) -> None:
        """One ask from the control stream: cancel, more input, or its end."""
        kind, run = fields.get("kind"), self.run
        try:
            if kind == "cancel":
                run.cancel()
            elif kind == "input":
                self.typed.append(fields.get("text", ""))
                run.send_input(fields.get("text", ""))
            elif kind == "eof":
                run.close_input()
        except (ValueError, OSError):
            pass   # input to a run that is not interactive, or has ended


class Worker:
    def __init__(self, broker_url: str, *, name: str, max_running: int, runtimes: tuple[str, ...] = (),
                 drain_s: float = 10.0, sandbox: Sandbox | None = None) -> None:
        self.broker = Broker(broker_url)
        self.name, self.cap, self.drain_s = name, max_running, drain_s
        self.sandbox = sandbox or host_sandbox(max_running)
        self.runtimes = runtimes
        self.default_runtime: str | None = None   # for runs naming none; None: it takes none
        self.carried: dict[str, Carried] = {}
        self.busy = 0              # places taken: a run counts from when it is taken, not when it is read
        self._tasks: set[asyncio.Task] = set()
        self._stopping, self._freed = asyncio.Event(), asyncio.Event()
        self.outage = Outage(broker_url, f"tui-sandbox worker {name}", "the runs under way go on and their "
                             "results wait here; no new runs are taken until it is back")
        self.started_at = time.time()

    # --- life ------------------------------------------------------------------------

    async def serve(self, ready=None) -> None:
        """Join the cluster and take runs until stop(); raises BrokerError or SandboxError
        (no broker, no engine) before it takes any."""
        await self.broker.check()
        info = await asyncio.to_thread(lambda: self.sandbox.info)
        self.runtimes = self.runtimes or tuple(sorted(info.runtimes))
        self.default_runtime = default_name(self.runtimes)
        await self.broker.ensure_groups()
        await self._take_over_my_name()
        await self._beat()
        if ready is not None:
            ready(self)
        loops = [asyncio.create_task(coro) for coro in (self._heartbeat(), self._take_runs())]
        await self._stopping.wait()
        await self._drain(loops)

    def stop(self) -> None:
        """Take no more runs; serve() then finishes or cancels what runs and returns."""
        self._stopping.set()
        self._freed.set()

    async def _take_over_my_name(self) -> None:
        figures = (await self.broker.workers()).get(self.name)
        if figures is None:
            return
        if figures["up"] and not is_predecessor(figures):
            raise BrokerError(f"a worker named {self.name} is already up (on {figures.get('host')}, pid "
                              f"{figures.get('pid')}): give this one another --name")
        # A predecessor of ours that died (SIGKILL, a crash): settle what it left, now.
        await self.broker.redis.delete(f"{self.broker.keys.prefix}:settling:{self.name}")
        await settle(self.broker, self.name, self.name, "was killed")

    async def _drain(self, loops: list[asyncio.Task]) -> None:
        for task in loops:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.drain_s)
        for carried in list(self.carried.values()):
            if carried.run is not None:
                carried.run.cancel()
        deadline = time.monotonic() + LEAVING_S
        # With the broker away, a run that has ended waits only for it: no use waiting long.
        while self._tasks and time.monotonic() < deadline and not (
                self.outage.since is not None and all(c.ended for c in self.carried.values())):
            await asyncio.wait(self._tasks, timeout=0.25)
        if self._tasks:
            untold = sorted(self.carried)
            log.warning("tui-sandbox worker %s: leaving with the broker away: the end of %d run(s) (%s) could "
                        "not be handed over; they are lost", self.name, len(untold), ", ".join(untold))
            for task in list(self._tasks):
                task.cancel()
        await asyncio.to_thread(self.sandbox.close)       # every container and spare removed
        r, k = self.broker.redis, self.broker.keys
        try:
            await r.xgroup_delconsumer(k.work, WORKERS_GROUP, self.name)
            await r.hdel(k.workers, self.name)
            await r.delete(k.alive(self.name), k.worker_runs(self.name))
        except Exception as exc:  # noqa: BLE001 - the broker is gone too: its entry lapses by itself
            log.warning("tui-sandbox worker %s: could not leave the broker's group (%s): its entry lapses by "
                        "itself", self.name, str(exc).strip().splitlines()[0])
        await self.broker.close()

    # --- loops ----------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        while True:
            try:
                await self._beat()
                self.outage.answered()
                await reap_gone_workers(self.broker, self.name)
            except Exception as exc:  # noqa: BLE001 - the broker restarts: beat again in a moment
                if not self.outage.failed(exc):
                    log.debug("heartbeat: %s", exc)
            await asyncio.sleep(HEARTBEAT_S)

    async def _beat(self) -> None:
        r, k = self.broker.redis, self.broker.keys
        figures = {**here(), "cap": self.cap, "running": self.busy, "runtimes": list(self.runtimes),
                   "default_runtime": self.default_runtime, "started_at": self.started_at, "seen_at": time.time()}
        async with r.pipeline(transaction=False) as pipe:
            pipe.set(k.alive(self.name), "1", px=int(ALIVE_S * 1000))
            pipe.hset(k.workers, self.name, json.dumps(figures))
            await pipe.execute()
        # What a broker that lost its data (a restart without persistence) must know
        # again of the runs under way here.
        await self.broker.remember(self.name, [c.id for c in self.carried.values() if c.started_at is not None])

    async def _take_runs(self) -> None:
        from redis.exceptions import ResponseError

        r, k = self.broker.redis, self.broker.keys
        while not self._stopping.is_set():
            if self.busy >= self.cap:
                self._freed.clear()
                await self._freed.wait()
                continue
            try:
                got = await self.broker.take(self.name, self.takes)
                if got is None:
                    # Blocked until a run this worker can run is queued: it returns as soon
                    # as one is (the timeout only bounds a nudge lost to a broker restart).
                    await r.blpop([k.wake(runtime) for runtime in self.takes], timeout=1)
                    continue
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    await self.broker.ensure_groups()
                    continue
                raise
            except (ConnectionError, OSError, Exception) as exc:  # noqa: BLE001 - Redis restarting
                log.debug("taking a run: %s", exc)
                await asyncio.sleep(0.5)
                continue
            self.busy += 1
            task = asyncio.create_task(self._carry_out(got), name=f"tui-sandbox-run-{got.run_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @property
    def takes(self) -> tuple[str, ...]:
        """The runtimes of the runs it takes: those it offers, and auto where one can be the default."""
        return self.runtimes + ((AUTO,) if self.default_runtime else ())

    # --- one run ----------------------------------------------------------------------

    async def _carry_out(self, taken: Taken) -> None:
        r, k = self.broker.redis, self.broker.keys
        run_id = taken.run_id
        try:
            if not taken.request:                  # the broker lost it: nothing to run
                await r.xack(k.work, WORKERS_GROUP, taken.entry_id)
                return
            carried = Carried(run_id, taken.entry_id, request_from_json(taken.request),
                              float(taken.queued_at or time.time()))
            self.carried[run_id] = carried
            await self._run(carried)
        except Exception:  # noqa: BLE001 - one run never takes the worker down
            log.exception("run %s", run_id)
        finally:
            self.carried.pop(run_id, None)
            self.busy -= 1
            self._freed.set()

    async def _run(self, carried: Carried) -> None:
        request = carried.request
        r, k = self.broker.redis, self.broker.keys
        try:
            # A run that names no runtime gets this worker's default, among the runtimes
            # it offers: from here on (its spare, its container, its result) it names it.
            request = carried.request = dataclasses.replace(
                request, limits=request.limits.resolved(self.runtimes))
            # A spare for the next run of this kind (service.core.host_sandbox bounds them).
            self.sandbox.warm(request.language, request.limits)
            options = {"interactive": request.interactive}
            if getattr(request, "expected_output", None) is not None:
                options["expected_output"] = request.expected_output
            carried.run = await asyncio.to_thread(self.sandbox.start, request.source, request.language,
                                                  request.limits, request.stdin, **options)
        except SandboxError as exc:
            await self._end(carried, failure=(exc.message, exc.fix))
            await reliably(lambda: r.xack(k.work, WORKERS_GROUP, carried.entry_id))
            return
        # From here the run is this worker's: if it dies now, the run ends as engine_error.
        carried.started_at = time.time()

        async def mark_started() -> None:
            async with r.pipeline(transaction=True) as pipe:
                pipe.hset(k.run(carried.id), mapping={"state": "running", "worker": self.name,
                                                      "started_at": carried.started_at})
                pipe.sadd(k.worker_runs(self.name), carried.id)
                pipe.xack(k.work, WORKERS_GROUP, carried.entry_id)
                pipe.xdel(k.work, carried.entry_id)
                await pipe.execute()

        await reliably(mark_started)
        control = asyncio.create_task(follow_control(self.broker, carried))
        try:
            await self._forward_events(carried)
        finally:
            control.cancel()
            await reliably(lambda: r.srem(k.worker_runs(self.name), carried.id))

    async def _forward_events(self, carried: Carried) -> None:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        done = object()

        def pump() -> None:
            try:
                for event in carried.run.events():
                    loop.call_soon_threadsafe(events.put_nowait, event)
            except SandboxError as exc:
                loop.call_soon_threadsafe(events.put_nowait, exc)
            except Exception as exc:  # noqa: BLE001 - the engine's connection broke
                loop.call_soon_threadsafe(events.put_nowait, SandboxError(
                    f"the engine stopped answering during the run ({exc})", "run it again"))
            finally:
                loop.call_soon_threadsafe(events.put_nowait, done)

        threading.Thread(target=pump, daemon=True, name=f"tui-sandbox-run-{carried.id}").start()
        ended = False
        while not ended:
            # Whatever has come meanwhile goes in one round trip (started and stats, the
            # last output and the end): fewer trips, the same order.
            batch = [await events.get()]
            while not events.empty():
                batch.append(events.get_nowait())
            sent: list[dict] = []
            for event in batch:
                if event is done:
                    ended = True
                elif isinstance(event, SandboxError):
                    await self._end(carried, failure=(event.message, event.fix), before=tuple(sent))
                    sent = []
                elif isinstance(event, Finished):
                    await self._end(carried, result=event.result, before=tuple(sent))
                    sent = []
                else:
                    sent.append(stream_event(carried.id, event))
            if sent:
                await reliably(lambda sent=sent: self.broker.publish(carried.id, *sent))

    async def _end(self, carried: Carried, result=None, failure: tuple[str, str | None] | None = None,
                   before: tuple[dict, ...] = ()) -> None:
        if result is not None and "worker" in {f.name for f in dataclasses.fields(result)}:
            result = dataclasses.replace(result, worker=self.name)
        carried.ended = True
        message = f"{failure[0]} (on worker {self.name})" if failure else ""
        record = record_of(carried.id, carried.request, queued_at=carried.queued_at, started_at=carried.started_at,
                           stdin=carried.given_input, result=result, failure_message=message)
        event = stream_event(carried.id, Finished(result) if result is not None else Failed(message, failure[1]))
        row = with_worker(record, self.name).to_dict()
        await reliably(lambda: self.broker.end(carried.id, row, event, before))


async def follow_control(broker: Broker, carried: Carried) -> None:
    """Cancel and typed input, from whichever front the client is on."""
    r, key, last = broker.redis, broker.keys.control(carried.id), "0"
    while True:
        try:
            answer = await r.xread({key: last}, block=1000, count=100)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the broker restarts
            await asyncio.sleep(0.5)
            continue
        for _stream, entries in answer or []:
            for entry_id, fields in entries:
                last = entry_id
                carried.apply(fields)


async def reliably(call) -> None:
    """call() until the broker takes it: an outage of Redis is waited out (the heartbeat
    says it on stderr), a refusal of the call for a while."""
    deadline = time.monotonic() + RETRY_FOR_S
    while True:
        try:
            await call()
            return
        except Exception as exc:  # noqa: BLE001 - ConnectionError and its kin
            if not is_outage(exc) and time.monotonic() > deadline:
                log.error("the broker did not take a run's event for %d s: %s", RETRY_FOR_S, exc)
                return
            await asyncio.sleep(0.25)
