"""The service's core: every run on this host goes through here, whichever front it
came from (HTTP, Piston, the classroom's apps).

    service = SandboxService(max_running=2, rate="30/minute")
    await service.start()
    job = await service.submit(RunRequest(source="print(1)", language="python", user="ada"))
    async for event in job.events(): ...      # Queued, Started, Output, Stats, ..., Finished
    await service.stop()                      # cancels everything, removes every container

Runs wait in a fair queue (queue.py) in front of a host-wide cap on running containers;
each waiting run hears its place in line. A user may not ask for more than the
operator's ceilings, nor more often than the rate limit (the requests and the refusals:
requests.py). Every run's request and result go to the history, whatever way it ended.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING

from runner import Failed, Finished, Queued, RunResult, Sandbox, SandboxError

from ..history.store import History
from .demo_board import DemoBoard, MemoryDemoBoard
from .held import DEFAULT_FINISHED_BYTES, HeldJobs
from .job import Job, ServiceEvent
from .outcomes import record_of, unrun_result
from .queue import FairQueue, QueueFull, UserQueueFull
from .rates import RateLimit
from .requests import Busy, CeilingExceeded, Ceilings, RateLimited, Refused, RunRequest, Stopping, admit

# What the service is asked and what it refuses live in requests.py; they are named
# here too, where the fronts and the tests have always found them.
__all__ = ["SandboxService", "host_sandbox", "Job", "Failed", "ServiceEvent", "STOP_WAIT_S", "Refused",
           "CeilingExceeded", "RateLimited", "Busy", "Stopping", "Ceilings", "RunRequest"]

log = logging.getLogger("tui_sandbox.service")

# A run asked for and not begun within this long of a stop is cancelled, not waited for.
STOP_WAIT_S = 20.0

# Warm spares a host keeps for each place under its cap, made or in the making. A waiting
# spare executes nothing, so spares do not count against the cap, which bounds what runs
# at once: the programs' CPU (half a core each) and their memory limits. A spare costs
# ~4-6.5 MB (its containerd shim 3.8-5.8 MB and its init 0.2-0.4 MB of PSS, measured; its
# memory limit is only ever filled by a program) and the engine's CPU to make it, which a
# run without a spare spends anyway, inside its place. What the number decides is how many
# are made at once (spares.py): with a spare a run holds its place ~30-50 ms, so a cap of 2
# can take ~20 spares a second; one takes the engine ~100 ms to make alone, 250-400 ms with
# both cores busy (bench/service.py), so by Little's law 20 a second needs 5-8 in the
# making. Four a place: 8 on a 2-core host, ~32 MB, a quarter of one run's memory limit.
# With three, the cores sat idle 1.3-3% of a busy phase while every maker waited on the
# engine (its fsyncs); with four, 1.0-1.1%, and 0.3-0.8 runs a second more in three of
# four pairs of runs of the bench. More only adds memory and a burst of engine work when
# a class starts at once. All of one kind may have them all: a class mostly runs one.
SPARES_PER_PLACE = 4


def host_sandbox(cap: int) -> Sandbox:
    """The engine of one host running up to `cap` runs at once (the service, a cluster's
    worker), with its warm spares sized for that cap."""
    spares = SPARES_PER_PLACE * cap
    return Sandbox(spares_per_kind=spares, warm_kinds=4, spares_in_all=spares)


class SandboxService:
    def __init__(self, sandbox: Sandbox | None = None, *, max_running: int | None = None,
                 per_user: int = 3, max_waiting: int = 100, rate: str | None = None,
                 ceilings: Ceilings | None = None, history: History | None = None,
                 finished_memory_bytes: int = DEFAULT_FINISHED_BYTES) -> None:
        self.cap = max_running or os.cpu_count() or 1
        self.sandbox = sandbox or host_sandbox(self.cap)
        self.ceilings = ceilings or Ceilings()
        self.history = history
        self.demo: DemoBoard = MemoryDemoBoard()
        self.queue: FairQueue[Job] = FairQueue(per_user=per_user, total=max_waiting)
        self._rate = RateLimit(rate) if rate else None
        # Finished runs stay reachable (their result over GET) within a budget; older ones
        # are read from the history.
        self.jobs = HeldJobs(finished_memory_bytes)
        self.running: set[Job] = set()
        self._wake = asyncio.Event()
        self._scheduler: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._stopping = False
        self.started_at = time.time()

    # --- life ------------------------------------------------------------------------

    async def start(self) -> None:
        self._scheduler = asyncio.create_task(self._schedule(), name="tui-sandbox-scheduler")
        # Connect now, off the loop: a missing engine is known at once, not at the first run.
        try:
            await asyncio.to_thread(lambda: self.sandbox.info)
        except SandboxError:
            pass   # /health says so, and every run fails with the fix until it comes

    async def stop(self) -> None:
        """Take no more work, cancel what waits and what runs, remove every container."""
        self._stopping = True
        while (job := self.queue.pop()) is not None:
            self._finish_unrun(job, "Cancelled: the server is stopping")
        for job in list(self.running):
            self.cancel(job)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_WAIT_S)
        if self._scheduler is not None:
            self._scheduler.cancel()
        if self.history is not None:       # the rows a full disk held back: a last try, else named
            await asyncio.to_thread(self.history.flush, True)
        await asyncio.to_thread(self.sandbox.close)

    # --- asking for runs -------------------------------------------------------------

    async def submit(self, request: RunRequest, *, job_id: str | None = None) -> Job:
        """Check the request and queue it; raises Refused (or SandboxError for a bad
        language or limits, or no engine) with a message for the client. job_id: the id
        a front gives its runs in its own form (Judge0's tokens are UUIDs)."""
        request = await admit(request, self.sandbox, self.ceilings, lambda: self._stopping)
        if self._rate is not None:
            self._rate.hit(request.user)
        job = Job(request, job_id)
        try:
            self.queue.put(request.user, job)
        except UserQueueFull as exc:
            error = Busy(str(exc), "wait for one of them to finish")
            error.retry_after = 5
            raise error from None
        except QueueFull as exc:
            error = Busy(str(exc), "try again in a moment")
            error.retry_after = 5
            raise error from None
        self.jobs[job.id] = job
        self.sandbox.warm(self.sandbox.language(request.language), request.limits)
        # The scheduler tells the runs left waiting their places: a run that starts at
        # once hears no "queued" (it would only flash by, one more frame a run).
        self._wake.set()
        return job

    def cancel(self, job: Job) -> None:
        if job.done:
            return
        if job.state == "queued" and self.queue.remove(job.request.user, job):
            job.request_cancel()
            self._finish_unrun(job, "Cancelled while waiting in the queue")
            self._announce_places()
        else:
            job.request_cancel()

    @property
    def stopping(self) -> bool:
        """stop() has begun: no new work is taken."""
        return self._stopping

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def status(self) -> dict:
        return {"running": len(self.running), "queued": len(self.queue), "cap": self.cap}

    # --- inside ----------------------------------------------------------------------

    def _announce_places(self) -> None:
        for position, job in enumerate(self.queue.order(), start=1):
            event = Queued(position, len(self.running), self.cap)
            if not job.log or job.log[-1] != event:
                job.emit(event)

    async def _schedule(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while len(self.running) < self.cap and (job := self.queue.pop()) is not None:
                self.running.add(job)
                task = asyncio.create_task(self._carry_out(job), name=f"tui-sandbox-run-{job.id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._announce_places()

    async def _carry_out(self, job: Job) -> None:
        loop = asyncio.get_running_loop()
        job.state, job.started_at = "running", time.time()
        request = job.request

        def run_in_thread() -> None:
            # The history row is written before the end is told: a client that has its
            # result can always read it back from GET /runs.
            try:
                run = self.sandbox.start(request.source, request.language, request.limits, request.stdin,
                                         interactive=request.interactive,
                                         expected_output=request.expected_output)
                job.attach(run)
                for event in run.events():
                    if isinstance(event, Finished):
                        self._record(job, event.result)
                    loop.call_soon_threadsafe(job.emit, event)
            except SandboxError as exc:
                self._record(job, failure=Failed(exc.message, exc.fix))
                loop.call_soon_threadsafe(job.emit, Failed(exc.message, exc.fix))
            except OSError as exc:   # the engine's connection broke (it restarted, or went away)
                failure = Failed(f"the engine stopped answering during the run ({exc})",
                                 "try again; if it persists, check the engine: tui-sandbox doctor")
                self._record(job, failure=failure)
                loop.call_soon_threadsafe(job.emit, failure)
            except Exception as exc:  # noqa: BLE001 - a run never takes the service down
                failure = Failed(f"the run failed unexpectedly: {exc!r}")
                self._record(job, failure=failure)
                loop.call_soon_threadsafe(job.emit, failure)

        try:
            await asyncio.to_thread(run_in_thread)
        finally:
            job.detach()
            self.running.discard(job)
            self._wake.set()

    def _finish_unrun(self, job: Job, reason: str) -> None:
        """A job that never reached a container: it still ends with a result, and a row."""
        result = unrun_result(job.request, self.sandbox.language(job.request.language).name, reason)
        self._record(job, result)
        job.emit(Finished(result))

    def _record(self, job: Job, result: RunResult | None = None, failure: Failed | None = None) -> None:
        if self.history is None:
            return
        record = record_of(job.id, job.request, queued_at=job.queued_at, started_at=job.started_at,
                           stdin=job.given_input, result=result, failure_message=failure.message if failure else "")
        try:
            self.history.add(record)       # a full disk: held, and said once, by the history itself
        except Exception as exc:  # noqa: BLE001 - a history that fails must not stop the runs
            log.error("could not write run %s to the history at %s: %s", job.id, self.history.path, exc)


if TYPE_CHECKING:
    from .interface import Service

    def _is_a_service(service: SandboxService) -> Service:
        """mypy holds this host's service to the interface every front is written against."""
        return service
