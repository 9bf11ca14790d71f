"""A run asked of a service, from the queue to its result: what the fronts follow (its
events, its state, its result) and send (its typed input, a cancel), the same whichever
service carries it out (core.SandboxService on this host, or a cluster's front, whose
cluster.jobs.ClusterJob is one of these)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import AsyncIterator, Callable

from runner import Failed, Finished, RunHandle, RunResult, SandboxError, WireEvent

from .requests import RunRequest

# What a job says: the engine's events, its place in the queue, or that it failed.
ServiceEvent = WireEvent


class Job:
    """One run asked of the service, from the queue to its result. Its events are kept
    while it runs, so any number of watchers (the client, a teacher's view) can follow it
    from the start; once it has ended it keeps its result and its last event alone."""

    def __init__(self, request: RunRequest, id: str | None = None) -> None:
        self.id = id or uuid.uuid4().hex[:16]
        self.request = request
        self.queued_at = time.time()
        self.started_at: float | None = None
        self.state = "queued"             # queued, running, finished, failed
        self.result: RunResult | None = None
        self.failure: Failed | None = None
        self.log: list[ServiceEvent] = []
        self._changed = asyncio.Event()
        self._run: RunHandle | None = None   # the engine's run, while it runs
        self._cancelled = threading.Event()
        self._input_lock = threading.Lock()
        self._early_input: list[tuple[str, bool]] = []   # sent before the run began
        self._typed: list[str] = []                       # all of it, for the history
        self.on_end: Callable[[Job], None] | None = None  # told once, when it has ended (held.HeldJobs)

    @property
    def done(self) -> bool:
        return self.state in ("finished", "failed")

    def send_input(self, text: str) -> None:
        """More of an interactive run's standard input; kept in order until it runs."""
        self._input(text, end=False)

    def close_input(self) -> None:
        """End of file on an interactive run's standard input."""
        self._input("", end=True)

    def _input(self, text: str, end: bool) -> None:
        if not self.request.interactive:
            raise ValueError("this run was not asked for as interactive: its input was given whole")
        with self._input_lock:
            self._typed.append(text)
            self._deliver(text, end)

    def _deliver(self, text: str, end: bool) -> None:
        """Hand typed input on, in order, with the input lock held: to the engine's run,
        or kept until it begins. (A cluster's job sends it to the worker instead.)"""
        if self._run is None:
            self._early_input.append((text, end))
        elif end:
            self._run.close_input()
        else:
            self._run.send_input(text)

    @property
    def given_input(self) -> str:
        """What the program was given to read: the request's input, then what was typed."""
        with self._input_lock:
            return (self.request.stdin or "") + "".join(self._typed)

    # --- what the service that carries it out does to it ---------------------------------

    def attach(self, run: RunHandle) -> None:
        """The engine's run has begun: it takes what was typed meanwhile, in order, and a
        cancel asked for meanwhile."""
        with self._input_lock:
            self._run = run
            for text, end in self._early_input:
                run.close_input() if end else run.send_input(text)
            self._early_input.clear()
        if self.cancel_requested:
            run.cancel()

    def detach(self) -> None:
        """The engine's run is over (its end is told by emit)."""
        with self._input_lock:
            self._run = None

    def request_cancel(self) -> None:
        """Cancel it: its run now if it has one, else as soon as it gets one (attach)."""
        self._cancelled.set()
        with self._input_lock:
            run = self._run
        if run is not None:
            run.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self._cancelled.is_set()

    def emit(self, event: ServiceEvent) -> None:
        """On the event loop only."""
        self.log.append(event)
        if isinstance(event, Finished):
            self.state, self.result = "finished", event.result
        elif isinstance(event, Failed):
            self.state, self.failure = "failed", event
        if self.done:
            # Its output is in the result now: the stream goes (the watchers following it
            # keep the list they read), and a watcher from now on hears the end alone.
            self.log = [event]
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        if self.done and self.on_end is not None:
            self.on_end(self)

    def events(self) -> AsyncIterator[ServiceEvent]:
        """Every event from the first, then each as it comes, until the run has ended. A
        watcher has the events of the moment it asks: one that asked before the end has
        every one, even if it reads them after."""
        return self._read(self.log)

    async def _read(self, log: list[ServiceEvent]) -> AsyncIterator[ServiceEvent]:
        seen = 0
        while True:
            changed = self._changed
            while seen < len(log):
                seen += 1
                yield log[seen - 1]
            if self.done:
                return
            await changed.wait()

    async def wait(self) -> RunResult:
        """The result; raises SandboxError if the engine could not run it."""
        async for _ in self.events():
            pass
        if self.failure is not None:
            raise SandboxError(self.failure.message, self.failure.fix)
        assert self.result is not None
        return self.result
