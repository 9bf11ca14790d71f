"""A front of the cluster: the service the HTTP API, Piston, the web page and the
classroom are written against (service.core.SandboxService's interface), with its
queue, cap and state in the broker, so that any number of fronts share one fair queue,
one set of workers and one history, and none holds a run of its own.

    service = ClusterService("redis://broker:6379/0", per_user=3, rate="30/minute", history=...)
    await service.start(); job = await service.submit(request); ...; await service.stop()

Each front follows every run under way (its own and the other fronts', for the class
view), announces their places in the cluster's line, writes the history's rows
(results.py) and settles workers that died (reaper.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import TYPE_CHECKING

from runner import Failed, Finished, Queued

from ..service.held import DEFAULT_FINISHED_BYTES, HeldJobs
from ..service.job import Job
from ..service.outcomes import record_of, unrun_result
from ..service.queue import round_robin
from ..service.rates import RateLimit
from ..service.requests import Busy, Ceilings, RunRequest, admit
from .broker import Broker, request_from_json
from .demo_board import RedisDemoBoard
from .engine import ClusterEngine
from .jobs import ClusterJob
from .outage import Outage, describe, is_outage, refused_while_down
from .reaper import reap_gone_workers
from .results import HistoryWriter

log = logging.getLogger("tui_sandbox.cluster")

REFRESH_S = 0.25
# How long the broker may be away before the runs this front follows are given up (their
# clients told why): a restart of Redis is shorter, and costs them only a pause.
GIVE_UP_S = 15.0
HAND_OVER_S = 8.0      # on SIGTERM, how long a front waits for its clients' runs (uvicorn then gives 10 s more)


class ClusterQueue:
    """The cluster's fair queue as last read from the broker: what views and the class
    view ask of a queue (its order, each user's waiting, its size)."""

    def __init__(self, jobs: HeldJobs, total: int) -> None:
        self.total = total                  # the most runs that may wait, in the whole cluster
        self.lines: list[tuple[str, list[str]]] = []
        self.jobs = jobs

    def __len__(self) -> int:
        return sum(len(ids) for _user, ids in self.lines)

    def ids(self) -> list[str]:
        return list(round_robin([ids for _user, ids in self.lines]))

    def order(self):
        return (self.jobs[run_id] for run_id in self.ids() if run_id in self.jobs)

    def waiting(self, user: str) -> int:
        return next((len(ids) for name, ids in self.lines if name == user), 0)


class ClusterService:
    def __init__(self, broker_url: str, *, per_user: int = 3, max_waiting: int = 100, rate: str | None = None,
                 ceilings: Ceilings | None = None, history=None,
                 finished_memory_bytes: int = DEFAULT_FINISHED_BYTES) -> None:
        self.broker_url = broker_url
        self.broker = Broker(broker_url)
        self.name = f"front-{socket.gethostname()}-{os.getpid()}"
        self.per_user, self.max_waiting = per_user, max_waiting
        self.ceilings = ceilings or Ceilings()
        self.history = history
        self.demo = RedisDemoBoard(self.broker)         # one class: a push at any front reaches every student
        self.sandbox = ClusterEngine(self)
        # The runs this front follows (its own and the other fronts'), as the service holds them.
        self.jobs = HeldJobs(finished_memory_bytes)
        self.queue = ClusterQueue(self.jobs, max_waiting)
        self.workers: dict[str, dict] = {}
        self._rate_text = rate
        self._rate: RateLimit | None = None
        self._tasks: set[asyncio.Task] = set()
        self._loops: list[asyncio.Task] = []
        self._refreshing: asyncio.Task | None = None
        self._stopping = False
        self._accepted: set[str] = set()     # the runs asked for at this front
        self._handed_over = False
        self.outage = Outage(broker_url, "tui-sandbox front", "new runs are refused (503) until it is back; "
                             f"the runs under way wait for it, for {GIVE_UP_S:g} s")
        self.started_at = time.time()

    # --- life ------------------------------------------------------------------------

    async def start(self) -> None:
        """Raises BrokerError (one line, with the fix) when the broker cannot be used."""
        await self.broker.check()
        await self.broker.ensure_groups()
        if self._rate_text:
            from limits.storage import storage_from_string

            self._rate = RateLimit(self._rate_text, storage_from_string(self.broker_url))
        self.sandbox._loop = asyncio.get_running_loop()
        await self._refresh()
        self._loops = [asyncio.create_task(self._watch(), name="tui-sandbox-cluster-watch")]
        if self.history is not None:
            writer = HistoryWriter(self.broker, self.history, self.name)
            self._loops.append(asyncio.create_task(writer.run(), name="tui-sandbox-history-writer"))

    async def stop(self, grace_s: float = HAND_OVER_S) -> None:
        """SIGTERM: take no more runs, and hand over those under way rather than cancel
        them (a killed front's runs finish too, and a stopped one is no harsher). For up
        to grace_s the runs this front accepted go on being followed, so the clients
        waiting here get their results; any still going then carry on on their workers,
        reach the history, and are read from another front (GET /runs/{id})."""
        self._stopping = True
        mine = [job for job in self.jobs.values() if job.id in self._accepted and not job.done]
        if mine:
            await asyncio.wait([asyncio.ensure_future(job.wait_quietly()) for job in mine], timeout=grace_s)
        self._handed_over = True
        for task in self._loops:
            task.cancel()
        for job in list(self.jobs.values()):
            if isinstance(job, ClusterJob):
                job.forget()
        await self.broker.close()

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def cap(self) -> int:
        return sum(w["cap"] for w in self.workers.values() if w["up"])

    @property
    def running(self) -> list[Job]:
        return [job for job in self.jobs.values() if job.state == "running"]

    # --- asking for runs -------------------------------------------------------------

    async def submit(self, request: RunRequest, *, job_id: str | None = None) -> Job:
        request = await admit(request, self.sandbox, self.ceilings, lambda: self._stopping)
        job = ClusterJob(request, job_id or os.urandom(8).hex(), self.broker)
        job.on_lost = self._lost
        try:
            with refused_while_down(self.broker_url):
                if self._rate is not None:
                    await asyncio.to_thread(self._rate.hit, request.user)
                code, count = await self.broker.admit(job.id, request, per_user=self.per_user,
                                                      total=self.max_waiting, queued_at=job.queued_at,
                                                      front=self.name)
        except BaseException:
            job.forget()
            raise
        if code != 0:
            job.forget()
            if code == -1:
                error = Busy(f"{request.user} already has {count} runs waiting (the most is {self.per_user})",
                             "wait for one of them to finish")
            else:
                error = Busy(f"the queue is full ({count} runs waiting)", "try again in a moment")
            error.retry_after = 5
            raise error
        self.jobs[job.id] = job
        self._accepted.add(job.id)
        self._accepted.intersection_update(self.jobs)
        self._refresh_soon()             # its place in line, told without holding up its run
        return job

    def cancel(self, job: Job) -> None:
        if job.done or not isinstance(job, ClusterJob) or self._handed_over:
            return                     # handed over: the connection closing with the front is no cancel
        self._spawn(self._cancel(job))

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def status(self) -> dict:
        return {"running": sum(w["running"] for w in self.workers.values() if w["up"]),
                "queued": len(self.queue), "cap": self.cap}

    # --- inside ----------------------------------------------------------------------

    async def _cancel(self, job: ClusterJob) -> None:
        try:
            withdrawn = job.state == "queued" and await self.broker.withdraw(job.id, job.request.user)
        except Exception as exc:
            if not is_outage(exc):
                raise
            withdrawn = False            # the cancel waits in the job's outbox for the broker
        if withdrawn:
            result = unrun_result(job.request, self.sandbox.language(job.request.language).name,
                                  "Cancelled while waiting in the queue")
            await self._end_here(job, result=result)
        else:
            job.request_cancel()

    async def _end_here(self, job: ClusterJob, result=None, failure: Failed | None = None) -> None:
        """End a run no worker will: its row and its last event, through the broker."""
        from ..service.views import stream_event

        record = record_of(job.id, job.request, queued_at=job.queued_at, started_at=job.started_at,
                           stdin=job.given_input, result=result, failure_message=failure.message if failure else "")
        event = Finished(result) if result is not None else failure
        try:
            await self.broker.end(job.id, record.to_dict(), stream_event(job.id, event))
        finally:
            job.emit(event)                # its client hears its end, whether the broker took it or not

    def _lost(self, job: ClusterJob) -> None:
        failure = Failed("the broker lost this run (Redis restarted without its data) before a worker took it",
                         "run it again")
        self._spawn(self._end_here(job, failure=failure))

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._settled)
        return task

    def _settled(self, task: asyncio.Task) -> None:
        """A task of this front's has ended: what went wrong is one line in the log."""
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("tui-sandbox front: %s failed: %s", task.get_name(), exc)

    def _refresh_soon(self) -> None:
        """One refresh for however many runs were asked for meanwhile."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = self._spawn(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        try:
            await self._refresh()
        except Exception as exc:  # noqa: BLE001 - the broker restarts: the watch reads again
            log.debug("refresh: %s", exc)

    async def _watch(self) -> None:
        beat = 0
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                await self._refresh()
                self.outage.answered()
                beat += 1
                if beat % 4 == 0:
                    await self._follow_the_class()
                    await reap_gone_workers(self.broker, self.name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the broker restarts: read again in a moment
                if not self.outage.failed(exc):
                    log.debug("watch: %s", exc)
                elif self.outage.lasted > GIVE_UP_S:
                    self._give_up()

    def _give_up(self) -> None:
        """The broker has been away too long: every run followed here ends for its client,
        with the reason. A run that a worker carries out still reaches the history (the
        worker keeps its result until the broker is back)."""
        failure = Failed(f"{describe(self.broker_url)}: this front stopped waiting for the run's end",
                         "if it ran, its result reaches the history once Redis is back (GET /runs/{id}); "
                         "else run it again")
        for job in list(self.jobs.values()):
            if not job.done:
                job.emit(failure)

    async def _refresh(self) -> None:
        """The queue's order and the workers, from the broker; each waiting run hears its place."""
        self.queue.lines = await self.broker.waiting_lines()
        self.workers = await self.broker.workers()
        status = self.status()
        for position, run_id in enumerate(self.queue.ids(), start=1):
            job = self.jobs.get(run_id)
            if job is not None and job.state == "queued":
                event = Queued(position, status["running"], status["cap"])
                if not job.log or job.log[-1] != event:
                    job.emit(event)

    async def _follow_the_class(self) -> None:
        """Follow the runs other fronts accepted too, so the class view shows them all."""
        r, k = self.broker.redis, self.broker.keys
        for run_id in await r.smembers(k.live):
            if run_id in self.jobs:
                continue
            fields = await r.hgetall(k.run(run_id))
            if fields.get("request"):
                job = ClusterJob(request_from_json(fields["request"]), run_id, self.broker,
                                 queued_at=float(fields.get("queued_at") or time.time()))
                job.on_lost = self._lost
                self.jobs[run_id] = job


if TYPE_CHECKING:
    from ..service.interface import Service

    def _is_a_service(service: ClusterService) -> Service:
        """mypy holds the cluster's front to the interface every front is written against."""
        return service
